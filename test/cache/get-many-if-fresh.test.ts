import { createCache, createScope } from '../../src/index.js'
import { manualClock } from '../support/clock.js'

describe('getManyIfFresh: the synchronous warm read', () => {
  const cacheWith = (now = manualClock()) => {
    const load = jest.fn((key: string) => key.toUpperCase())
    return { cache: createCache({ name: 'warm', load, ttl: '1m', staleWhileRevalidate: '1m', now: now.now }), load, clock: now }
  }

  test('returns every value in order, synchronously, when all are fresh, counting one hit per key', async () => {
    const { cache, load } = cacheWith()
    await cache.getMany(['a', 'b'])
    const scope = createScope()
    expect(cache.getManyIfFresh(['b', 'a', 'b'], scope)).toEqual(['B', 'A', 'B'])
    expect(scope.counters.get('warm')?.hits).toBe(3)
    expect(cache.stats().hits).toBe(3)
    expect(load).toHaveBeenCalledTimes(2)
  })

  test('returns undefined and counts nothing when one key is missing, without loading it', async () => {
    const { cache, load } = cacheWith()
    await cache.get('a')
    const scope = createScope()
    expect(cache.getManyIfFresh(['a', 'missing'], scope)).toBeUndefined()
    expect(scope.counters.size).toBe(0)
    expect(cache.stats().hits).toBe(0)
    expect(load).toHaveBeenCalledTimes(1)
  })

  test('a stale entry (even one servable while it revalidates) is not fresh: the caller goes the async way', async () => {
    const { cache, clock } = cacheWith()
    await cache.getMany(['a', 'b'])
    clock.advance(61_000)
    expect(cache.getManyIfFresh(['a', 'b'])).toBeUndefined()
    expect(cache.stats()).toMatchObject({ hits: 0, staleServed: 0 })
  })

  test('a reading passed as `now` decides freshness instead of the clock', async () => {
    const { cache, clock } = cacheWith()
    await cache.get('a')
    expect(cache.getManyIfFresh(['a'], undefined, clock.now() + 61_000)).toBeUndefined()
    clock.advance(61_000)
    expect(cache.getManyIfFresh(['a'], undefined, clock.now() - 61_000)).toEqual(['A'])
  })

  test('exposes the clock it reads freshness from', () => {
    const { cache, clock } = cacheWith()
    expect(cache.clock).toBe(clock.now)
  })

  test('a key that is not a string is refused with the cache named', async () => {
    const { cache } = cacheWith()
    await cache.get('a')
    expect(() => cache.getManyIfFresh(['a', 42 as unknown as string])).toThrow(/cache "warm"/)
  })

  test('"not found" remembered by negativeTtl is fresh too: undefined lands in its place', async () => {
    const cache = createCache<string | undefined>({ name: 'negative', load: () => undefined, ttl: '1m', negativeTtl: '30s' })
    await cache.get('gone')
    expect(cache.getManyIfFresh(['gone'])).toEqual([undefined])
  })

  describe('the same frozen array of keys asked again is answered from the last read while it holds', () => {
    const warmRead = async () => {
      const setup = cacheWith()
      const keys = Object.freeze(['a', 'b'])
      await setup.cache.getMany(keys)
      const first = setup.cache.getManyIfFresh(keys)
      return { ...setup, keys, first }
    }

    test('the same array comes back, each read still counted as hits, in the scope too', async () => {
      const { cache, keys, first } = await warmRead()
      const scope = createScope()
      expect(cache.getManyIfFresh(keys, scope)).toBe(first)
      expect(scope.counters.get('warm')?.hits).toBe(2)
      expect(cache.stats().hits).toBe(4)
    })

    test('the array every caller shares is frozen: a caller that changes it in place changes nothing the next one reads', async () => {
      const { cache, keys, first } = await warmRead()
      // A middleware written in JavaScript sees no readonly type.
      expect(Reflect.set(first as unknown[], 0, 'changed')).toBe(false)
      expect(cache.getManyIfFresh(keys)).toEqual(['A', 'B'])
    })

    test('a value stored since is read anew', async () => {
      const { cache, keys, first } = await warmRead()
      await cache.set('b', 'B2')
      const again = cache.getManyIfFresh(keys)
      expect(again).not.toBe(first)
      expect(again).toEqual(['A', 'B2'])
    })

    test('a key deleted since, or a cleared cache, makes it go the async way', async () => {
      const { cache, keys } = await warmRead()
      await cache.delete('a')
      expect(cache.getManyIfFresh(keys)).toBeUndefined()
      await cache.getMany(keys)
      expect(cache.getManyIfFresh(keys)).toEqual(['A', 'B'])
      await cache.clear()
      expect(cache.getManyIfFresh(keys)).toBeUndefined()
    })

    test('once the entry that ages first is no longer fresh, it is not served', async () => {
      const { cache, clock, keys } = await warmRead()
      clock.advance(30_000)
      await cache.set('b', 'B2')
      expect(cache.getManyIfFresh(keys)).toEqual(['A', 'B2'])
      clock.advance(30_001)
      expect(cache.getManyIfFresh(keys)).toBeUndefined()
    })

    test('another array of keys, even with equal contents, is read from the store', async () => {
      const { cache, first } = await warmRead()
      const again = cache.getManyIfFresh(['a', 'b'])
      expect(again).not.toBe(first)
      expect(again).toEqual(first)
    })

    test('an array of keys that may change in place is read anew every time: a caller that changed it never gets the values of the keys it held', async () => {
      const { cache } = cacheWith()
      const keys = ['a', 'b']
      await cache.getMany(['a', 'b', 'c'])
      expect(cache.getManyIfFresh(keys)).toEqual(['A', 'B'])
      keys[1] = 'c'
      expect(cache.getManyIfFresh(keys)).toEqual(['A', 'C'])
    })
  })

  describe('stillFresh: whether an answer kept by its caller would be the answer again', () => {
    test('true for the last answer while it holds, counting its keys as hits', async () => {
      const { cache, first, clock } = await (async () => {
        const setup = cacheWith()
        const keys = Object.freeze(['a', 'b'])
        await setup.cache.getMany(keys)
        return { ...setup, first: setup.cache.getManyIfFresh(keys) ?? [] }
      })()
      expect(cache.stillFresh(first, clock.now())).toBe(true)
      expect(cache.stats().hits).toBe(4)
    })

    test('false, counting nothing, once a value was stored or deleted since, or the answer aged out', async () => {
      const keys = Object.freeze(['a', 'b'])
      const answered = async () => {
        const setup = cacheWith()
        await setup.cache.getMany(keys)
        return { ...setup, first: setup.cache.getManyIfFresh(keys) ?? [] }
      }
      const stored = await answered()
      await stored.cache.set('c', 'C')
      expect(stored.cache.stillFresh(stored.first, stored.clock.now())).toBe(false)

      const deleted = await answered()
      await deleted.cache.delete('b')
      expect(deleted.cache.stillFresh(deleted.first, deleted.clock.now())).toBe(false)

      const aged = await answered()
      expect(aged.cache.stillFresh(aged.first, aged.clock.now() + 60_000)).toBe(false)
      expect(aged.cache.stillFresh(aged.first, aged.clock.now() + 59_999)).toBe(true)
      expect([stored, deleted].map(({ cache }) => cache.stats().hits)).toEqual([2, 2])
    })

    test('false for an array it did not answer last, even with equal contents', async () => {
      const { cache, clock } = cacheWith()
      const keys = Object.freeze(['a'])
      const other = Object.freeze(['b'])
      await cache.getMany(['a', 'b'])
      const first = cache.getManyIfFresh(keys) ?? []
      expect(cache.stillFresh(['A'], clock.now())).toBe(false)
      cache.getManyIfFresh(other)
      expect(cache.stillFresh(first, clock.now())).toBe(false)
    })
  })
})

