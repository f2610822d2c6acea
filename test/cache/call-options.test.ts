import { CacheError, CacheLoadError, CacheOptionsError, createCache, createScope, Outcome } from '../../src/index.js'
import type { Cache, EntryFreshness, GetOptions, SetOptions } from '../../src/index.js'

/** Options as JavaScript may pass them, past what TypeScript would allow. */
const loose = (options: Record<string, unknown>): never => options as never
const errorOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (error: unknown) => error)
const cacheOf = (name: string): Cache<string> => createCache({ name, load: (key) => `loaded ${key}`, ttl: '1m' })

describe('options given to one call are checked as the factories check theirs', () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['a misspelt ttl', { ttL: '1m' }, /option "ttL" is not an option \(did you mean "ttl"\?\); known options: ttl, staleWhileRevalidate, staleIfError, scope/],
    ['a misspelt window', { staleWhileRevalidation: 5 }, /option "staleWhileRevalidation" is not an option \(did you mean "staleWhileRevalidate"\?\)/],
    ['an option only a cache has', { negativeTtl: '1m' }, /option "negativeTtl" is not an option/],
    ['a bad duration', { ttl: '-1s' }, /option "ttl"/],
    ['a scope not made by createScope', { scope: 'invocation-1' }, /option "scope" must be a scope made by createScope\(\); got "invocation-1"/],
  ])('set refuses %s, and stores nothing', async (_case, options, message) => {
    const cache = cacheOf('set-options')
    const error = await errorOf(cache.set('k', 'written', loose(options)))
    expect(error).toBeInstanceOf(CacheOptionsError)
    expect((error as Error).message).toMatch(message)
    expect(await cache.lookup('k')).toMatchObject({ value: 'loaded k', outcome: Outcome.Miss })
  })

  test('set options that are not an object are refused', async () => {
    const cache = cacheOf('set-not-object')
    await expect(cache.set('k', 'v', '1m' as unknown as SetOptions)).rejects.toThrow(/option "options" must be an object such as \{ ttl: '1m' \}; got "1m"/)
  })

  test('valid set options store the value with its own freshness', async () => {
    const cache = cacheOf('set-valid')
    const scope = createScope()
    await cache.set('k', 'written', { ttl: '5m', staleWhileRevalidate: '1m', staleIfError: '1h', scope })
    expect(await cache.lookup('k')).toMatchObject({ value: 'written', outcome: Outcome.Hit })
  })

  test('every get-like call refuses a misspelt option, by rejecting', async () => {
    const cache = cacheOf('get-options')
    const misspelt = loose({ scop: createScope() })
    const calls: [string, () => Promise<unknown>][] = [
      ['get', () => cache.get('k', misspelt)],
      ['lookup', () => cache.lookup('k', misspelt)],
      ['getMany', () => cache.getMany(['k'], misspelt)],
      ['loadUncached', () => cache.loadUncached('k', misspelt)],
      ['loadManyUncached', () => cache.loadManyUncached(['k', 'j'], misspelt)],
      ['delete', () => cache.delete('k', misspelt)],
      ['clear', () => cache.clear(misspelt)],
    ]
    for (const [call, run] of calls) {
      const error = await errorOf(run())
      expect([call, error]).toEqual([call, expect.any(CacheOptionsError)])
      expect((error as Error).message).toMatch(/option "scop" is not an option \(did you mean "scope"\?\); known options: scope/)
    }
    expect(cache.stats()).toMatchObject({ loads: 0, entries: 0 })
  })

  test('a get with a scope that is no scope is refused before it loads, and one with a scope made by createScope is counted there', async () => {
    const cache = cacheOf('get-scope')
    await expect(cache.get('k', loose({ scope: {} }))).rejects.toThrow(/option "scope" must be a scope made by createScope\(\); got an object/)
    await expect(cache.get('k', null as unknown as GetOptions)).rejects.toThrow(/option "options" must be an object such as \{ scope \}; got null/)
    expect(cache.stats().loads).toBe(0)
    const scope = createScope()
    expect(await cache.get('k', { scope })).toBe('loaded k')
    expect(scope.countersFor('get-scope').misses).toBe(1)
  })

  test('refreshAhead refuses a misspelt option, a signal that is no AbortSignal and a roundMs that is no count of milliseconds', async () => {
    const cache = cacheOf('refresh-options')
    await expect(cache.refreshAhead(1_000, loose({ singal: AbortSignal.timeout(100) }))).rejects.toThrow(/option "singal" is not an option \(did you mean "signal"\?\)/)
    await expect(cache.refreshAhead(1_000, loose({ signal: 100 }))).rejects.toThrow(/option "signal" must be an AbortSignal; got 100/)
    await expect(cache.refreshAhead(1_000, loose({ roundMs: '10s' }))).rejects.toThrow(/option "roundMs" must be a number of milliseconds from 0, such as 10000; got "10s"/)
    await expect(cache.refreshAhead(1_000, { roundMs: -1 })).rejects.toThrow(/option "roundMs" must be a number of milliseconds from 0, such as 10000; got -1/)
    await expect(cache.refreshAhead(1_000, { roundMs: Number.NaN })).rejects.toThrow(/option "roundMs" must be .*; got NaN/)
    expect(await cache.refreshAhead(1_000, { scope: createScope(), signal: AbortSignal.timeout(1_000), roundMs: 10_000 })).toEqual({ refreshed: 0, failed: 0 })
  })
})

