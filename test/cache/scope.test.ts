import { CacheLoadError, createCache, createScope, Outcome, Tier } from '../../src/index.js'
import type { LoadContext } from '../../src/index.js'
import { staleWithHeldRefresh } from '../support/held-refresh.js'
import { manualClock } from '../support/clock.js'
import { deferred, flushPromises } from '../support/deferred.js'

describe('outcomes and counters', () => {
  test('each get reports its outcome and tier, and the scope counts them per cache', async () => {
    const clock = manualClock()
    let fail = false
    const load = (key: string): Promise<string> => (fail ? Promise.reject(new Error('down')) : Promise.resolve(key))
    const cache = createCache({ name: 'counted', load, ttl: '1s', staleWhileRevalidate: '1s', staleIfError: '10s', now: clock.now })
    const scope = createScope()

    expect(await cache.lookup('a', { scope })).toMatchObject({ outcome: Outcome.Miss, tier: Tier.Source })
    expect(await cache.lookup('a', { scope })).toMatchObject({ outcome: Outcome.Hit, tier: Tier.L1 })
    await cache.get('a', { scope })
    clock.advance(1_500)
    expect(await cache.lookup('a', { scope })).toMatchObject({ outcome: Outcome.Stale, tier: Tier.L1 })
    await scope.settle(100)
    clock.advance(3_000)
    fail = true
    expect(await cache.lookup('a', { scope })).toMatchObject({ outcome: Outcome.StaleOnError, tier: Tier.L1 })
    await expect(cache.lookup('never-loaded', { scope })).rejects.toThrow(/"never-loaded"/)

    expect(scope.countersFor('counted')).toMatchObject({
      hits: 2, misses: 1, staleServed: 1, staleOnError: 1, errors: 1, loads: 4, loadErrors: 2,
    })
    expect(scope.countersFor('counted').gets).toBe(6)
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 1, staleServed: 1, staleOnError: 1, errors: 1, loads: 4, loadErrors: 2 })
  })

  test('two concurrent scopes keep their own counts of one shared cache', async () => {
    const gate = deferred<string>()
    const cache = createCache({ name: 'shared', load: () => gate.promise, ttl: '1m' })
    const first = createScope()
    const second = createScope()

    const waiting = [cache.get('k', { scope: first }), cache.get('k', { scope: second }), cache.get('k', { scope: second })]
    gate.resolve('v')
    await Promise.all(waiting)
    await cache.get('k', { scope: first })

    expect(first.countersFor('shared')).toMatchObject({ misses: 1, hits: 1, loads: 1 })
    expect(second.countersFor('shared')).toMatchObject({ misses: 2, hits: 0, loads: 0 })
    expect(cache.stats()).toMatchObject({ misses: 3, hits: 1, loads: 1 })
  })

  test('load time is measured on the cache clock and timeouts are counted in the scope that started the load', async () => {
    const clock = manualClock()
    const load = (): Promise<string> => {
      clock.advance(250)
      return Promise.resolve('v')
    }
    const cache = createCache({ name: 'timed', load, ttl: '1m', now: clock.now })
    const scope = createScope()
    await cache.get('k', { scope })
    expect(scope.countersFor('timed').loadTimeMs).toBe(250)

    const stuck = createCache({ name: 'stuck', load: () => new Promise<string>(() => undefined), ttl: '1m', timeout: '5ms' })
    await expect(stuck.get('k', { scope })).rejects.toThrow(/timed out/)
    expect(scope.countersFor('stuck')).toMatchObject({ loadTimeouts: 1, errors: 1 })
    await scope.settle(0)
  })

  test('a scope lists the caches it used', async () => {
    const scope = createScope()
    await createCache({ name: 'one', load: () => 1, ttl: 1 }).get('k', { scope })
    await createCache({ name: 'two', load: () => 2, ttl: 1 }).get('k', { scope })
    expect([...scope.counters.keys()]).toEqual(['one', 'two'])
  })
})

describe('CacheScope counters', () => {
  test('countHits adds to the same counters countersFor gives, before and after they are made', () => {
    const scope = createScope()
    scope.countHits('config', 2)
    scope.countHits('secrets', 1)
    scope.countHits('config', 2)
    expect(scope.countersFor('config').hits).toBe(4)
    scope.countHits('config', 1)
    scope.countersFor('config').misses++
    expect([...scope.counters].map(([name, counters]) => [name, counters.hits, counters.misses])).toEqual([
      ['config', 5, 1],
      ['secrets', 1, 0],
    ])
  })

  test('a scope that counted nothing has no counters', () => {
    expect(createScope().counters.size).toBe(0)
  })
})

