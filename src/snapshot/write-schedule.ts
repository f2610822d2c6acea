/**
 * How much later than half `maxAge`, as a fraction of `maxAge`, an environment finds the snapshot it
 * knows due, drawn once per environment. Environments that read one snapshot would otherwise all find
 * it due at one moment and all write it at once. None learns of another's write (a snapshot is read
 * once, at INIT), so this spreads their PutObjects over a tenth of `maxAge` rather than sparing them;
 * an environment started after the first of them finds the new snapshot and writes nothing. The
 * latest refresh, at 0.6 `maxAge`, still leaves new environments a snapshot younger than `maxAge`.
 */
const refreshSpread = 0.1

/**
 * When this environment writes a snapshot: when it knows of no usable one, or the one it knows is
 * past half `maxAge` and this environment's share of `refreshSpread` (so a new environment keeps
 * finding one younger than `maxAge`), or holds what the caches would no longer take back (see
 * `isDue`), and never twice within half `maxAge`, whether the attempt succeeded or not. Environment
 * state, on purpose.
 */
export class WriteSchedule {
  readonly #intervalMs: number
  /** How old the snapshot known may grow before this environment replaces it. */
  readonly #refreshAgeMs: number
  /** Wall-clock creation time of the newest usable snapshot known (read or written). */
  #knownCreatedAt: number | undefined
  /** Monotonic time before which no attempt is made. */
  #nextAttemptAt = Number.NEGATIVE_INFINITY

  /** `random`, in [0, 1), draws this environment's share of the spread. */
  constructor(maxAgeMs: number, random: () => number = Math.random) {
    this.#intervalMs = maxAgeMs / 2
    this.#refreshAgeMs = this.#intervalMs + random() * refreshSpread * maxAgeMs
  }

  /** A usable snapshot written at `createdAt` (ms since the epoch) is in the store. */
  found(createdAt: number): void {
    if (this.#knownCreatedAt === undefined || createdAt > this.#knownCreatedAt) this.#knownCreatedAt = createdAt
  }

  /** The store could not be read (down, slow): writing now would most likely fail or slow the invocation too. */
  postpone(monoNow: number): void {
    this.#nextAttemptAt = monoNow + this.#intervalMs
  }

  /**
   * `knownIsOutdated`: whether the snapshot known holds entries a new environment would not take
   * back (written before a clear(), say): replaced as a missing one is. Asked last, and only when an
   * attempt may be made.
   */
  isDue(monoNow: number, wallNow: number, knownIsOutdated: () => boolean): boolean {
    if (monoNow < this.#nextAttemptAt) return false
    return this.#knownCreatedAt === undefined || wallNow - this.#knownCreatedAt >= this.#refreshAgeMs || knownIsOutdated()
  }

  /** An attempt starts now; concurrent invocations see it as not due. */
  attempt(monoNow: number): void {
    this.#nextAttemptAt = monoNow + this.#intervalMs
  }
}
