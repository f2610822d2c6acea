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

declare const admissionBrand: unique symbol
/**
 * What `admit` hands an operation it lets through, to report the operation's outcome with: the
 * circuit's opening it was let through in, so that the outcome of one let through before the
 * circuit last opened (it tells of the store before the outage) changes nothing.
 */
export type Admission = number & { readonly [admissionBrand]: true }

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
  /** How many times the circuit opened from closed: the admission of every operation let through since. */
  #openings = 0

  constructor(policy: BreakerPolicy, now: Clock) {
    this.#policy = policy
    this.#now = now
  }

  get state(): CircuitState {
    if (this.#openedAt === undefined) return CircuitState.Closed
    return this.#probing || this.#now() - this.#openedAt >= this.#policy.coolDownMs ? CircuitState.HalfOpen : CircuitState.Open
  }

  /**
   * Lets an operation go to the store now, or not (undefined); past the cool-down, the first caller
   * becomes the probe. Report its outcome with the admission returned.
   */
  admit(): Admission | undefined {
    if (this.#openedAt !== undefined) {
      if (this.#probing || this.#now() - this.#openedAt < this.#policy.coolDownMs) return undefined
      this.#probing = true
    }
    return this.#openings as Admission
  }

  succeeded(admission: Admission): void {
    if (admission !== this.#openings) return
    this.#consecutiveFailures = 0
    this.#openedAt = undefined
    this.#probing = false
  }

  /** An operation that tells nothing of the store's health ended: were it the probe, the next operation probes. */
  inconclusive(admission: Admission): void {
    if (admission === this.#openings) this.#probing = false
  }

  /** Returns whether this failure opened the circuit, or kept it open (a failed probe). */
  failed(admission: Admission): boolean {
    if (admission !== this.#openings) return false
    if (this.#openedAt !== undefined) {
      // While the circuit is open, only the probe is let through: it failed, cool down again.
      this.#openedAt = this.#now()
      this.#probing = false
      return true
    }
    if (++this.#consecutiveFailures < this.#policy.failures) return false
    this.#openedAt = this.#now()
    this.#openings++
    return true
  }
}
