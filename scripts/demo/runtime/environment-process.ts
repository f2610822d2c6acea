// One execution environment: a process of its own, as on Lambda, so module-level state (the caches,
// the cold-start flag, the clocks) belongs to this environment alone. It loads the bundled handler
// once (INIT), then serves one invocation at a time until the runtime goes away.
import type { Context } from 'aws-lambda'
import { createRequire } from 'node:module'
import { invocationContext } from './context.js'
import { installFrozenTime, type FrozenTime } from './frozen-time.js'
import type { FromEnvironment, InitMessage, InvocationError, InvokeMessage, ToEnvironment } from './messages.js'
import { captureOutput, type OutputCapture } from './output-capture.js'

type Handler = (event: unknown, context: Context) => Promise<unknown>

interface Loaded {
  readonly init: InitMessage
  readonly handler: Handler
  readonly time: FrozenTime
  readonly output: OutputCapture
}

const send = (message: FromEnvironment): void => {
  process.send?.(message)
}

const errorOf = (error: unknown): InvocationError =>
  error instanceof Error ? { type: error.name, message: error.message } : { type: 'Error', message: String(error) }

const load = (init: InitMessage): Loaded => {
  // Before the handler's module runs: its caches must read the frozen-time clocks and its output
  // must be captured from the first line.
  const time = installFrozenTime(init.wallClockOffsetMs)
  const output = captureOutput()
  const started = time.realNow()
  const exported: unknown = createRequire(import.meta.url)(init.bundlePath)
  const handler = (exported as { handler?: unknown } | undefined)?.handler
  if (typeof handler !== 'function') throw new Error(`${init.bundlePath} exports no handler function`)
  send({ kind: 'ready', initMs: time.realNow() - started })
  return { init, handler: handler as Handler, time, output }
}

const invoke = async ({ init, handler, time, output }: Loaded, message: InvokeMessage): Promise<void> => {
  const started = time.realNow()
  let outcome: { payload: unknown } | { error: InvocationError }
  try {
    outcome = { payload: await handler(message.event, invocationContext(init, message)) }
  } catch (error) {
    outcome = { error: errorOf(error) }
  }
  send({ kind: 'result', requestId: message.requestId, durationMs: time.realNow() - started, ...outcome, output: output.take() })
}

let loaded: Loaded | undefined
process.on('message', (message: ToEnvironment) => {
  switch (message.kind) {
    case 'init':
      try {
        loaded = load(message)
      } catch (error) {
        send({ kind: 'init-failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
      }
      return
    case 'invoke':
      if (loaded !== undefined) void invoke(loaded, message)
      return
    case 'advance-clock':
      loaded?.time.advance(message.ms)
      return
  }
})
// The runtime is gone (finished, failed or interrupted): so is this environment.
process.on('disconnect', () => {
  process.exit(0)
})
