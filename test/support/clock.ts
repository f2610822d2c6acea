/** A clock the test moves by hand, to stand in for time passing or a frozen environment thawing. */
export interface ManualClock {
  readonly now: () => number
  advance: (ms: number) => void
}

export const manualClock = (start = 1_000): ManualClock => {
  let current = start
  return {
    now: () => current,
    advance: (ms) => {
      current += ms
    },
  }
}

/**
 * The wall clock and the monotonic clock the caches read, moved together for the whole test process
 * (jest spies: `jest.restoreAllMocks()` puts them back). Lets a test step past a ttl of minutes
 * without waiting for it, while timers and sockets keep real time.
 */
export const movableTime = (): { advance: (ms: number) => void } => {
  const realDate = Date.now.bind(Date)
  const realPerformance = performance.now.bind(performance)
  let offset = 0
  jest.spyOn(Date, 'now').mockImplementation(() => realDate() + offset)
  jest.spyOn(performance, 'now').mockImplementation(() => realPerformance() + offset)
  return {
    advance: (ms) => {
      offset += ms
    },
  }
}
