import { CacheLoadError, createCache, createScope, Outcome, type Cache } from '../../src/index.js'
import { manualClock } from '../support/clock.js'

const loadKey = (key: string): Promise<string> => Promise.resolve(`value of ${key}`)

describe('L1 bounds', () => {
  test('maxEntries evicts the least recently used key, which then loads again', async () => {
    const load = jest.fn(loadKey)
    const cache = createCache({ name: 'by-count', load, ttl: '1h', l1: { maxEntries: 2 } })
    await cache.get('a')
    await cache.get('b')
    await cache.get('a')
    await cache.get('c')
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 1 })
    expect((await cache.lookup('a')).outcome).toBe(Outcome.Hit)
    expect((await cache.lookup('b')).outcome).toBe(Outcome.Miss)
  })

  describe('recency counts reads by callers, not the engine\'s own look at an entry', () => {
    /** The keys memory holds, in the order they were written. */
    const held = (cache: Cache<string>): string[] => [...cache.peekEntries()].map(([key]) => key)
    const readInOrder = async (cache: Cache<string>, keys: readonly string[]): Promise<void> => {
      for (const key of keys) await cache.get(key)
    }

    test('a refresh ahead that keeps failing (a warm-up ping) does not keep an entry nobody reads from being evicted', async () => {
      const clock = manualClock()
      const load = jest.fn().mockResolvedValueOnce('a').mockRejectedValue(new Error('source down'))
      const cache = createCache<string>({ name: 'lru-backoff', load, ttl: '1s', staleIfError: '1h', l1: { maxEntries: 2 }, now: clock.now })
      await cache.get('a')
      await cache.set('b', 'b', { ttl: '1h' })
      await readInOrder(cache, ['b'])
      expect(await cache.refreshAhead(5_000)).toEqual({ refreshed: 0, failed: 1 })

      await cache.set('c', 'c')
      expect(held(cache)).toEqual(['b', 'c'])
    })

    test('a get whose load fails does not move the entry it could not stand in with', async () => {
      const clock = manualClock()
      const load = jest.fn().mockResolvedValueOnce('a').mockRejectedValue(new Error('source down'))
      const cache = createCache<string>({ name: 'lru-stand-in', load, ttl: '1s', l1: { maxEntries: 2 }, now: clock.now })
      await cache.get('a')
      await cache.set('b', 'b', { ttl: '1h' })
      clock.advance(2_000)
      const failing = cache.get('a').catch((error: unknown) => error)
      await readInOrder(cache, ['b'])
      expect(await failing).toBeInstanceOf(CacheLoadError)

      await cache.set('c', 'c')
      expect(held(cache)).toEqual(['b', 'c'])
    })

    test('a prefetch of a key that is fresh uses no value, and moves nothing', async () => {
      const cache = createCache<string>({ name: 'lru-prefetch', load: (key) => key, ttl: '1h', l1: { maxEntries: 2 } })
      await readInOrder(cache, ['a', 'b'])
      cache.prefetch(['a'])

      await cache.set('c', 'c')
      expect(held(cache)).toEqual(['b', 'c'])
    })
  })

  test('l1Bounds tells the bounds a cache keeps to, its defaults filled in', () => {
    expect(createCache({ name: 'told', load: loadKey, ttl: '1h', l1: { maxEntries: 2 } }).l1Bounds).toEqual({ maxEntries: 2, maxBytes: 64 * 1024 * 1024 })
    expect(createCache({ name: 'defaults', load: loadKey, ttl: '1h' }).l1Bounds).toEqual({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 })
  })

  test('maxBytes evicts by the approximate size of values and keys', async () => {
    const cache = createCache({ name: 'by-bytes', load: (key) => 'x'.repeat(100) + key, ttl: '1h', l1: { maxBytes: 500 } })
    await cache.getMany(['a', 'b', 'c'])
    expect(cache.stats().entries).toBe(2)
    expect(cache.stats().bytes).toBeLessThanOrEqual(500)
    expect(cache.stats().evictions).toBe(1)
  })

  test('a value larger than maxBytes is returned but not cached, and counted', async () => {
    const load = jest.fn(() => 'x'.repeat(1_000))
    const cache = createCache({ name: 'oversize', load, ttl: '1h', l1: { maxBytes: 1_000 } })
    const scope = createScope()
    expect(await cache.get('big', { scope })).toHaveLength(1_000)
    expect(await cache.get('big')).toHaveLength(1_000)
    expect(load).toHaveBeenCalledTimes(2)
    expect(cache.stats()).toMatchObject({ entries: 0, notCached: 2 })
    expect(scope.countersFor('oversize').notCached).toBe(1)
  })

  test('a BigInt counts the bytes of its digits: one larger than maxBytes is returned but not cached', async () => {
    const huge = 2n ** 80_000n
    const load = jest.fn(() => ({ id: 'k', total: huge }))
    const cache = createCache({ name: 'big-integers', load, ttl: '1h', l1: { maxBytes: 1_000 } })
    expect((await cache.get('k')).total).toBe(huge)
    expect(await cache.get('k')).toEqual({ id: 'k', total: huge })
    expect(load).toHaveBeenCalledTimes(2)
    expect(cache.stats()).toMatchObject({ entries: 0, notCached: 2 })
  })

  test('a sparse array (rows kept by numeric id) is cached by the members it holds, not refused for its length', async () => {
    const load = jest.fn(() => {
      const byId: { name: string }[] = []
      byId[10_000_000] = { name: 'late id' }
      return byId
    })
    const cache = createCache({ name: 'sparse-rows', load, ttl: '1h', l1: { maxBytes: 1_000 } })
    expect((await cache.get('rows'))[10_000_000]).toEqual({ name: 'late id' })
    expect(await cache.lookup('rows')).toMatchObject({ outcome: Outcome.Hit })
    expect(load).toHaveBeenCalledTimes(1)
    expect(cache.stats()).toMatchObject({ entries: 1, notCached: 0 })
    expect(cache.stats().bytes).toBeLessThan(1_000)
  })

  test('values that cannot be serialised are cached like any other', async () => {
    const circular: Record<string, unknown> = { id: 1n }
    circular.self = circular
    const cache = createCache({ name: 'odd-values', load: () => circular, ttl: '1h' })
    expect(await cache.get('k')).toBe(circular)
    expect((await cache.lookup('k')).outcome).toBe(Outcome.Hit)
  })

  test('a value with a getter that throws is loaded and cached all the same', async () => {
    const guarded = {
      id: 'k',
      get token(): string {
        throw new Error('not readable here')
      },
    }
    const cache = createCache({ name: 'guarded-values', load: () => guarded, ttl: '1h' })
    expect(await cache.get('k')).toBe(guarded)
    expect((await cache.lookup('k')).outcome).toBe(Outcome.Hit)
  })
})
