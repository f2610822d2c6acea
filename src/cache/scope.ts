import { BackgroundWork, type SettleReport } from './background.js'
import { CacheCounters } from './counters.js'
import type { Flight } from './flight.js'

/**
 * What one unit of work (in Lambda: one invocation) did with the caches: counters per cache and
 * the loads it left running. Kept apart per invocation, so concurrent invocations never mix.
 */
export class CacheScope {
  // Made on first use: a warm invocation served from memory should allocate as little as it can.
  #counters: Map<string, CacheCounters> | undefined
  #background: BackgroundWork | undefined

  /** The counters of the cache named `cache` within this scope. */
  countersFor(cache: string): CacheCounters {
    this.#counters ??= new Map()
    let counters = this.#counters.get(cache)
    if (counters === undefined) {
      counters = new CacheCounters()
      this.#counters.set(cache, counters)
    }
    return counters
  }

  /** Counters of every cache used in this scope, by cache name. */
  get counters(): ReadonlyMap<string, CacheCounters> {
    return this.#counters ?? noCounters
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

  /** Waits at most `budgetMs` for the loads this scope left running, then abandons them. */
  settle(budgetMs: number): Promise<SettleReport> {
    return this.#background?.settle(budgetMs) ?? nothingToSettle
  }
}

const noCounters: ReadonlyMap<string, CacheCounters> = new Map()
const nothingToSettle: Promise<SettleReport> = Promise.resolve({ completed: 0, abandoned: 0 })

export const createScope = (): CacheScope => new CacheScope()
