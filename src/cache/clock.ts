/** Milliseconds from an arbitrary origin; must never go backwards. */
export type Clock = () => number

// Held once: the global `performance` is an accessor, read again on every call otherwise.
const { performance: performanceOfProcess } = globalThis
/** Monotonic, so freshness survives wall-clock corrections; a freeze simply shows up as elapsed time. */
export const monotonicClock: Clock = () => performanceOfProcess.now()
