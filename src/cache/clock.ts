/** Milliseconds from an arbitrary origin; must never go backwards. */
export type Clock = () => number

// Held once: the global `performance` is an accessor, read again on every call otherwise.
const { performance: performanceOfProcess } = globalThis
/** Monotonic, so freshness survives wall-clock corrections; a freeze simply shows up as elapsed time. */
export const monotonicClock: Clock = () => performanceOfProcess.now()

/**
 * Whether a wait given `timeoutMs` from `startedAt` ended two timeouts or more after it began: no
 * running process watched it, as its own timer would have fired on time. Lambda froze the
 * environment with it pending, and at the thaw every due timer runs before any socket is read;
 * what the timer reports then tells nothing of the work it was timing.
 */
export const endedAfterFreeze = (startedAt: number, timeoutMs: number): boolean => monotonicClock() - startedAt >= 2 * timeoutMs
