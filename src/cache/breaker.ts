import type { Clock } from './clock.js'

export const CircuitState = {
  /** Operations go to the store. */
  Closed: 'closed',
  /** The store failed repeatedly: operations are skipped until the cool-down has passed. */
  Open: 'open',
  /** The cool-down has passed: the next operation is a probe, and only one runs at a time. */
  HalfOpen: 'half-open',
} as const
export type CircuitState = (typeof CircuitState)[keyof typeof CircuitState]

export interface BreakerPolicy {
  readonly failures: number
  readonly coolDownMs: number
}

/**
 * Takes a failing shared tier out of the path. No timer: the cool-down is read from the clock
 * when an operation asks, so a frozen environment simply finds it over after a thaw.
 */
export class CircuitBreaker {
  readonly #policy: BreakerPolicy
  readonly #now: Clock
  #consecutiveFailures = 0
  #openedAt: number | undefined
  #probing = false

  constructor(policy: BreakerPolicy, now: Clock) {
    this.#policy = policy
    this.#now = now
  }

  get state(): CircuitState {
    if (this.#openedAt === undefined) return CircuitState.Closed
    return this.#probing || this.#now() - this.#openedAt >= this.#policy.coolDownMs ? CircuitState.HalfOpen : CircuitState.Open
  }

  /** Whether an operation may go to the store now; past the cool-down, the first caller becomes the probe. */
  allows(): boolean {
    if (this.#openedAt === undefined) return true
    if (this.#probing || this.#now() - this.#openedAt < this.#policy.coolDownMs) return false
    this.#probing = true
    return true
  }

  succeeded(): void {
    this.#consecutiveFailures = 0
    this.#openedAt = undefined
    this.#probing = false
  }

  /** An operation that tells nothing of the store's health ended: were it the probe, the next operation probes. */
  inconclusive(): void {
    this.#probing = false
  }

  failed(): void {
    this.#probing = false
    if (this.#openedAt !== undefined) {
      // A failed probe, or a call let through before the circuit opened: cool down again.
      this.#openedAt = this.#now()
      return
    }
    if (++this.#consecutiveFailures >= this.#policy.failures) this.#openedAt = this.#now()
  }
}