describe('loads shared by scopes (concurrent invocations of a Managed Instance)', () => {
  test('a load a scope starts after it settled is not held for it: cache.settle can still abandon it', async () => {
    const gate = deferred<string>()
    const seen: { signal?: AbortSignal } = {}
    const load = (_key: string, { signal }: LoadContext): Promise<string> => {
      seen.signal = signal
      return gate.promise
    }
    const cache = createCache({ name: 'after-settle', load, ttl: '1m' })
    const scope = createScope()
    expect(await scope.settle(0)).toEqual({ completed: 0, abandoned: 0 })
    const late = cache.get('k', { scope }).catch((error: unknown) => error)
    expect(await cache.settle(0)).toEqual({ completed: 0, abandoned: 1 })
    expect(seen.signal?.aborted).toBe(true)
    expect(await late).toBeInstanceOf(CacheLoadError)
  })

  test('a refresh two scopes track runs on when one gives up, and is abandoned when the last one does', async () => {
    const { cache, load, refresh, seen } = await staleWithHeldRefresh('shared-refresh', { staleWhileRevalidate: '1m' })
    const started = createScope()
    const joined = createScope()
    expect(await cache.get('k', { scope: started })).toBe('old')
    expect(await cache.get('k', { scope: joined })).toBe('old')
    expect(load).toHaveBeenCalledTimes(2)

    expect(await joined.settle(0)).toEqual({ completed: 0, abandoned: 0 })
    expect(seen.signal?.aborted).toBe(false)
    expect(await started.settle(0)).toEqual({ completed: 0, abandoned: 1 })
    expect(seen.signal?.aborted).toBe(true)
    refresh.resolve('too late')
    await flushPromises()
    expect(await cache.lookup('k')).toMatchObject({ value: 'old', outcome: Outcome.Stale })
  })

  test('whichever scope gives up first, the refresh finishes for the one still tracking it', async () => {
    const { cache, refresh, seen } = await staleWithHeldRefresh('shared-refresh-kept', { staleWhileRevalidate: '1m' })
    const started = createScope()
    const joined = createScope()
    await cache.get('k', { scope: started })
    await cache.get('k', { scope: joined })

    expect(await started.settle(0)).toEqual({ completed: 0, abandoned: 0 })
    refresh.resolve('new')
    expect(await joined.settle(100)).toEqual({ completed: 1, abandoned: 0 })
    expect(seen.signal?.aborted).toBe(false)
    expect(await cache.lookup('k')).toMatchObject({ value: 'new', outcome: Outcome.Hit })
  })

  test('a get the handler never awaited is given up on by its scope: the load is abandoned and the get fails with CacheLoadError', async () => {
    let signal: AbortSignal | undefined
    const load = (_key: string, context: LoadContext): Promise<string> => {
      signal = context.signal
      return new Promise(() => undefined)
    }
    const cache = createCache({ name: 'forgotten-get', load, ttl: '1m' })
    const scope = createScope()
    const forgotten = cache.get('k', { scope }).catch((error: unknown) => error)

    expect(await scope.settle(5)).toEqual({ completed: 0, abandoned: 1 })
    expect(signal?.aborted).toBe(true)
    const error = await forgotten
    expect(error).toBeInstanceOf(CacheLoadError)
    expect(error).toMatchObject({ cache: 'forgotten-get', key: 'k', message: expect.stringMatching(/abandoned/) as string })
    expect(cache.stats().inFlight).toBe(0)
  })

  test('a get the handler never awaited, with a stale value to fall back on, gets that value once its scope gives up', async () => {
    const { cache, seen } = await staleWithHeldRefresh('forgotten-fallback', { staleIfError: '1m' })
    const scope = createScope()
    const forgotten = cache.lookup('k', { scope })

    expect(await scope.settle(5)).toEqual({ completed: 0, abandoned: 1 })
    expect(seen.signal?.aborted).toBe(true)
    expect(await forgotten).toMatchObject({ value: 'old', outcome: Outcome.StaleOnError })
  })

  test('a get another scope still waits for keeps the load running when the scope that started it gives up', async () => {
    const gate = deferred<string>()
    const cache = createCache({ name: 'awaited-elsewhere', load: () => gate.promise, ttl: '1m' })
    const started = createScope()
    const waiting = createScope()
    const forgotten = cache.get('k', { scope: started }).catch((error: unknown) => error)
    const awaited = cache.get('k', { scope: waiting })

    expect(await started.settle(0)).toEqual({ completed: 0, abandoned: 0 })
    gate.resolve('v')
    expect(await awaited).toBe('v')
    expect(await forgotten).toBe('v')
  })
})
