/**
 * When this environment writes a snapshot: when it knows of no usable one, or the one it knows is
 * past half `maxAge` (so a new environment keeps finding one younger than `maxAge`), and never twice
 * within half `maxAge`, whether the attempt succeeded or not. Environment state, on purpose.
 */
export class WriteSchedule {
  readonly #intervalMs: number
  /** Wall-clock creation time of the newest usable snapshot known (read or written). */
  #knownCreatedAt: number | undefined
  /** Monotonic time before which no attempt is made. */
  #nextAttemptAt = Number.NEGATIVE_INFINITY

  constructor(maxAgeMs: number) {
    this.#intervalMs = maxAgeMs / 2
  }

  /** A usable snapshot written at `createdAt` (ms since the epoch) is in the store. */
  found(createdAt: number): void {
    if (this.#knownCreatedAt === undefined || createdAt > this.#knownCreatedAt) this.#knownCreatedAt = createdAt
  }

  /** The store could not be read (down, slow): writing now would most likely fail or slow the invocation too. */
  postpone(monoNow: number): void {
    this.#nextAttemptAt = monoNow + this.#intervalMs
  }

  isDue(monoNow: number, wallNow: number): boolean {
    if (monoNow < this.#nextAttemptAt) return false
    return this.#knownCreatedAt === undefined || wallNow - this.#knownCreatedAt >= this.#intervalMs
  }

  /** An attempt starts now; concurrent invocations see it as not due. */
  attempt(monoNow: number): void {
    this.#nextAttemptAt = monoNow + this.#intervalMs
  }
}
