import { createCache, createScope, Outcome, type BatchLoadContext, type FreshnessOptions } from '../../src/index.js'
import { manualClock } from '../support/clock.js'
import { staleWithHeldRefresh } from '../support/held-refresh.js'
import { deferred, flushPromises } from '../support/deferred.js'

describe('refreshAhead', () => {
  test('reloads exactly the entries that stop being fresh within the horizon, and waits for them', async () => {
    const clock = manualClock()
    const load = jest.fn((key: string) => `${key}@${clock.now()}`)
    const cache = createCache({ name: 'ahead', load, ttl: '10m', now: clock.now })
    await cache.get('old')
    clock.advance(6 * 60_000)
    await cache.get('young')
    load.mockClear()

    expect(await cache.refreshAhead(5 * 60_000)).toEqual({ refreshed: 1, failed: 0 })
    expect(load.mock.calls.map(([key]) => key)).toEqual(['old'])
    clock.advance(4 * 60_000)
    expect(await cache.lookup('old')).toMatchObject({ outcome: Outcome.Hit, value: `old@${1_000 + 6 * 60_000}` })
  })

  test('a failed reload keeps the last good value and is reported; reloads are loads, not gets', async () => {
    const clock = manualClock()
    const load = jest.fn().mockResolvedValueOnce('good').mockRejectedValueOnce(new Error('down'))
    const cache = createCache({ name: 'ahead-fails', load, ttl: '1m', staleIfError: '1h', now: clock.now })
    await cache.get('k')
    const scope = createScope()
    expect(await cache.refreshAhead(5 * 60_000, { scope })).toEqual({ refreshed: 0, failed: 1 })
    expect(scope.countersFor('ahead-fails')).toMatchObject({ loads: 1, loadErrors: 1, hits: 0, misses: 0 })
    expect(await cache.get('k')).toBe('good')
  })

  test('a reload that outlives timeout counts as failed', async () => {
    const clock = manualClock()
    const load = jest.fn().mockResolvedValueOnce('good').mockReturnValueOnce(new Promise(() => undefined))
    const cache = createCache({ name: 'ahead-slow', load, ttl: '1m', timeout: '10ms', now: clock.now })
    await cache.get('k')
    expect(await cache.refreshAhead(5 * 60_000)).toEqual({ refreshed: 0, failed: 1 })
    await cache.settle(0)
  })

  test('once the signal has aborted (the caller is out of time) no reload starts: the entries due count as failed and keep their value', async () => {
    const clock = manualClock()
    const load = jest.fn((key: string) => `${key}@${clock.now()}`)
    const cache = createCache({ name: 'ahead-out-of-time', load, ttl: '1m', now: clock.now })
    await cache.getMany(['a', 'b'])
    load.mockClear()
    const deadline = new AbortController()
    deadline.abort()
    expect(await cache.refreshAhead(5 * 60_000, { signal: deadline.signal })).toEqual({ refreshed: 0, failed: 2 })
    expect(load).not.toHaveBeenCalled()
    expect(cache.stats().inFlight).toBe(0)
  })
})

