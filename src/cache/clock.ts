/** Milliseconds from an arbitrary origin; must never go backwards. */
export type Clock = () => number

/** Monotonic, so freshness survives wall-clock corrections; a freeze simply shows up as elapsed time. */
export const monotonicClock: Clock = () => performance.now()
