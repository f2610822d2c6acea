import { CacheLoadError, createCache, Outcome, Tier } from '../../src/index.js'
import { manualClock } from '../support/clock.js'
import { deferred, flushPromises } from '../support/deferred.js'

const seconds = (n: number): number => n * 1_000

const countingLoader = (values: Record<string, string | undefined> = {}) => {
  const calls: string[] = []
  const load = (key: string): Promise<string | undefined> => {
    calls.push(key)
    return Promise.resolve(key in values ? values[key] : `${key}#${calls.length}`)
  }
  return { calls, load }
}

describe('freshness', () => {
  test('a fresh value is served from L1 without calling the loader again', async () => {
    const clock = manualClock()
    const { calls, load } = countingLoader()
    const cache = createCache({ name: 'fresh', load, ttl: 10, now: clock.now })

    expect(await cache.lookup('a')).toEqual({ value: 'a#1', outcome: Outcome.Miss, tier: Tier.Source })
    clock.advance(seconds(9.999))
    expect(await cache.lookup('a')).toEqual({ value: 'a#1', outcome: Outcome.Hit, tier: Tier.L1 })
    expect(calls).toEqual(['a'])
  })

  test('after ttl, with no stale window, a get waits for a new load', async () => {
    const clock = manualClock()
    const { calls, load } = countingLoader()
    const cache = createCache({ name: 'expire', load, ttl: '10s', now: clock.now })

    await cache.get('a')
    clock.advance(seconds(10))
    expect(await cache.lookup('a')).toMatchObject({ value: 'a#2', outcome: Outcome.Miss })
    expect(calls).toHaveLength(2)
  })

  test('inside staleWhileRevalidate the stale value is served at once and one refresh runs beside the caller', async () => {
    const clock = manualClock()
    const refresh = deferred<string>()
    let loads = 0
    const cache = createCache({
      name: 'swr',
      load: () => (++loads === 1 ? 'v1' : refresh.promise),
      ttl: '10s',
      staleWhileRevalidate: '5s',
      now: clock.now,
    })
    await cache.get('k')
    clock.advance(seconds(12))

    const first = await cache.lookup('k')
    const second = await cache.lookup('k')
    expect(first).toEqual({ value: 'v1', outcome: Outcome.Stale, tier: Tier.L1 })
    expect(second.outcome).toBe(Outcome.Stale)
    expect(loads).toBe(2)

    refresh.resolve('v2')
    await flushPromises()
    expect(await cache.lookup('k')).toEqual({ value: 'v2', outcome: Outcome.Hit, tier: Tier.L1 })
  })

  test('past staleWhileRevalidate the get waits for the load instead of serving stale', async () => {
    const clock = manualClock()
    const { load } = countingLoader()
    const cache = createCache({ name: 'swr-end', load, ttl: '10s', staleWhileRevalidate: '5s', now: clock.now })
    await cache.get('k')
    clock.advance(seconds(15))
    expect(await cache.lookup('k')).toMatchObject({ value: 'k#2', outcome: Outcome.Miss })
  })

  test('a failed refresh inside staleIfError serves the last good value and keeps it', async () => {
    const clock = manualClock()
    let fail = false
    const cache = createCache({
      name: 'sie',
      load: () => (fail ? Promise.reject(new Error('SSM throttled')) : Promise.resolve('good')),
      ttl: '10s',
      staleIfError: '1m',
      now: clock.now,
    })
    await cache.get('k')
    fail = true
    clock.advance(seconds(30))
    expect(await cache.lookup('k')).toEqual({ value: 'good', outcome: Outcome.StaleOnError, tier: Tier.L1 })
    clock.advance(seconds(30))
    expect(await cache.lookup('k')).toEqual({ value: 'good', outcome: Outcome.StaleOnError, tier: Tier.L1 })
    expect(cache.stats()).toMatchObject({ staleOnError: 2, loadErrors: 2, entries: 1 })
  })

  test('past staleIfError the failure surfaces as a CacheLoadError naming the cache and key, with the cause', async () => {
    const clock = manualClock()
    let fail = false
    const cause = new Error('AccessDenied')
    const cache = createCache({
      name: 'sie-end',
      load: () => (fail ? Promise.reject(cause) : Promise.resolve('good')),
      ttl: '10s',
      staleIfError: '20s',
      now: clock.now,
    })
    await cache.get('/shop/table')
    fail = true
    clock.advance(seconds(30))

    const error: unknown = await cache.get('/shop/table').catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(CacheLoadError)
    expect(error).toMatchObject({ cache: 'sie-end', key: '/shop/table', cause })
    expect((error as Error).message).toContain('"/shop/table"')
    expect((error as Error).message).toContain('"sie-end"')
    expect((error as Error).message).toContain('AccessDenied')
  })

  test('whatever a loader rejects with, even what has no String(), the stale value stands in, and past staleIfError it is the cause', async () => {
    const clock = manualClock()
    const unprintable: unknown = Object.create(null)
    const throwingToString = { toString: () => { throw new Error('no words') } }
    for (const reason of [unprintable, throwingToString, undefined, 'a string']) {
      let fail = false
      const cache = createCache({ name: 'odd-reasons', load: () => (fail ? Promise.reject(reason as Error) : Promise.resolve('good')), ttl: '10s', staleIfError: '20s', now: clock.now })
      await cache.get('k')
      fail = true
      clock.advance(seconds(15))
      expect(await cache.lookup('k')).toEqual({ value: 'good', outcome: Outcome.StaleOnError, tier: Tier.L1 })
      clock.advance(seconds(30))
      const error: unknown = await cache.get('k').catch((thrown: unknown) => thrown)
      expect(error).toBeInstanceOf(CacheLoadError)
      expect((error as CacheLoadError).cause).toBe(reason)
      expect((error as Error).message).toContain('loading "k" for cache "odd-reasons" failed: ')
    }
  })

  test('describeKey names the key in load errors; one that throws leaves the quoted key', async () => {
    const reason = new Error('denied')
    const load = (): Promise<string> => Promise.reject(reason)
    const described = createCache({ name: 'described', load, ttl: '10s', describeKey: (key) => `parameter "${key.toUpperCase()}" (context.config.k)` })
    const error: unknown = await described.get('k').catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(CacheLoadError)
    expect((error as CacheLoadError).key).toBe('k')
    expect((error as Error).message).toBe('middy-cache: loading parameter "K" (context.config.k) for cache "described" failed: denied')
    const failing = createCache({ name: 'describer-fails', load, ttl: '10s', describeKey: () => { throw new Error('describer bug') } })
    const fallback: unknown = await failing.get('k').catch((thrown: unknown) => thrown)
    expect((fallback as Error).message).toBe('middy-cache: loading "k" for cache "describer-fails" failed: denied')
    expect((fallback as CacheLoadError).cause).toBe(reason)
    const answersNoString = createCache({ name: 'describer-odd', load, ttl: '10s', describeKey: (() => 42) as unknown as (key: string) => string })
    expect(await answersNoString.get('k').catch((thrown: unknown) => (thrown as Error).message)).toBe('middy-cache: loading "k" for cache "describer-odd" failed: denied')
  })

  test('errorKey gives the key load and timeout errors carry; one that throws leaves the key', async () => {
    const load = (key: string): Promise<string> => (key === 'user-1:slow' ? new Promise(() => undefined) : Promise.reject(new Error('denied')))
    const errorKey = (key: string): string => key.slice(key.indexOf(':') + 1)
    const cache = createCache({ name: 'error-keys', load, ttl: '10s', timeout: '20ms', errorKey })
    expect(await cache.get('user-1:k').catch((thrown: unknown) => thrown)).toMatchObject({ name: 'CacheLoadError', key: 'k' })
    expect(await cache.get('user-1:slow').catch((thrown: unknown) => thrown)).toMatchObject({ name: 'CacheTimeoutError', key: 'slow' })
    const failing = createCache({ name: 'error-key-fails', load, ttl: '10s', errorKey: () => { throw new Error('bug') } })
    expect(await failing.get('user-1:k').catch((thrown: unknown) => thrown)).toMatchObject({ name: 'CacheLoadError', key: 'user-1:k' })
  })

  test('a stale value whose staleIfError window closes while the load runs no longer stands in', async () => {
    const clock = manualClock()
    const slow = deferred<string>()
    const load = jest.fn().mockResolvedValueOnce('good').mockReturnValueOnce(slow.promise)
    const cache = createCache({ name: 'sie-closes', load, ttl: '10s', staleIfError: '20s', now: clock.now })
    await cache.get('k')
    clock.advance(seconds(25))
    const waiting = cache.get('k').catch((thrown: unknown) => thrown)
    clock.advance(seconds(10))
    slow.reject(new Error('down'))
    expect(await waiting).toBeInstanceOf(CacheLoadError)
  })

  test('a failed load never evicts the last good value, even outside staleIfError', async () => {
    const clock = manualClock()
    let fail = false
    const cache = createCache({
      name: 'keep',
      load: () => (fail ? Promise.reject(new Error('down')) : Promise.resolve('good')),
      ttl: '10s',
      staleWhileRevalidate: '10s',
      now: clock.now,
    })
    await cache.get('k')
    fail = true
    clock.advance(seconds(11))
    expect(await cache.get('k')).toBe('good')
    await flushPromises()
    expect(cache.stats()).toMatchObject({ entries: 1, loadErrors: 1 })
    expect(await cache.lookup('k')).toMatchObject({ value: 'good', outcome: Outcome.Stale })
  })

  test('a freeze-like gap far past every window loads again', async () => {
    const clock = manualClock()
    const { calls, load } = countingLoader()
    const cache = createCache({ name: 'thaw', load, ttl: '5m', staleWhileRevalidate: '1m', staleIfError: '1h', now: clock.now })
    await cache.get('k')
    clock.advance(seconds(3 * 3600))
    expect(await cache.lookup('k')).toMatchObject({ value: 'k#2', outcome: Outcome.Miss })
    expect(calls).toHaveLength(2)
  })

  test('"not found" is remembered for negativeTtl and never served stale', async () => {
    const clock = manualClock()
    const { calls, load } = countingLoader({ ghost: undefined })
    const cache = createCache({ name: 'negative', load, ttl: '1h', negativeTtl: '30s', staleIfError: '1h', now: clock.now })

    expect(await cache.lookup('ghost')).toMatchObject({ value: undefined, outcome: Outcome.Miss })
    clock.advance(seconds(29))
    expect(await cache.lookup('ghost')).toMatchObject({ value: undefined, outcome: Outcome.Hit })
    clock.advance(seconds(1))
    await cache.get('ghost')
    expect(calls).toEqual(['ghost', 'ghost'])
  })

  test('with negativeTtl 0 "not found" is never cached and removes what was cached', async () => {
    const clock = manualClock()
    const values: Record<string, string | undefined> = { k: 'there' }
    const { calls, load } = countingLoader(values)
    const cache = createCache({ name: 'no-negative', load, ttl: '10s', staleIfError: '1h', now: clock.now })
    await cache.get('k')
    values.k = undefined
    clock.advance(seconds(10))
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.get('k')).toBeUndefined()
    expect(calls).toHaveLength(3)
    expect(cache.stats().entries).toBe(0)
  })

  test('jitter shortens each ttl by at most its fraction, differently per entry', async () => {
    const clock = manualClock()
    const { load } = countingLoader()
    const cache = createCache({ name: 'jitter', load, ttl: '100s', jitter: 0.5, now: clock.now })
    const keys = Array.from({ length: 200 }, (_, index) => `k${index}`)
    await cache.getMany(keys)

    const outcomesAt = async (): Promise<string[]> => (await Promise.all(keys.map((key) => cache.lookup(key)))).map((lookup) => lookup.outcome)
    clock.advance(seconds(49.9))
    expect(new Set(await outcomesAt())).toEqual(new Set([Outcome.Hit]))
    clock.advance(seconds(25))
    const midway = await outcomesAt()
    expect(midway).toContain(Outcome.Hit)
    expect(midway).toContain(Outcome.Miss)
  })

  test('without jitter every entry expires exactly at ttl', async () => {
    const clock = manualClock()
    const { load } = countingLoader()
    const cache = createCache({ name: 'no-jitter', load, ttl: '100s', now: clock.now })
    const keys = ['a', 'b', 'c']
    await cache.getMany(keys)
    clock.advance(seconds(100) - 1)
    expect((await Promise.all(keys.map((key) => cache.lookup(key)))).every((lookup) => lookup.outcome === Outcome.Hit)).toBe(true)
    clock.advance(1)
    expect((await Promise.all(keys.map((key) => cache.lookup(key)))).every((lookup) => lookup.outcome === Outcome.Miss)).toBe(true)
  })

  test('freshness is read from the monotonic clock only: no timer keeps the process or an entry alive', async () => {
    const clock = manualClock()
    const { load } = countingLoader()
    const cache = createCache({ name: 'lazy', load, ttl: '1s', now: clock.now })
    const handlesBefore = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length
    await cache.get('k')
    expect(process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length).toBe(handlesBefore)
    clock.advance(seconds(1))
    expect((await cache.lookup('k')).outcome).toBe(Outcome.Miss)
  })
})
