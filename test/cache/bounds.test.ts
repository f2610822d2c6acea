import { createCache, createScope, Outcome } from '../../src/index.js'

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