describe('refreshAhead of a large cache without a batch loader', () => {
  /** A cache of `count` due entries whose reloads are held until the test lets each go, counted as they run. */
  const cacheWithHeldReloads = async (name: string, count: number) => {
    const clock = manualClock()
    const keys = Array.from({ length: count }, (_, index) => `k${index}`)
    const held: (() => void)[] = []
    const reloads = { running: 0, most: 0, started: 0 }
    let reloading = false
    const cache = createCache({
      name,
      load: (key: string) => {
        if (!reloading) return `${key}, first`
        reloads.started++
        reloads.most = Math.max(reloads.most, ++reloads.running)
        return new Promise<string>((resolve) => {
          held.push(() => {
            reloads.running--
            resolve(`${key}, reloaded`)
          })
        })
      },
      ttl: '1m',
      now: clock.now,
    })
    await cache.getMany(keys)
    reloading = true
    return { cache, keys, held, reloads }
  }

  test('loads at most 8 keys at once, the next as soon as one is done, until every entry is reloaded', async () => {
    const { cache, keys, held, reloads } = await cacheWithHeldReloads('ahead-bounded', 30)

    const refreshing = cache.refreshAhead(5 * 60_000)
    await flushPromises()
    expect(reloads.started).toBe(8)
    while (held.length > 0) {
      held.shift()?.()
      await flushPromises()
    }

    expect(await refreshing).toEqual({ refreshed: 30, failed: 0 })
    expect(reloads).toEqual({ running: 0, most: 8, started: 30 })
    expect(await cache.getMany(keys)).toEqual(keys.map((key) => `${key}, reloaded`))
  })

  test('once the signal aborts, the keys not started yet never load: they and the reloads running count as failed', async () => {
    const { cache, keys, held, reloads } = await cacheWithHeldReloads('ahead-bounded-out-of-time', 20)
    const deadline = new AbortController()

    const refreshing = cache.refreshAhead(5 * 60_000, { signal: deadline.signal })
    await flushPromises()
    held.shift()?.()
    await flushPromises()
    deadline.abort()
    for (const release of held.splice(0)) release()

    expect(await refreshing).toEqual({ refreshed: 1, failed: 19 })
    expect(reloads.started).toBe(9)
    expect(await cache.getMany(keys)).toEqual(keys.map((key, index) => `${key}, ${index < 9 ? 'reloaded' : 'first'}`))
  })
})

describe('refreshAhead with a batch loader', () => {
  /** A cache whose single-key loader and batch loader both answer `key@now`, each counted. */
  const batchedCache = (name: string, options: Pick<FreshnessOptions, 'staleWhileRevalidate'> = {}) => {
    const clock = manualClock()
    const load = jest.fn((key: string) => Promise.resolve(`${key}@${clock.now()}`))
    const loadMany = jest.fn((keys: readonly string[], _context: BatchLoadContext) => Promise.resolve(keys.map((key) => `${key}@${clock.now()}`)))
    const cache = createCache({ name, load, loadMany, ttl: '10m', ...options, now: clock.now })
    return { cache, clock, load, loadMany }
  }

  test('reloads the due entries in one loadMany call, as a getMany of misses loads them, and counts each entry', async () => {
    const { cache, clock, load, loadMany } = batchedCache('ahead-batched')
    const hashed = 'h'.repeat(300)
    await cache.getMany(['a', 'b', 'c', 'd', 'e', hashed])
    clock.advance(6 * 60_000)
    await cache.get('young')
    load.mockClear()
    loadMany.mockClear()
    const scope = createScope()

    expect(await cache.refreshAhead(5 * 60_000, { scope })).toEqual({ refreshed: 5, failed: 0 })

    // Entries stored under a hashed key are left to their next get, as with a single-key loader.
    expect(loadMany.mock.calls.map(([keys]) => [...keys].sort())).toEqual([['a', 'b', 'c', 'd', 'e']])
    expect(load).not.toHaveBeenCalled()
    expect(scope.countersFor('ahead-batched')).toMatchObject({ loads: 1, loadErrors: 0, hits: 0, misses: 0 })
    clock.advance(4 * 60_000)
    expect(await cache.lookup('c')).toMatchObject({ outcome: Outcome.Hit, value: `c@${1_000 + 6 * 60_000}` })
  })

  test('a due key already loading is joined, not loaded again; the others load in one batch', async () => {
    const { cache, clock, load, loadMany } = batchedCache('ahead-batched-joins', { staleWhileRevalidate: '10m' })
    await cache.getMany(['a', 'b', 'c'])
    clock.advance(11 * 60_000)
    const running = deferred<string>()
    load.mockReturnValueOnce(running.promise)
    expect(await cache.get('a')).toBe('a@1000')
    loadMany.mockClear()

    const refreshing = cache.refreshAhead(5 * 60_000)
    await flushPromises()
    running.resolve('a, refreshed beside a get')

    expect(await refreshing).toEqual({ refreshed: 3, failed: 0 })
    expect(load).toHaveBeenCalledTimes(1)
    expect(loadMany.mock.calls.map(([keys]) => [...keys].sort())).toEqual([['b', 'c']])
    expect(await cache.get('a')).toBe('a, refreshed beside a get')
  })

  test('a batch that fails counts every entry it held as failed; each keeps its last good value', async () => {
    const { cache, clock, load, loadMany } = batchedCache('ahead-batched-fails')
    await cache.getMany(['a', 'b'])
    clock.advance(6 * 60_000)
    loadMany.mockRejectedValueOnce(new Error('ThrottlingException'))

    expect(await cache.refreshAhead(5 * 60_000)).toEqual({ refreshed: 0, failed: 2 })
    expect(load).not.toHaveBeenCalled()
    expect(await cache.getMany(['a', 'b'])).toEqual(['a@1000', 'b@1000'])
  })

  test('once the signal has aborted no batch starts: the due entries count as failed', async () => {
    const { cache, clock, load, loadMany } = batchedCache('ahead-batched-out-of-time')
    await cache.getMany(['a', 'b'])
    clock.advance(6 * 60_000)
    loadMany.mockClear()
    const deadline = new AbortController()
    deadline.abort()

    expect(await cache.refreshAhead(5 * 60_000, { signal: deadline.signal })).toEqual({ refreshed: 0, failed: 2 })
    expect(loadMany).not.toHaveBeenCalled()
    expect(load).not.toHaveBeenCalled()
    expect(cache.stats().inFlight).toBe(0)
  })

  test("the batch is tracked in the scope: its settle abandons it (the loader's signal aborts) and the entries count as failed", async () => {
    const { cache, clock, loadMany } = batchedCache('ahead-batched-settled')
    await cache.getMany(['a', 'b'])
    clock.advance(6 * 60_000)
    let batchSignal: AbortSignal | undefined
    loadMany.mockImplementationOnce((_keys, { signal }) => {
      batchSignal = signal
      return new Promise<string[]>(() => undefined)
    })
    const scope = createScope()

    const refreshing = cache.refreshAhead(5 * 60_000, { scope })
    await scope.settle(0)

    expect(await refreshing).toEqual({ refreshed: 0, failed: 2 })
    expect(batchSignal?.aborted).toBe(true)
    expect(cache.stats().inFlight).toBe(0)
    expect(await cache.getMany(['a', 'b'])).toEqual(['a@1000', 'b@1000'])
  })
})

