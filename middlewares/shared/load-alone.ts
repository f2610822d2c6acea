import type { BatchLoadContext, LoadContext } from '../../src/cache/options.js'

/** A middleware's `loadMany`: the values it found, by key. */
type KeyedBatchLoader = (keys: readonly string[], context: BatchLoadContext) => Promise<ReadonlyMap<string, unknown>>

/**
 * The engine's `load` through the middleware's `loadMany`, so that a key missed alone (one miss, a
 * refresh) is read as it is with others: its freshness set as there, its failure (`fail`) the load's.
 */
export const loadAlone =
  (loadMany: KeyedBatchLoader) =>
  async (key: string, { signal, setFreshness }: LoadContext): Promise<unknown> => {
    const failures = new Map<string, unknown>()
    const values = await loadMany([key], {
      signal,
      setFreshness: (freshness) => { setFreshness(freshness) },
      fail: (failed, error) => { failures.set(failed, error) },
    })
    if (failures.has(key)) throw failures.get(key)
    return values.get(key)
  }
