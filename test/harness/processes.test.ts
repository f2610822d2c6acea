import { spawn } from 'node:child_process'
import { isAlive, startWatchdog, terminatePid, waitForPidExit } from './processes.js'

test('the watchdog kills the service once its owner process is gone', async () => {
  // Stand-ins: the "owner" lives 300 ms, the "service" would live a minute.
  const owner = spawn('sleep', ['0.3'], { stdio: 'ignore' })
  const service = spawn('sleep', ['60'], { stdio: 'ignore' })
  const exitSignal = new Promise<NodeJS.Signals | null>((resolve) => {
    service.once('exit', (_code, signal) => {
      resolve(signal)
    })
  })
  try {
    const watchdog = startWatchdog(owner.pid!, service.pid!, 0.1)
    expect(watchdog.pid).toBeDefined()
    expect(await waitForPidExit(service.pid!, 5000)).toBe(true)
    expect(await exitSignal).toBe('SIGKILL')
    expect(await waitForPidExit(watchdog.pid!, 2000)).toBe(true)
  } finally {
    service.kill('SIGKILL')
  }
})

test('the watchdog leaves when the service exits first and kills nothing', async () => {
  const service = spawn('sleep', ['0.2'], { stdio: 'ignore' })
  const watchdog = startWatchdog(process.pid, service.pid!, 0.1)
  expect(await waitForPidExit(watchdog.pid!, 3000)).toBe(true)
  expect(isAlive(process.pid)).toBe(true)
})

test('terminatePid ends a stopped process by pid', async () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' })
  child.kill('SIGSTOP')
  await terminatePid(child.pid!, 500)
  expect(isAlive(child.pid!)).toBe(false)
})
