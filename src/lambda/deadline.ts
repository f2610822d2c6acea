import { timeoutAfterPendingIo } from '../cache/clock.js'
import { CacheError } from '../cache/errors.js'

/** A signal that aborts after a time; `clear` it once the work is done so that no timer outlives the invocation. */
export interface Deadline {
  readonly signal: AbortSignal
  clear(): void
}

/*
 * These timers are ref'd on purpose: they are always cleared or fired before the invocation
 * answers, so they never span a freeze, and while one runs the event loop is not empty. An
 * unref'd timer as the only thing an invocation awaits lets the loop drain, and the Lambda
 * Node.js runtime then ends the invocation with an error (its beforeExit listener).
 */

/** Aborts with a CacheError saying `what` took more than `ms`; not work whose answer was already there to be read (see `timeoutAfterPendingIo`). */
export const deadlineAfter = (ms: number, what: string): Deadline => {
  const controller = new AbortController()
  let cleared = false
  const timer = timeoutAfterPendingIo(() => {
    if (!cleared) controller.abort(new CacheError(`middy-cache: ${what} took more than ${ms} ms`))
  }, ms)
  return {
    signal: controller.signal,
    clear: () => {
      cleared = true
      clearTimeout(timer)
    },
  }
}

/** Waits `ms`, or less when `signal` aborts first. Never rejects. */
export const hold = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted || ms <= 0) {
      resolve()
      return
    }
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