describe('refreshAhead beside requests (a ping and requests in one Managed Instance)', () => {
  test("a ping that gives up on a request's refresh it joined leaves it running for the request", async () => {
    const { cache, load, refresh, seen } = await staleWithHeldRefresh('ping-joins-request', { staleWhileRevalidate: '1h' })
    const request = createScope()
    expect(await cache.get('k', { scope: request })).toBe('old')
    const ping = createScope()
    const pinged = cache.refreshAhead(5 * 60_000, { scope: ping })

    expect(await ping.settle(0)).toEqual({ completed: 0, abandoned: 0 })
    expect(seen.signal?.aborted).toBe(false)
    refresh.resolve('new')
    expect(await pinged).toEqual({ refreshed: 1, failed: 0 })
    expect(load).toHaveBeenCalledTimes(2)
    expect(await cache.lookup('k', { scope: request })).toMatchObject({ value: 'new', outcome: Outcome.Hit })
  })

  test("a ping out of time stops waiting for a refresh it left to a request, and counts it as failed", async () => {
    const { cache, refresh, seen } = await staleWithHeldRefresh('ping-out-of-time', { staleWhileRevalidate: '1h' })
    const request = createScope()
    expect(await cache.get('k', { scope: request })).toBe('old')
    const ping = createScope()
    const deadline = new AbortController()
    let report: unknown
    void cache.refreshAhead(5 * 60_000, { scope: ping, signal: deadline.signal }).then((answer) => (report = answer))

    deadline.abort()
    expect(await ping.settle(0)).toEqual({ completed: 0, abandoned: 0 })
    await flushPromises()
    expect(report).toEqual({ refreshed: 0, failed: 1 })
    expect(seen.signal?.aborted).toBe(false)
    refresh.resolve('new')
    expect(await request.settle(100)).toEqual({ completed: 1, abandoned: 0 })
  })

  test("a ping's wait for every load of a cache (a prefetch from INIT, say) leaves a request's refresh to the request", async () => {
    const { cache, refresh, seen } = await staleWithHeldRefresh('ping-settles-cache', { staleWhileRevalidate: '1h' })
    const request = createScope()
    expect(await cache.get('k', { scope: request })).toBe('old')

    expect(await cache.settle(0)).toEqual({ completed: 0, abandoned: 0 })
    expect(seen.signal?.aborted).toBe(false)
    refresh.resolve('new')
    expect(await request.settle(100)).toEqual({ completed: 1, abandoned: 0 })
  })

  test("a request that joins a ping's refresh and gives up on it leaves it running for the ping", async () => {
    const { cache, load, refresh, seen } = await staleWithHeldRefresh('request-joins-ping', { staleWhileRevalidate: '1h' })
    const ping = createScope()
    const pinged = cache.refreshAhead(5 * 60_000, { scope: ping })
    const request = createScope()
    expect(await cache.get('k', { scope: request })).toBe('old')

    expect(await request.settle(0)).toEqual({ completed: 0, abandoned: 0 })
    expect(seen.signal?.aborted).toBe(false)
    refresh.resolve('new')
    expect(await pinged).toEqual({ refreshed: 1, failed: 0 })
    expect(load).toHaveBeenCalledTimes(2)
  })
})

