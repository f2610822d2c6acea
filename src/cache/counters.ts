import { Outcome, Tier } from './outcome.js'

/**
 * Counts of what one cache did, either over its lifetime or within one scope (an invocation).
 * Plain mutable fields: the hit path increments them without allocating.
 */
export class CacheCounters {
  /** Gets served fresh from memory (L1). */
  hits = 0
  /** Gets that missed L1 and were served from the shared tier (L2). */
  l2Hits = 0
  /** L2 reads that found nothing usable. */
  l2Misses = 0
  /** L2 operations that failed, outlived their timeout, or that the store refused (out of memory, say). */
  l2Errors = 0
  /** Time spent in L2 operations, in milliseconds. */
  l2TimeMs = 0
  /**
   * L2 operations that ran and ended, whose durations `l2TimeMs` adds up: reads, writes, leases
   * and their releases, namespace-version reads. One skipped by the open breaker never ran.
   */
  l2Operations = 0
  /**
   * Values kept out of L2 (in L1 only) without a try: too large for the store, not serialisable as
   * JSON, or written while the store refuses writes (the refused write itself is an `l2Errors`).
   */
  l2Skipped = 0
  /** Gets that waited for a load. */
  misses = 0
  /** Gets served a stale value while it was refreshed in the background. */
  staleServed = 0
  /** Of `staleServed`, those memory could not answer: the stale value came from L2. */
  l2StaleServed = 0
  /** Gets served a stale value because the load failed or timed out. */
  staleOnError = 0
  /** Gets that threw. */
  errors = 0
  /** Calls made to the loader (a batch counts once). */
  loads = 0
  /** Loader calls that failed, in the foreground or the background; not one that failed because its load was abandoned (`failedByAbandon`). */
  loadErrors = 0
  /** Loads that outlived `timeout`. */
  loadTimeouts = 0
  /** Loaded values returned but not kept because they exceed `l1.maxBytes`. */
  notCached = 0
  /** Time spent in loader calls, in milliseconds. */
  loadTimeMs = 0
  /**
   * Loader calls that have ended, whose durations `loadTimeMs` adds up. Fewer than `loads` while
   * some still run: a refresh given up when its invocation ended has no duration to count, nor
   * has one that failed because it was given up.
   */
  loadsEnded = 0
  /** Cold-start snapshot reads reported (by the invocation that waited for the read). */
  snapshotReads = 0
  /** Reads that brought this cache nothing: no usable snapshot, or none in time. */
  snapshotMisses = 0
  /** Entries put back in memory from a snapshot. */
  snapshotHydrated = 0
  /** Time the snapshot reads took, from their start at INIT, in milliseconds. */
  snapshotLoadMs = 0

  count(outcome: Outcome, tier: Tier): void {
    switch (outcome) {
      case Outcome.Hit:
        if (tier === Tier.L2) this.l2Hits++
        else this.hits++
        break
      case Outcome.Miss:
        this.misses++
        break
      case Outcome.Stale:
        this.staleServed++
        if (tier === Tier.L2) this.l2StaleServed++
        break
      case Outcome.StaleOnError:
        this.staleOnError++
        break
      case Outcome.Error:
        this.errors++
        break
    }
  }

  /** Gets served, whatever their outcome. */
  get gets(): number {
    return this.hits + this.l2Hits + this.misses + this.staleServed + this.staleOnError + this.errors
  }

  /** Whether nothing was counted (or all of it was moved on). */
  get empty(): boolean {
    return counterNames.every((name) => this[name] === 0)
  }

  /** Adds every count to `target`'s and zeroes it here: what is moved is counted once, by `target`. */
  moveTo(target: CacheCounters): void {
    for (const name of counterNames) {
      target[name] += this[name]
      this[name] = 0
    }
  }
}

/** The counters a tally can add to: every numeric field. */
export type CounterName = Exclude<{ [K in keyof CacheCounters]: CacheCounters[K] extends number ? K : never }[keyof CacheCounters], 'gets'>

const counterNames = Object.keys(new CacheCounters()) as CounterName[]

/** A cache's lifetime counters together with those of the scope at hand, added to as one. */
export class Tally {
  readonly #lifetime: CacheCounters
  readonly #scoped: CacheCounters | undefined

  constructor(lifetime: CacheCounters, scoped: CacheCounters | undefined) {
    this.#lifetime = lifetime
    this.#scoped = scoped
  }

  add(counter: CounterName, amount = 1): void {
    this.#lifetime[counter] += amount
    if (this.#scoped !== undefined) this.#scoped[counter] += amount
  }
}
