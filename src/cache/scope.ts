import { BackgroundWork, type SettleReport } from './background.js'
import { CacheCounters } from './counters.js'
import type { Flight } from './flight.js'

/** One cache's counts within a scope; the newest first. */
interface Slot {
  readonly cache: string
  freshHits: number
  counters: CacheCounters | undefined
  readonly next: Slot | undefined
}

/**
 * What one unit of work (in Lambda: one invocation) did with the caches: counters per cache and
 * the loads it left running. Kept apart per invocation, so concurrent invocations never mix.
 */
export class CacheScope {
  // Made on first use: a warm invocation served from memory should allocate as little as it can.
  // A short chain of slots rather than a Map: a scope sees a handful of caches, and one small
  // object per cache costs less than a Map (or arrays) made for every invocation. A cache that
  // only served fresh hits has no counters object until someone asks for one.
  #slots: Slot | undefined
  #background: BackgroundWork | undefined

  /** The counters of the cache named `cache` within this scope. */
  countersFor(cache: string): CacheCounters {
    const slot = this.#slotOf(cache)
    if (slot.counters === undefined) {
      slot.counters = new CacheCounters()
      slot.counters.hits = slot.freshHits
    }
    return slot.counters
  }

  /**
   * Has what the cache named `cache` does in this scope, from now on, counted in `counters`, which
   * outlive the scope: a prefetch's, which the first invocation written takes (see `Cache.prefetch`).
   */
  countInto(cache: string, counters: CacheCounters): this {
    this.#slotOf(cache).counters = counters
    return this
  }

  /** Adds `count` hits to the cache named `cache`: the same as `countersFor(cache).hits += count`, for less. */
  countHits(cache: string, count: number): void {
    const slot = this.#slotOf(cache)
    if (slot.counters === undefined) slot.freshHits += count
    else slot.counters.hits += count
  }

  /** Counters of every cache used in this scope, by cache name, in the order they were first used. */
  get counters(): ReadonlyMap<string, CacheCounters> {
    const names: string[] = []
    for (let slot = this.#slots; slot !== undefined; slot = slot.next) names.unshift(slot.cache)
    return new Map(names.map((name) => [name, this.countersFor(name)]))
  }

  #slotOf(cache: string): Slot {
    for (let slot = this.#slots; slot !== undefined; slot = slot.next) if (slot.cache === cache) return slot
    this.#slots = { cache, freshHits: 0, counters: undefined, next: this.#slots }
    return this.#slots
  }

  track(flight: Flight<unknown>): void {
    if (flight.settled) return
    this.#background ??= new BackgroundWork()
    this.#background.track(flight)
  }

  /** Loads this scope left running. */
  get pending(): number {
    return this.#background?.pending ?? 0
  }

  /**
   * Waits at most `budgetMs` for the loads this scope left running, then gives up on them: each is
   * abandoned unless another scope still tracks it or a caller without a scope waits for it.
   */
  settle(budgetMs: number): Promise<SettleReport> {
    this.#background ??= new BackgroundWork()
    return this.#background.settle(budgetMs)
  }
}

export const createScope = (): CacheScope => new CacheScope()
