import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'

/** How a spawned process ended, once it has. */
export interface ExitInfo {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** True while `pid` exists and is not a zombie (a zombie holds no port and no memory). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    // EPERM: it exists but belongs to someone else; still alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true // no /proc (not Linux): kill(0) is the best we have
  }
}

/** Sends a signal, ignoring "no such process" (it is already gone, which is what we wanted). */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

export const sleep = async (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms)
  })

/** Polls until `pid` is gone; false if it is still there after `timeoutMs`. */
export async function waitForPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false
    await sleep(20)
  }
  return true
}

/**
 * Stops a process by pid: SIGCONT first (a SIGSTOPped process leaves SIGTERM
 * pending forever), SIGTERM, then SIGKILL once `graceMs` has passed. Works on
 * processes that are not our children, which is what global teardown needs.
 */
export async function terminatePid(pid: number, graceMs = 2000): Promise<void> {
  if (!isAlive(pid)) return
  signal(pid, 'SIGCONT')
  signal(pid, 'SIGTERM')
  if (await waitForPidExit(pid, graceMs)) return
  signal(pid, 'SIGKILL')
  if (!(await waitForPidExit(pid, 5000))) {
    throw new Error(`process ${pid} is still alive after SIGKILL`)
  }
}

/**
 * A detached shell that SIGKILLs `childPid` once `ownerPid` is gone, so a
 * service never outlives a jest process that was itself SIGKILLed (no 'exit'
 * handler runs then). It leaves quietly when the child goes first, and only
 * kills when the owner is really gone, so a recycled child pid is never hit
 * while the owner lives.
 */
export function startWatchdog(ownerPid: number, childPid: number, pollSeconds = 0.5): ChildProcess {
  const script = [
    'alive() { kill -0 "$1" 2>/dev/null || return 1; [ -r "/proc/$1/stat" ] || return 0; ! grep -q "^[0-9]* (.*) Z" "/proc/$1/stat"; }',
    `while alive "$1" && alive "$2"; do sleep ${pollSeconds}; done`,
    'if ! alive "$1"; then kill -CONT "$2" 2>/dev/null; kill -KILL "$2" 2>/dev/null; fi',
  ].join('\n')
  const watchdog = spawn('sh', ['-c', script, 'middy-cache-watchdog', String(ownerPid), String(childPid)], {
    detached: true, // own process group: a Ctrl+C or a kill of jest's group does not take it down first
    stdio: 'ignore',
  })
  watchdog.on('error', () => undefined) // no sh: the 'exit' handler below is all we have
  watchdog.unref()
  return watchdog
}

// Last-resort cleanup when the owning process exits normally. In the main jest
// process (global setup) this is the real process; inside a test file jest
// hands out a copy of `process` whose 'exit' never fires, so there the
// watchdog above is what guarantees cleanup.
const livePids = new Set<number>()
const killLivePids = (): void => {
  for (const pid of livePids) {
    signal(pid, 'SIGKILL')
  }
}

function track(pid: number): void {
  if (livePids.size === 0) process.on('exit', killLivePids)
  livePids.add(pid)
}

function untrack(pid: number): void {
  livePids.delete(pid)
  if (livePids.size === 0) process.removeListener('exit', killLivePids)
}

/** A child process whose output goes to a file (a pipe nobody reads would fill and block it). */
export interface ManagedProcess {
  readonly child: ChildProcess
  readonly pid: number
  readonly watchdogPid: number | undefined
  /** Resolves once the process has exited and been reaped. */
  readonly exited: Promise<ExitInfo>
  /** Undefined while it runs. */
  exitInfo(): ExitInfo | undefined
}

export interface SpawnOptions {
  readonly logFile: string
  readonly cwd: string
  readonly env?: NodeJS.ProcessEnv
}

/**
 * Spawns `command`, waits until the OS has started it, and guards it with a
 * watchdog. Rejects with the spawn error (ENOENT for a missing binary).
 */
export async function spawnManaged(command: string, args: readonly string[], options: SpawnOptions): Promise<ManagedProcess> {
  const out = openSync(options.logFile, 'a')
  let child: ChildProcess
  try {
    child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', out, out],
    })
  } finally {
    closeSync(out) // the child holds its own copy of the descriptor
  }
  let info: ExitInfo | undefined
  // Listen before anything is awaited: a binary that fails at once may exit early.
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, exitSignal) => {
      info = { code, signal: exitSignal }
      resolve(info)
    })
  })
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', reject)
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`${command} started without a pid`)
  const watchdog = startWatchdog(process.pid, pid)
  track(pid)
  void exited.then(() => {
    untrack(pid)
    // The watchdog has nothing left to guard. kill() is a no-op if it already left.
    if (watchdog.exitCode === null && watchdog.signalCode === null) watchdog.kill('SIGKILL')
  })
  return { child, pid, watchdogPid: watchdog.pid, exited, exitInfo: () => info }
}

/** Resolves true once `managed` has exited, false if it still runs after `timeoutMs`. */
export async function waitForExit(managed: ManagedProcess, timeoutMs: number): Promise<boolean> {
  if (managed.exitInfo() !== undefined) return true
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      resolve(false)
    }, timeoutMs)
  })
  try {
    return await Promise.race([managed.exited.then(() => true as const), timedOut])
  } finally {
    clearTimeout(timer)
  }
}