describe("a loader's setFreshness is checked at its call", () => {
  test('a misspelt name fails the load, naming it', async () => {
    const cache = createCache({
      name: 'freshness-names',
      load: (_key: string, { setFreshness }) => {
        setFreshness(loose({ tll: '1m' }))
        return 'v'
      },
      ttl: '1m',
    })
    const error = await errorOf(cache.get('k'))
    expect(error).toBeInstanceOf(CacheLoadError)
    expect((error as Error).cause).toBeInstanceOf(CacheOptionsError)
    expect((error as Error).message).toMatch(/option "tll" is not an option \(did you mean "ttl"\?\); known options: ttl, staleWhileRevalidate, staleIfError$/)
  })

  test('freshness that is no object fails the load, naming it', async () => {
    const cache = createCache({
      name: 'freshness-object',
      load: (_key: string, { setFreshness }) => {
        setFreshness('5m' as unknown as EntryFreshness)
        return 'v'
      },
      ttl: '1m',
    })
    await expect(cache.get('k')).rejects.toThrow(/option "freshness" must be an object such as \{ ttl: '1m' \}; got "5m"/)
  })

  test('in a batch, a misspelt name or a key the batch was not given fails the batch', async () => {
    const misspelt = createCache({
      name: 'batch-freshness-names',
      load: () => 'one',
      loadMany: (keys, { setFreshness }) => {
        setFreshness(loose({ staleIfErorr: '1h' }), 'a')
        return Promise.resolve(keys.map(() => 'v'))
      },
      ttl: '1m',
    })
    await expect(misspelt.getMany(['a', 'b'])).rejects.toThrow(/option "staleIfErorr" is not an option \(did you mean "staleIfError"\?\)/)
    const stranger = createCache({
      name: 'batch-freshness-keys',
      load: () => 'one',
      loadMany: (keys, { setFreshness }) => {
        setFreshness({ ttl: '5m' }, 'c')
        return Promise.resolve(keys.map(() => 'v'))
      },
      ttl: '1m',
    })
    const error = await errorOf(stranger.getMany(['a', 'b']))
    expect(error).toBeInstanceOf(CacheLoadError)
    expect((error as Error).cause).toBeInstanceOf(CacheError)
    expect((error as Error).message).toMatch(/loadMany of cache "batch-freshness-keys" set the freshness of "c", a key it was not given/)
  })
})