describe('setFreshness from the loader', () => {
  test('a loader sets the freshness of the entry it loads', async () => {
    const clock = manualClock()
    const cache = createCache({
      name: 'per-entry',
      load: (key: string, { setFreshness }) => {
        if (key === 'rotating') setFreshness({ ttl: '1m' })
        return key
      },
      ttl: '1h',
      now: clock.now,
    })
    await cache.getMany(['rotating', 'stable'])
    clock.advance(2 * 60_000)
    expect((await cache.lookup('rotating')).outcome).toBe(Outcome.Miss)
    expect((await cache.lookup('stable')).outcome).toBe(Outcome.Hit)
  })

  test('a batch loader sets it per key', async () => {
    const clock = manualClock()
    const cache = createCache({
      name: 'per-entry-batch',
      load: (key: string) => key,
      loadMany: (keys, { setFreshness }) => {
        setFreshness({ ttl: '1m', staleWhileRevalidate: '1m' }, 'short')
        return Promise.resolve(keys.map((key) => key))
      },
      ttl: '1h',
      now: clock.now,
    })
    await cache.getMany(['short', 'long'])
    clock.advance(90_000)
    expect((await cache.lookup('short')).outcome).toBe(Outcome.Stale)
    expect((await cache.lookup('long')).outcome).toBe(Outcome.Hit)
  })

  test('a bad duration from the loader fails the load with a clear cause', async () => {
    const cache = createCache({
      name: 'bad-freshness',
      load: (key: string, { setFreshness }) => {
        setFreshness({ ttl: 'soon' as unknown as number })
        return key
      },
      ttl: '1h',
    })
    await expect(cache.get('k')).rejects.toThrow(/option "ttl" must be/)
  })

  test('a window past a year throws at the loader\'s call, for one key and for a batch: no entry outlives what the options allow', async () => {
    const seen: unknown[] = []
    const cache = createCache({
      name: 'too-long',
      load: (key: string, { setFreshness }) => {
        try {
          setFreshness({ staleIfError: '400d' })
        } catch (error) {
          seen.push(error)
          throw error
        }
        return key
      },
      loadMany: (keys, { setFreshness }) => {
        setFreshness({ ttl: '366d' }, 'b')
        return Promise.resolve(keys.map((key) => key))
      },
      ttl: '1h',
    })
    await expect(cache.get('a')).rejects.toThrow(/option "staleIfError" must be a duration of at most one year/)
    expect(seen).toEqual([expect.objectContaining({ name: 'CacheOptionsError', option: 'staleIfError' })])
    await expect(cache.getMany(['b', 'c'])).rejects.toThrow(/option "ttl" must be a duration of at most one year/)
    expect(cache.stats().entries).toBe(0)
  })
})
