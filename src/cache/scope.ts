import { BackgroundWork, type SettleReport } from './background.js'
import { CacheCounters } from './counters.js'
import type { Flight } from './flight.js'

/**
 * What one unit of work (in Lambda: one invocation) did with the caches: counters per cache and
 * the loads it left running. Kept apart per invocation, so concurrent invocations never mix.
 */
export class CacheScope {
  readonly #counters = new Map<string, CacheCounters>()
  readonly #background = new BackgroundWork()

  /** The counters of the cache named `cache` within this scope. */
  countersFor(cache: string): CacheCounters {
    let counters = this.#counters.get(cache)
    if (counters === undefined) {
      counters = new CacheCounters()
      this.#counters.set(cache, counters)
    }
    return counters
  }

  /** Counters of every cache used in this scope, by cache name. */
  get counters(): ReadonlyMap<string, CacheCounters> {
    return this.#counters
  }

  track(flight: Flight<unknown>): void {
    this.#background.track(flight)
  }

  /** Loads this scope left running. */
  get pending(): number {
    return this.#background.pending
  }

  /** Waits at most `budgetMs` for the loads this scope left running, then abandons them. */
  settle(budgetMs: number): Promise<SettleReport> {
    return this.#background.settle(budgetMs)
  }
}

export const createScope = (): CacheScope => new CacheScope()
