import { createCache, createScope, Outcome } from '../../src/index.js'
import { manualClock } from '../support/clock.js'

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
