import { CacheLoadError, CacheTimeoutError, createCache, Outcome, type Cache } from '../../src/index.js'
import type { Entry } from '../../src/cache/freshness.js'
import { manualClock } from '../support/clock.js'
import { deferred, flushPromises } from '../support/deferred.js'

describe('set, delete and clear', () => {
  test('set stores a fresh value with the cache ttl, or its own', async () => {
    const clock = manualClock()
    const load = jest.fn(() => 'loaded')
    const cache = createCache({ name: 'writes', load, ttl: '10s', now: clock.now })
    await cache.set('default', 'written')
    await cache.set('short', 'written', { ttl: '1s' })
    clock.advance(5_000)
    expect(await cache.lookup('default')).toMatchObject({ value: 'written', outcome: Outcome.Hit })
    expect(await cache.lookup('short')).toMatchObject({ value: 'loaded', outcome: Outcome.Miss })
  })

  test('set wins over a load that was already running', async () => {
    const slow = deferred<string>()
    const cache = createCache({ name: 'set-wins', load: () => slow.promise, ttl: '1m' })
    const waiting = cache.get('k')
    await cache.set('k', 'newer')
    slow.resolve('older')
    expect(await waiting).toBe('older')
    expect(await cache.get('k')).toBe('newer')
  })

  test('delete forgets a key, and a load still running for it does not bring it back', async () => {
    const slow = deferred<string>()
    const load = jest.fn().mockResolvedValueOnce('v1').mockReturnValueOnce(slow.promise).mockResolvedValue('v3')
    const clock = manualClock()
    const cache = createCache({ name: 'deletes', load, ttl: '1s', staleWhileRevalidate: '1m', now: clock.now })
    await cache.get('k')
    clock.advance(2_000)
    expect(await cache.get('k')).toBe('v1')
    expect(await cache.delete('k')).toBe(true)
    slow.resolve('v2')
    await flushPromises()
    expect(await cache.lookup('k')).toMatchObject({ value: 'v3', outcome: Outcome.Miss })
  })

  test('clear forgets every key', async () => {
    const load = jest.fn((key: string) => key)
    const cache = createCache({ name: 'clears', load, ttl: '1m' })
    await cache.getMany(['a', 'b'])
    await cache.clear()
    expect(cache.stats().entries).toBe(0)
    await cache.getMany(['a', 'b'])
    expect(load).toHaveBeenCalledTimes(4)
  })

  test.each([
    ['set', async (cache: Cache<string>) => { await cache.set('k', 'written') }],
    ['delete', async (cache: Cache<string>) => { await cache.delete('k') }],
    ['clear', (cache: Cache<string>) => cache.clear()],
  ] as const)('%s abandons a load it supersedes that nobody waits for (a refresh no scope tracks): its signal aborts', async (_write, supersede) => {
    const clock = manualClock()
    const signals: AbortSignal[] = []
    const load = jest.fn((_key: string, { signal }: { signal: AbortSignal }) => {
      signals.push(signal)
      return signals.length === 1 ? Promise.resolve('v1') : new Promise<string>(() => undefined)
    })
    const cache = createCache({ name: 'superseded', load, ttl: '1s', staleWhileRevalidate: '1m', now: clock.now })
    await cache.get('k')
    clock.advance(2_000)
    expect(await cache.get('k')).toBe('v1')

    await supersede(cache)
    expect(signals.map((signal) => signal.aborted)).toEqual([false, true])
    expect(cache.stats().inFlight).toBe(0)
  })

  test('set validates its own durations, rejecting as a get does', async () => {
    const cache = createCache({ name: 'set-options', load: () => 'v', ttl: '1m' })
    await expect(cache.set('k', 'v', { ttl: '-1s' })).rejects.toThrow(/option "ttl"/)
  })
})

describe('a caller in the fallback phase whose load fails after a write superseded it', () => {
  /** A cache whose 'old' value of 'k' is stale within staleIfError, and a lookup of it waiting for the reload `load` answers next. */
  const waitingInFallback = async (name: string, reload: Promise<string>) => {
    const clock = manualClock()
    const load = jest.fn().mockResolvedValueOnce('old').mockReturnValueOnce(reload)
    const cache = createCache<string>({ name, load, ttl: '1s', staleIfError: '1h', timeout: '50ms', now: clock.now })
    await cache.get('k')
    clock.advance(2_000)
    const waiting = cache.lookup('k').catch((error: unknown) => error)
    expect(load).toHaveBeenCalledTimes(2)
    return { cache, waiting, clock }
  }

  test('set: is served the value set, never the older one it saw', async () => {
    const reload = deferred<string>()
    const { cache, waiting } = await waitingInFallback('fallback-after-set', reload.promise)
    await cache.set('k', 'new')
    reload.reject(new Error('source down'))
    expect(await waiting).toMatchObject({ value: 'new', outcome: Outcome.StaleOnError })
    expect(await cache.lookup('k')).toMatchObject({ value: 'new', outcome: Outcome.Hit })
  })

  test('set: the same when the load outlives its timeout', async () => {
    const { cache, waiting } = await waitingInFallback('fallback-after-set-timeout', new Promise<string>(() => undefined))
    await cache.set('k', 'new')
    expect(await waiting).toMatchObject({ value: 'new', outcome: Outcome.StaleOnError })
    await cache.settle(0)
  })

  test.each([
    ['delete', async (cache: Cache<string>) => { await cache.delete('k') }],
    ['clear', (cache: Cache<string>) => cache.clear()],
  ] as const)('%s: fails as if the entry were gone, and is counted an error', async (write, forget) => {
    const reload = deferred<string>()
    const { cache, waiting } = await waitingInFallback(`fallback-after-${write}`, reload.promise)
    await forget(cache)
    reload.reject(new Error('source down'))
    expect(await waiting).toBeInstanceOf(CacheLoadError)
    expect(cache.stats()).toMatchObject({ errors: 1, staleOnError: 0 })
  })

  test('delete: the same when the load outlives its timeout', async () => {
    const { cache, waiting } = await waitingInFallback('fallback-after-delete-timeout', new Promise<string>(() => undefined))
    await cache.delete('k')
    expect(await waiting).toBeInstanceOf(CacheTimeoutError)
    await cache.settle(0)
  })

  test('a load replaced after a freeze, then the key deleted: its caller is not served the value it saw', async () => {
    const hung = new Promise<string>(() => undefined)
    const { cache, waiting, clock } = await waitingInFallback('fallback-after-replace-delete', hung)
    // Thawed a minute later: the next get does not join the silent load but replaces it.
    clock.advance(60_000)
    const replacing = cache.get('k')
    await cache.delete('k')
    expect(await waiting).toBeInstanceOf(CacheTimeoutError)
    await replacing
    await cache.settle(0)
  })

  test('with no write, a newer entry memory took meanwhile (a snapshot restored) stands in rather than the one the caller saw', async () => {
    const reload = deferred<string>()
    const { cache, waiting, clock } = await waitingInFallback('fallback-after-adopt', reload.promise)
    const [[storeKey, seen]] = [...cache.peekEntries()] as [[string, Entry<string>]]
    const now = clock.now()
    expect(cache.adoptEntries([[storeKey, { ...seen, value: 'restored', createdAt: now, freshUntil: now - 1, revalidateUntil: now - 1 }]], undefined)).toBe(1)
    reload.reject(new Error('source down'))
    expect(await waiting).toMatchObject({ value: 'restored', outcome: Outcome.StaleOnError })
  })
})
