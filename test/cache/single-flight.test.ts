import { CacheLoadError, createCache, Outcome } from '../../src/index.js'
import { manualClock } from '../support/clock.js'
import { deferred, flushPromises } from '../support/deferred.js'

describe('single-flight', () => {
  test('1,000 concurrent misses on one key make exactly one load', async () => {
    const gate = deferred<string>()
    const load = jest.fn(() => gate.promise)
    const cache = createCache({ name: 'stampede', load, ttl: '1m' })

    const gets = Array.from({ length: 1_000 }, () => cache.get('hot'))
    gate.resolve('value')
    const values = await Promise.all(gets)

    expect(load).toHaveBeenCalledTimes(1)
    expect(new Set(values)).toEqual(new Set(['value']))
    expect(cache.stats()).toMatchObject({ loads: 1, misses: 1_000, inFlight: 0 })
  })

  test('concurrent misses on different keys load each key once', async () => {
    const load = jest.fn((key: string) => Promise.resolve(key.toUpperCase()))
    const cache = createCache({ name: 'per-key', load, ttl: '1m' })
    const keys = ['a', 'b', 'a', 'c', 'b', 'a']
    expect(await Promise.all(keys.map((key) => cache.get(key)))).toEqual(['A', 'B', 'A', 'C', 'B', 'A'])
    expect(load.mock.calls.map(([key]) => key).sort()).toEqual(['a', 'b', 'c'])
  })

  test('concurrent gets of a stale key share one refresh', async () => {
    const clock = manualClock()
    const refresh = deferred<string>()
    const load = jest.fn().mockResolvedValueOnce('v1').mockReturnValueOnce(refresh.promise)
    const cache = createCache({ name: 'stale-stampede', load, ttl: '1s', staleWhileRevalidate: '1m', now: clock.now })
    await cache.get('k')
    clock.advance(2_000)

    const lookups = await Promise.all(Array.from({ length: 100 }, () => cache.lookup('k')))
    expect(lookups.every((lookup) => lookup.outcome === Outcome.Stale && lookup.value === 'v1')).toBe(true)
    expect(load).toHaveBeenCalledTimes(2)
    refresh.resolve('v2')
    await flushPromises()
    expect(await cache.get('k')).toBe('v2')
  })

  test('a failure is shared by every waiter, each getting its own CacheLoadError, and the next get loads again', async () => {
    const gate = deferred<string>()
    const load = jest.fn().mockReturnValueOnce(gate.promise).mockResolvedValueOnce('recovered')
    const cache = createCache({ name: 'shared-failure', load, ttl: '1m' })
    const gets = Array.from({ length: 10 }, () => cache.get('k').catch((error: unknown) => error))
    gate.reject(new Error('boom'))
    const errors = await Promise.all(gets)

    expect(errors.every((error) => error instanceof CacheLoadError)).toBe(true)
    expect(load).toHaveBeenCalledTimes(1)
    expect(cache.stats()).toMatchObject({ errors: 10, loadErrors: 1, inFlight: 0 })
    expect(await cache.get('k')).toBe('recovered')
  })
})
