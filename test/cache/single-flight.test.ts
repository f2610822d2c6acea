import { CacheLoadError, CacheTimeoutError, createCache, createScope, Outcome, type Cache, type LoadContext } from '../../src/index.js'
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

  test('1,000 concurrent misses on one key whose load outlives timeout make one load and one timeout; the next get joins it', async () => {
    const load = jest.fn(() => new Promise<string>(() => undefined))
    const cache = createCache({ name: 'stampede-timeout', load, ttl: '1m', timeout: '20ms' })
    const errors = await Promise.all(Array.from({ length: 1_000 }, () => cache.get('hot').catch((error: unknown) => error)))
    expect(errors.every((error) => error instanceof CacheTimeoutError)).toBe(true)
    expect(await cache.get('hot').catch((error: unknown) => error)).toBeInstanceOf(CacheTimeoutError)
    expect(load).toHaveBeenCalledTimes(1)
    expect(cache.stats()).toMatchObject({ loads: 1, loadTimeouts: 1, errors: 1_001 })
    await cache.settle(0)
  })

  test.each([
    ['set', (cache: Cache<string>) => cache.set('hot', 'set'), 'set'],
    ['delete', (cache: Cache<string>) => cache.delete('hot'), 'loaded again'],
    ['clear', (cache: Cache<string>) => cache.clear(), 'loaded again'],
  ] as const)('1,000 concurrent misses on one key superseded by %s make one load, answer every caller, and store nothing', async (_case, supersede, after) => {
    const gate = deferred<string>()
    const signals: AbortSignal[] = []
    const load = jest.fn((_key: string, { signal }: LoadContext) => {
      signals.push(signal)
      return signals.length === 1 ? gate.promise : Promise.resolve('loaded again')
    })
    const cache = createCache({ name: 'stampede-superseded', load, ttl: '1m' })
    const scopes = Array.from({ length: 1_000 }, () => createScope())
    const gets = scopes.map((scope) => cache.get('hot', { scope }))
    await supersede(cache)
    gate.resolve('loaded')

    expect(new Set(await Promise.all(gets))).toEqual(new Set(['loaded']))
    expect(signals[0]?.aborted).toBe(false)
    expect(await cache.get('hot')).toBe(after)
    expect(load).toHaveBeenCalledTimes(after === 'set' ? 1 : 2)
    expect(cache.stats()).toMatchObject({ misses: after === 'set' ? 1_000 : 1_001, errors: 0, inFlight: 0 })
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

describe('single-flight across a freeze', () => {
  const ignore = (): void => undefined

  // A prefetch at INIT, then provisioned concurrency freezes the environment for an hour: the
  // prefetch's socket is dead at the thaw, and its answer never comes. No `timeout`, the default of
  // configCache and secretsCache, and with one (which fires at the thaw), alike.
  test.each([
    ['without a timeout', {}],
    ['with a timeout', { timeout: '50ms' }],
  ] as const)('a load left running across a freeze is not joined after the thaw (%s): a new load serves, and the old one answering late changes nothing', async (_case, timeout) => {
    const clock = manualClock()
    const hung = deferred<string>()
    const signals: AbortSignal[] = []
    const load = jest.fn((_key: string, { signal }: { signal: AbortSignal }) => {
      signals.push(signal)
      return signals.length === 1 ? hung.promise : Promise.resolve('fresh')
    })
    const cache = createCache({ name: 'thawed', load, ttl: '1h', now: clock.now, ...timeout })
    const prefetch = cache.getMany(['table']).catch(ignore)
    clock.advance(60 * 60_000)

    const scope = createScope()
    const invocations = Promise.all([cache.getMany(['table'], { scope }), cache.get('table', { scope })])
    let served: unknown
    void invocations.then((values) => {
      served = values
    })
    await flushPromises()
    expect(served).toEqual([['fresh'], 'fresh'])
    expect(load).toHaveBeenCalledTimes(2)
    expect(cache.stats()).toMatchObject({ inFlight: 0, errors: 0 })

    // The prefetch's caller still waits for its load (it is not aborted under it); its answer, an
    // hour old, is not what the key holds now.
    expect(signals[0]?.aborted).toBe(false)
    hung.resolve('from before the freeze')
    await prefetch
    expect(await cache.get('table')).toBe('fresh')
  })

  test('a load left running across a freeze that nobody waits for any more is abandoned once replaced: its signal aborts', async () => {
    const clock = manualClock()
    const signals: AbortSignal[] = []
    const load = jest.fn((_key: string, { signal }: { signal: AbortSignal }) => {
      signals.push(signal)
      return signals.length === 2 ? new Promise<string>(() => undefined) : Promise.resolve(`v${String(signals.length)}`)
    })
    const cache = createCache({ name: 'thawed-refresh', load, ttl: '1s', staleWhileRevalidate: '2h', now: clock.now })
    await cache.get('k')
    clock.advance(2_000)
    // Served stale at once; the refresh beside it hangs, and no scope tracks it to give up on it.
    expect(await cache.get('k')).toBe('v1')
    clock.advance(60 * 60_000)

    expect(await cache.get('k')).toBe('v1')
    expect(load).toHaveBeenCalledTimes(3)
    expect(signals.map((signal) => signal.aborted)).toEqual([false, true, false])
    await flushPromises()
    expect(await cache.get('k')).toBe('v3')
  })

  test('a prefetch left running across a freeze, which nobody waits for, is abandoned once the first load after the thaw replaces it: its signal aborts', async () => {
    const clock = manualClock()
    const signals: AbortSignal[] = []
    const load = jest.fn((_key: string, { signal }: { signal: AbortSignal }) => {
      signals.push(signal)
      return signals.length === 1 ? new Promise<string>(() => undefined) : Promise.resolve('fresh')
    })
    const cache = createCache({ name: 'thawed-prefetch', load, ttl: '1h', now: clock.now })
    cache.prefetch(['table'])
    clock.advance(60 * 60_000)

    expect(await cache.getMany(['table'], { scope: createScope() })).toEqual(['fresh'])
    expect(signals.map((signal) => signal.aborted)).toEqual([true, false])
    await flushPromises()
    expect(cache.stats()).toMatchObject({ inFlight: 0, entries: 1, errors: 0 })
  })

  test.each([
    ['waited for by a caller without a scope', (cache: Cache<string>) => cache.getMany(['table']).catch(ignore)],
    ['started by prefetch', (cache: Cache<string>) => { cache.prefetch(['table']) }],
  ] as const)('on demand, the first invocation joins the prefetch its INIT started (%s), however long INIT took (at most 10 s)', async (_case, startPrefetch) => {
    const clock = manualClock()
    const prefetched = deferred<string>()
    const load = jest.fn(() => prefetched.promise)
    const cache = createCache({ name: 'on-demand', load, ttl: '1h', now: clock.now })
    const prefetch = startPrefetch(cache)
    clock.advance(10_000)

    const invocation = cache.getMany(['table'], { scope: createScope() })
    await flushPromises()
    clock.advance(5_000)
    // Another get while that invocation still waits for the prefetch (a concurrent request of a Managed Instance) joins it too.
    const concurrent = cache.get('table', { scope: createScope() })
    prefetched.resolve('products')

    expect(await invocation).toEqual(['products'])
    expect(await concurrent).toBe('products')
    await prefetch
    expect(load).toHaveBeenCalledTimes(1)
  })
})
