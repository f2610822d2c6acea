import { createCache, createScope, Outcome } from '../../src/index.js'
import type { BatchLoadContext } from '../../src/index.js'
import { manualClock } from '../support/clock.js'
import { deferred } from '../support/deferred.js'

describe('getMany', () => {
  test('returns values in the order asked, duplicates included, loading each missing key once', async () => {
    const load = jest.fn((key: string) => key.toUpperCase())
    const cache = createCache({ name: 'many', load, ttl: '1m' })
    await cache.get('b')
    expect(await cache.getMany(['a', 'b', 'a', 'c'])).toEqual(['A', 'B', 'A', 'C'])
    expect(load.mock.calls.map(([key]) => key).sort()).toEqual(['a', 'b', 'c'])
  })

  test('with loadMany, the misses load in one batch (only the misses)', async () => {
    const load = jest.fn((key: string) => `one ${key}`)
    const loadMany = jest.fn((keys: readonly string[]) => Promise.resolve(new Map(keys.map((key) => [key, `batch ${key}`]))))
    const cache = createCache({ name: 'batched', load, loadMany, ttl: '1m' })
    await cache.get('cached')

    expect(await cache.getMany(['x', 'cached', 'y', 'x', 'z'])).toEqual(['batch x', 'one cached', 'batch y', 'batch x', 'batch z'])
    expect(loadMany).toHaveBeenCalledTimes(1)
    expect(loadMany.mock.calls[0]?.[0]).toEqual(['x', 'y', 'z'])
    expect(cache.stats()).toMatchObject({ loads: 2, entries: 4 })
    expect((await cache.lookup('y')).outcome).toBe(Outcome.Hit)
  })

  test("a failed batch's error names every key of the call (the source's message may be about any), at most three beside the key", async () => {
    const denied = new Error('denied on one of them')
    const cache = createCache({ name: 'failing-batch', load: () => Promise.reject(denied), loadMany: () => Promise.reject(denied), ttl: '1m', retryAfterError: 0 })
    const error = (keys: readonly string[], key: string): Promise<unknown> => {
      const failed = cache.getMany(keys).catch(() => undefined)
      return Promise.all([cache.get(key).catch((thrown: unknown) => thrown), failed]).then(([thrown]) => thrown)
    }
    expect(await error(['a', 'b'], 'b')).toMatchObject({ message: 'middy-cache: loading "b", loaded together with "a", for cache "failing-batch" failed: denied on one of them', cause: denied })
    // The same error object from a later lone load of a key that was in the batch: named alone.
    expect(await cache.get('a').catch((thrown: unknown) => thrown)).toMatchObject({ message: 'middy-cache: loading "a" for cache "failing-batch" failed: denied on one of them' })
    expect(await error(['p', 'q', 'r', 's', 't'], 'p')).toMatchObject({ message: expect.stringContaining('loading "p", loaded together with "q", "r", "s" and 1 more, for cache') as unknown })
  })

  test('keys the loader fails with one error (a request of their own, refused) name each other; the other keys are served', async () => {
    const denied = new Error('denied on one of them')
    const loadMany = (keys: readonly string[], { fail }: BatchLoadContext) => {
      for (const key of keys.filter((key) => key.startsWith('secure'))) fail(key, denied)
      if (keys.includes('odd')) fail('odd', new Error('odd alone'))
      return Promise.resolve(keys.map((key) => `value of ${key}`))
    }
    const cache = createCache({ name: 'failing-part', load: (key: string) => key, loadMany, ttl: '1m' })
    const keys = ['plain', 'secure-a', 'secure-b', 'odd']
    const batch = cache.getMany(keys).catch(() => undefined)
    // Each get joins the batch's flight for its key.
    const errors = await Promise.all(keys.slice(1).map((key) => cache.get(key).catch((thrown: unknown) => (thrown as Error).message)))
    await batch
    expect(await cache.get('plain')).toBe('value of plain')
    expect(errors).toEqual([
      'middy-cache: loading "secure-a", loaded together with "secure-b", for cache "failing-part" failed: denied on one of them',
      'middy-cache: loading "secure-b", loaded together with "secure-a", for cache "failing-part" failed: denied on one of them',
      'middy-cache: loading "odd" for cache "failing-part" failed: odd alone',
    ])
  })

  test('a batch may answer with an array aligned with the keys; keys it leaves out are "not found"', async () => {
    const loadMany = (keys: readonly string[]) => Promise.resolve(keys.map((key) => (key === 'missing' ? undefined : key.length)))
    const cache = createCache<number | undefined>({ name: 'aligned', load: () => -1, loadMany, ttl: '1m' })
    expect(await cache.getMany(['one', 'missing', 'three'])).toEqual([3, undefined, 5])
  })

  test('an array of another length than the keys (only the rows found, say) is refused as a failed load, never read by position', async () => {
    const rows = new Map([['a', 'row a'], ['c', 'row c']])
    const loadMany = (keys: readonly string[]) => Promise.resolve(keys.flatMap((key) => rows.get(key) ?? []))
    const cache = createCache({ name: 'unaligned', load: (key: string) => rows.get(key), loadMany, ttl: '1m' })
    await expect(cache.getMany(['a', 'b', 'c'])).rejects.toThrow('loadMany of cache "unaligned" answered 2 values for 3 keys')
    expect(cache.stats()).toMatchObject({ loadErrors: 1, entries: 0 })
  })

  test('a single get during a batch joins it instead of loading again', async () => {
    const load = jest.fn(() => 'single')
    let release: (() => void) | undefined
    const loadMany = (keys: readonly string[]) =>
      new Promise<Map<string, string>>((resolve) => {
        release = () => { resolve(new Map(keys.map((key) => [key, `batch ${key}`]))) }
      })
    const cache = createCache({ name: 'join-batch', load, loadMany, ttl: '1m' })
    const many = cache.getMany(['a', 'b'])
    const single = cache.get('b')
    release?.()
    expect(await many).toEqual(['batch a', 'batch b'])
    expect(await single).toBe('batch b')
    expect(load).not.toHaveBeenCalled()
  })

  test('a batch that fails rejects with the cache and a key named; stale keys fall back', async () => {
    const clock = manualClock()
    let fail = false
    const loadMany = (keys: readonly string[]) => (fail ? Promise.reject(new Error('batch down')) : Promise.resolve(keys.map((key) => key)))
    const cache = createCache({ name: 'batch-fail', load: (key) => key, loadMany, ttl: '1s', staleIfError: '1m', now: clock.now })
    await cache.getMany(['a', 'b'])
    clock.advance(2_000)
    fail = true
    expect(await cache.getMany(['a', 'b'])).toEqual(['a', 'b'])
    expect(cache.stats()).toMatchObject({ staleOnError: 2, loadErrors: 1 })
    await expect(cache.getMany(['a', 'new1', 'new2'])).rejects.toThrow(/cache "batch-fail" failed: batch down/)
  })

  test('a key the batch loader fails alone (fail) fails alone: the others of the call are served and kept fresh, and the call counts as one load error', async () => {
    const clock = manualClock()
    let round = 1
    const undecodable = new Error('not valid JSON')
    const loadMany = (keys: readonly string[], { fail }: BatchLoadContext) => {
      if (round > 1) fail('b', undecodable)
      return Promise.resolve(keys.map((key) => `${key}${round}`))
    }
    const cache = createCache({ name: 'one-key-fails', load: (key) => key, loadMany, ttl: '1s', staleIfError: '1m', now: clock.now, retryAfterError: 0 })
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual(['a1', 'b1', 'c1'])
    clock.advance(2_000)
    round = 2
    // b keeps its last good value (stale on error); a and c are refreshed, not held back by b.
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual(['a2', 'b1', 'c2'])
    expect(cache.stats()).toMatchObject({ loads: 2, loadErrors: 1, staleOnError: 1 })
    expect((await cache.lookup('a')).outcome).toBe(Outcome.Hit)
    // Past staleIfError, nothing to fall back on: the key's own error, named alone.
    clock.advance(120_000)
    await expect(cache.getMany(['y', 'b'])).rejects.toMatchObject({ message: 'middy-cache: loading "b" for cache "one-key-fails" failed: not valid JSON', cause: undecodable })
    expect(await cache.get('y')).toBe('y2')
  })

  test('a batch loader that fails a key it was not given fails its call with a clear error', async () => {
    const loadMany = (keys: readonly string[], { fail }: BatchLoadContext) => {
      fail('other', new Error('?'))
      return Promise.resolve(keys)
    }
    const cache = createCache({ name: 'fails-a-stranger', load: (key) => key, loadMany, ttl: '1m' })
    await expect(cache.getMany(['a', 'b'])).rejects.toThrow('middy-cache: loadMany of cache "fails-a-stranger" failed "other", a key it was not given')
  })

  test('a batch answer of the wrong shape is a clear error', async () => {
    const loadMany = () => Promise.resolve('nope' as unknown as string[])
    const cache = createCache({ name: 'bad-batch', load: (key) => key, loadMany, ttl: '1m' })
    await expect(cache.getMany(['a', 'b'])).rejects.toThrow(/loadMany of cache "bad-batch" must return a Map or an array/)
  })

  test('a Map keyed by something else than the string keys (numeric ids of untyped rows, say) is refused as a failed load, never read as every key "not found"', async () => {
    const rows: { id: unknown; name: string }[] = [{ id: 1, name: 'one' }, { id: 2, name: 'two' }]
    const loadMany = () => Promise.resolve(new Map(rows.map((row) => [row.id, row.name])) as unknown as Map<string, string>)
    const cache = createCache({ name: 'numeric-ids', load: () => 'single', loadMany, ttl: '1m', negativeTtl: '1m' })
    await expect(cache.getMany(['1', '2'])).rejects.toThrow(
      'middy-cache: loadMany of cache "numeric-ids" answered a Map with a key of type number: its keys must be the string keys it was given',
    )
    expect(cache.stats()).toMatchObject({ loadErrors: 1, entries: 0 })
  })

  test('the batch loader receives a signal that aborts only when every key it serves is abandoned', async () => {
    const clock = manualClock()
    let signal: AbortSignal | undefined
    const loadMany = (keys: readonly string[], context: BatchLoadContext) => {
      signal = context.signal
      return new Promise<string[]>(() => keys)
    }
    const cache = createCache({ name: 'batch-abort', load: () => 'x', loadMany, ttl: '1m', timeout: '5ms', now: clock.now })
    await expect(cache.getMany(['a', 'b'])).rejects.toThrow(/timed out/)
    expect(signal?.aborted).toBe(false)
    expect(await cache.settle(0)).toEqual({ completed: 0, abandoned: 2 })
    expect(signal?.aborted).toBe(true)
  })

  test('a key whose load was just abandoned, still listed while its rejection runs, joins the next batch rather than loading alone', async () => {
    const load = jest.fn((key: string) => `one ${key}`)
    const batches: string[][] = []
    let next: Promise<string[]> | undefined
    const cache = createCache({
      name: 'batch-after-abandon',
      load,
      loadMany: (keys: readonly string[], context: BatchLoadContext) => {
        batches.push([...keys])
        if (batches.length > 1) return Promise.resolve(keys.map((key) => `batch ${key}`))
        // At the abort, the abandoned flights of 'a' and 'b' are still listed.
        context.signal.addEventListener('abort', () => {
          next = cache.getMany(['a', 'c'])
        })
        return new Promise<string[]>(() => keys)
      },
      ttl: '1m',
      timeout: '5ms',
    })
    await expect(cache.getMany(['a', 'b'])).rejects.toThrow(/timed out/)
    expect(await cache.settle(0)).toEqual({ completed: 0, abandoned: 2 })
    expect(await next).toEqual(['batch a', 'batch c'])
    expect(batches).toEqual([['a', 'b'], ['a', 'c']])
    expect(load).not.toHaveBeenCalled()
  })

  test('getMany needs an array', async () => {
    const cache = createCache({ name: 'array-only', load: (key) => key, ttl: '1m' })
    await expect(cache.getMany('abc' as unknown as string[])).rejects.toThrow(/getMany needs an array/)
  })
})

