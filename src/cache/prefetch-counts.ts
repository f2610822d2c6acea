import { processWide } from './process-state.js'
import { registeredCaches } from './registry.js'
import type { CacheScope } from './scope.js'

/**
 * Whether a cache's prefetch may have counted something that no invocation took yet: raised as a
 * prefetch starts and as each of its loads ends, lowered by `takePrefetchCounts`. A boolean, so
 * that the code that writes an invocation's metrics checks it for next to nothing. One per process,
 * as the registry is.
 */
export const prefetchCounts = processWide('prefetchCounts', () => ({ untaken: false }))

/** Raises `prefetchCounts.untaken`. */
export const markPrefetchCounted = (): void => {
  prefetchCounts.untaken = true
}

/**
 * Moves into `scope` what the prefetches of every registered cache counted since they were last
 * taken, so that loads begun before any invocation (at INIT) are counted by exactly one: the first
 * to take them. Synchronous, so of invocations running at once only one takes a given count. What a
 * prefetch counts later (the end of a load still running now) is left for the next taker.
 */
export const takePrefetchCounts = (scope: CacheScope): void => {
  prefetchCounts.untaken = false
  for (const { cache } of registeredCaches()) cache.movePrefetchCounts(scope)
}
