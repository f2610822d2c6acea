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