describe('loadManyUncached', () => {
  test('with loadMany, one call for the distinct keys; values in the order asked, neither kept nor frozen', async () => {
    const load = jest.fn((key: string) => ({ key, by: 'load' }))
    const loadMany = jest.fn((keys: readonly string[]) => Promise.resolve(keys.map((key) => ({ key, by: 'batch' }))))
    const cache = createCache({ name: 'uncached-batch', load, loadMany, ttl: '1m', negativeTtl: '1m' })
    const scope = createScope()
    const values = await cache.loadManyUncached(['a', 'b', 'a'], { scope })
    expect(values).toEqual([{ key: 'a', by: 'batch' }, { key: 'b', by: 'batch' }, { key: 'a', by: 'batch' }])
    expect(Object.isFrozen(values[0])).toBe(false)
    expect(loadMany.mock.calls.map(([keys]) => keys)).toEqual([['a', 'b']])
    expect(cache.stats()).toMatchObject({ loads: 1, notCached: 2, entries: 0, inFlight: 0 })
    expect(scope.countersFor('uncached-batch')).toMatchObject({ loads: 1, notCached: 2, misses: 3 })
    // Nothing was kept: a get loads.
    expect(await cache.get('a')).toEqual({ key: 'a', by: 'load' })
    expect(load).toHaveBeenCalledTimes(1)
  })

  test('without loadMany, or with one distinct key, one load per distinct key', async () => {
    const load = jest.fn((key: string) => key.toUpperCase())
    const loadMany = jest.fn((keys: readonly string[]) => Promise.resolve(keys))
    expect(await createCache({ name: 'uncached-lone', load, ttl: '1m' }).loadManyUncached(['a', 'b', 'a'])).toEqual(['A', 'B', 'A'])
    expect(await createCache({ name: 'uncached-one-key', load, loadMany, ttl: '1m' }).loadManyUncached(['c', 'c'])).toEqual(['C', 'C'])
    expect(load.mock.calls.map(([key]) => key)).toEqual(['a', 'b', 'c'])
    expect(loadMany).not.toHaveBeenCalled()
  })

  test('neither joins nor is joined by a cached load of the same key', async () => {
    const batch = deferred<string[]>()
    const load = jest.fn((key: string) => `cached ${key}`)
    const loadMany = jest.fn((_keys: readonly string[]) => batch.promise)
    const cache = createCache({ name: 'uncached-apart', load, loadMany, ttl: '1m' })
    const uncached = cache.loadManyUncached(['a', 'b'])
    expect(await cache.get('a')).toBe('cached a')
    batch.resolve(['uncached a', 'uncached b'])
    expect(await uncached).toEqual(['uncached a', 'uncached b'])
    // 'a' is fresh from the get; 'b', a lone miss, loads alone: the batch kept neither.
    expect(await cache.getMany(['a', 'b'])).toEqual(['cached a', 'cached b'])
    expect(load.mock.calls.map(([key]) => key)).toEqual(['a', 'b'])
    expect(loadMany).toHaveBeenCalledTimes(1)
  })

  test('a key the loader fails alone fails alone; a failed call names the keys loaded together', async () => {
    const denied = new Error('denied')
    const failsB = (keys: readonly string[], { fail }: BatchLoadContext) => {
      if (keys.includes('b')) fail('b', denied)
      return Promise.resolve([...keys])
    }
    const cache = createCache({ name: 'uncached-fails-one', load: (key) => key, loadMany: failsB, ttl: '1m' })
    expect(await cache.loadManyUncached(['a', 'c'])).toEqual(['a', 'c'])
    await expect(cache.loadManyUncached(['a', 'b'])).rejects.toMatchObject({ message: 'middy-cache: loading "b" for cache "uncached-fails-one" failed: denied', cause: denied })
    const failing = createCache({ name: 'uncached-failing', load: (key) => key, loadMany: () => Promise.reject(denied), ttl: '1m' })
    await expect(failing.loadManyUncached(['a', 'b'])).rejects.toThrow('middy-cache: loading "a", loaded together with "b", for cache "uncached-failing" failed: denied')
    expect(failing.stats()).toMatchObject({ loads: 1, loadErrors: 1, errors: 2, entries: 0 })
  })

  test('keys that are not an array of strings are refused before anything loads', async () => {
    const loadMany = jest.fn((keys: readonly string[]) => Promise.resolve(keys))
    const cache = createCache({ name: 'uncached-keys', load: (key) => key, loadMany, ttl: '1m' })
    await expect(cache.loadManyUncached('ab' as unknown as string[])).rejects.toThrow('middy-cache: cache "uncached-keys" loadManyUncached needs an array of string keys')
    await expect(cache.loadManyUncached(['a', 7 as unknown as string])).rejects.toThrow(/cache "uncached-keys" needs string keys; got number/)
    expect(loadMany).not.toHaveBeenCalled()
  })
})