describe('getIfFresh: the synchronous warm read of one key', () => {
  test('the fresh value at once, counted as a hit, in the scope too; undefined and nothing counted otherwise', async () => {
    const clock = manualClock()
    const load = jest.fn((key: string) => key.toUpperCase())
    const cache = createCache({ name: 'single', load, ttl: '1m', now: clock.now })
    await cache.get('a')
    const scope = createScope()
    expect(cache.getIfFresh('a', scope)).toMatchObject({ value: 'A' })
    expect(cache.getIfFresh('missing', scope)).toBeUndefined()
    expect(scope.counters.get('single')?.hits).toBe(1)
    clock.advance(61_000)
    expect(cache.getIfFresh('a', scope)).toBeUndefined()
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 })
    expect(load).toHaveBeenCalledTimes(1)
  })

  test('a reading passed as `now` decides freshness instead of the clock', async () => {
    const clock = manualClock()
    const cache = createCache({ name: 'single', load: (key: string) => key.toUpperCase(), ttl: '1m', now: clock.now })
    await cache.get('a')
    expect(cache.getIfFresh('a', undefined, clock.now() + 61_000)).toBeUndefined()
    clock.advance(61_000)
    expect(cache.getIfFresh('a', undefined, clock.now() - 61_000)).toMatchObject({ value: 'A' })
    expect(cache.getIfFresh('a')).toBeUndefined()
  })

  test('"not found" remembered by negativeTtl is fresh: its value is undefined, told apart from no answer', async () => {
    const cache = createCache<string | undefined>({ name: 'negative-single', load: () => undefined, ttl: '1m', negativeTtl: '30s' })
    await cache.get('gone')
    expect(cache.getIfFresh('gone')).toEqual(expect.objectContaining({ value: undefined }))
  })

  test('a key that is not a string is refused with the cache named', () => {
    const cache = createCache({ name: 'single-keys', load: () => 'v', ttl: '1m' })
    expect(() => cache.getIfFresh(42 as unknown as string)).toThrow(/cache "single-keys"/)
  })
})

