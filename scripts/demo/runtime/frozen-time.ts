/**
 * Lambda freezes an environment between invocations; when it thaws, time has passed. The demo moves
 * time on instead of waiting for it: both clocks the engine reads jump forward. `performance.now()`
 * (L1 freshness) counts from this environment's start, so that a new environment's INIT duration
 * stays its own; `Date.now()` (L2 envelopes) is the world's wall clock, moved on by every jump the
 * world has made.
 */
export interface FrozenTime {
  /** The environment was frozen for `ms`. */
  advance(ms: number): void
  /** The real monotonic clock, for measuring durations the jumps must not distort. */
  readonly realNow: () => number
}

export const installFrozenTime = (wallClockOffsetMs: number): FrozenTime => {
  const realDateNow = Date.now.bind(Date)
  const realNow = performance.now.bind(performance)
  let wallClockOffset = wallClockOffsetMs
  let monotonicOffset = 0
  Date.now = () => realDateNow() + wallClockOffset
  performance.now = () => realNow() + monotonicOffset
  return {
    advance(ms) {
      wallClockOffset += ms
      monotonicOffset += ms
    },
    realNow,
  }
}
