/** Milliseconds from an arbitrary origin; must never go backwards. */
export type Clock = () => number

// Held once: the global `performance` is an accessor, read again on every call otherwise.
const { performance: performanceOfProcess } = globalThis
/** Monotonic, so freshness survives wall-clock corrections; a freeze simply shows up as elapsed time. */
export const monotonicClock: Clock = () => performanceOfProcess.now()

/**
 * How late a timer must fire to be taken for a freeze rather than a busy process. A Lambda function
 * with little memory gets a fraction of a vCPU: its timers can fire tens of milliseconds late while
 * it runs, and those are real timeouts. The freezes this judgement is for (an INIT frozen under
 * provisioned concurrency or SnapStart, an environment idle between invocations) last far longer.
 */
const shortestFreezeMs = 1_000

/**
 * Whether a wait given `timeoutMs` from `startedAt` ended two timeouts or more, and a second or more
 * past its timeout, after it began: no running process watched it, as its own timer would have fired
 * on time. Lambda froze the environment with it pending, and at the thaw every due timer runs before
 * any socket is read; what the timer reports then tells nothing of the work it was timing.
 */
export const endedAfterFreeze = (startedAt: number, timeoutMs: number): boolean => {
  const elapsedMs = monotonicClock() - startedAt
  return elapsedMs >= 2 * timeoutMs && elapsedMs - timeoutMs >= shortestFreezeMs
}

/**
 * How long a load may run before it is taken for one left running across a freeze: twice the
 * longest INIT on demand (10 s), so that the first invocation of an environment started on demand
 * still joins the loads its INIT began, however slow that INIT was: that is what a prefetch is for.
 */
const longestUnfrozenRunMs = 20_000

/**
 * Whether a load that began at `startedAt` has run so long by `now` (both read from one clock) that
 * it was most likely left running across a freeze: a prefetch when provisioned concurrency froze
 * INIT for hours, a load a caller left running at the end of an invocation. Its socket may be dead
 * at the thaw, and without a `timeout` nothing would ever end it. Judged when asked, since no timer
 * fires while the environment is frozen.
 */
export const leftRunningAcrossFreeze = (startedAt: number, now: number): boolean => now - startedAt >= longestUnfrozenRunMs

/**
 * Calls `onTimeout` once `ms` have passed and the event loop has then read its sockets. A process
 * short of CPU runs its timers late, every due one before any socket is read, and would take an
 * answer already waiting there for a timeout. Returns the timer, for clearTimeout; work that
 * settles in that last turn of the loop finds `onTimeout` called all the same, and must check.
 */
export const timeoutAfterPendingIo = (onTimeout: () => void, ms: number): NodeJS.Timeout =>
  setTimeout(() => {
    setImmediate(onTimeout)
  }, ms)

/**
 * Calls `onTimeout` once the process has run for `ms` (and then read its sockets: see
 * `timeoutAfterPendingIo`). Time spent frozen does not count, as nothing ran meanwhile: a timer that
 * fires at the thaw (`endedAfterFreeze`) starts the wait over. Returns what stops it, a wait started
 * over included; once stopped, `onTimeout` is never called.
 */
export const timeoutWhileRunning = (onTimeout: () => void, ms: number): (() => void) => {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const start = (): void => {
    const startedAt = monotonicClock()
    timer = timeoutAfterPendingIo(() => {
      if (stopped) return
      if (endedAfterFreeze(startedAt, ms)) start()
      else onTimeout()
    }, ms)
  }
  start()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}
