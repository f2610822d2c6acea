import { CacheError, CacheKind, createCache, createScope, Outcome, registerCache, type Cache } from '../../src/index.js'
import { prefetchCounts, takePrefetchCounts } from '../../src/cache/prefetch-counts.js'
import { deferred, flushPromises } from '../support/deferred.js'

/** A loader whose calls are held until the test answers them, each recording its AbortSignal. */
const heldLoader = () => {
  const calls: { key: string; signal: AbortSignal; answer: ReturnType<typeof deferred<string>> }[] = []
  const load = jest.fn((key: string, { signal }: { signal: AbortSignal }) => {
    const answer = deferred<string>()
    calls.push({ key, signal, answer })
    return answer.promise
  })
  return { load, calls }
}

describe('prefetch: loads started at INIT that nobody waits for', () => {
  test('starts the loads at once, each key once; a load that settles fills the cache', async () => {
    const { load, calls } = heldLoader()
    const cache = createCache({ name: 'prefetched', load, ttl: '1h' })

    cache.prefetch(['table', 'flags', 'table'])
    expect(calls.map(({ key }) => key)).toEqual(['table', 'flags'])
    for (const { key, answer } of calls) answer.resolve(`${key}-value`)
    expect(await cache.whenLoaded()).toBe(true)

    expect(await cache.lookup('table')).toMatchObject({ value: 'table-value', outcome: Outcome.Hit })
    expect(await cache.getMany(['table', 'flags'])).toEqual(['table-value', 'flags-value'])
    expect(load).toHaveBeenCalledTimes(2)
  })

  test('loads its misses in one loadMany call, as getMany does, and skips keys fresh in memory', async () => {
    const loadMany = jest.fn((keys: readonly string[]) => Promise.resolve(keys.map((key) => `${key}!`)))
    const cache = createCache({ name: 'prefetched-batch', load: (key: string) => `${key}?`, loadMany, ttl: '1h' })
    await cache.set('fresh', 'held')

    cache.prefetch(['a', 'fresh', 'b'])
    expect(await cache.whenLoaded()).toBe(true)

    expect(loadMany.mock.calls.map(([keys]) => keys)).toEqual([['a', 'b']])
    expect(await cache.getMany(['a', 'fresh', 'b'])).toEqual(['a!', 'held', 'b!'])
  })

  test('the first invocation joins the prefetch still running: one load, and the invocation counts its miss', async () => {
    const { load, calls } = heldLoader()
    const cache = createCache({ name: 'joined', load, ttl: '1h' })
    cache.prefetch(['table'])

    const scope = createScope()
    const invocation = cache.getMany(['table'], { scope })
    calls[0]?.answer.resolve('orders')

    expect(await invocation).toEqual(['orders'])
    expect(load).toHaveBeenCalledTimes(1)
    expect(scope.countersFor('joined')).toMatchObject({ misses: 1, loads: 0 })
    expect(cache.stats()).toMatchObject({ loads: 1, misses: 1, inFlight: 0 })
  })

  // Jest fails the test that is running when a rejection goes unhandled, so this proves that none does.
  test('a failure is dropped, with no unhandled rejection, and the next get loads again', async () => {
    const { load, calls } = heldLoader()
    const cache = createCache({ name: 'prefetch-fails', load, ttl: '1h' })
    cache.prefetch(['table'])
    calls[0]?.answer.reject(new Error('source down'))
    expect(await cache.whenLoaded()).toBe(false)
    await flushPromises()
    expect(cache.stats()).toMatchObject({ loadErrors: 1, errors: 0, inFlight: 0 })

    const retried = cache.get('table')
    calls[1]?.answer.resolve('recovered')
    expect(await retried).toBe('recovered')
  })

  test('keys that are not an array of strings throw a CacheError naming the cache and the method, and start nothing', () => {
    const load = jest.fn(() => 'v')
    const cache = createCache({ name: 'prefetch-keys', load, ttl: '1h' })
    expect(() => { cache.prefetch('table' as unknown as string[]) }).toThrow(new CacheError('middy-cache: cache "prefetch-keys" prefetch needs an array of string keys'))
    expect(() => { cache.prefetch(['table', 7 as unknown as string]) }).toThrow(/cache "prefetch-keys" needs string keys; got number/)
    expect(load).not.toHaveBeenCalled()
  })

  test('nobody holds it: superseded by set, it is abandoned at once (its signal aborts) and stores nothing', async () => {
    const { load, calls } = heldLoader()
    const cache = createCache({ name: 'prefetch-set', load, ttl: '1h' })
    cache.prefetch(['table'])
    await cache.set('table', 'written')
    expect(calls[0]?.signal.aborted).toBe(true)
    calls[0]?.answer.resolve('prefetched')
    await flushPromises()
    expect(await cache.get('table')).toBe('written')
    expect(cache.stats().inFlight).toBe(0)
  })

  test('a scope that joined it and gives up on it abandons it, as no one else wants it', async () => {
    const { load, calls } = heldLoader()
    const cache = createCache({ name: 'prefetch-given-up', load, ttl: '1h' })
    cache.prefetch(['table'])
    const scope = createScope()
    const neverAwaited = cache.get('table', { scope }).catch((error: unknown) => error)
    expect(await scope.settle(0)).toEqual({ completed: 0, abandoned: 1 })
    expect(calls[0]?.signal.aborted).toBe(true)
    expect(await neverAwaited).toBeInstanceOf(CacheError)
  })

  test('settle gives it up once the budget runs out (a warm-up ping before the first invocation)', async () => {
    const { load, calls } = heldLoader()
    const cache = createCache({ name: 'prefetch-settled', load, ttl: '1h' })
    cache.prefetch(['table'])
    expect(await cache.settle(5)).toEqual({ completed: 0, abandoned: 1 })
    expect(calls[0]?.signal.aborted).toBe(true)
    expect(cache.stats().inFlight).toBe(0)
  })
})

describe('prefetch counts: what a prefetch did, counted once, by the scope that takes it', () => {
  test('a prefetch that ended: its loads and their durations go to the first scope that takes them, nothing to the next', async () => {
    const cache = createCache({ name: 'prefetch-counted', load: (key: string) => `${key}-value`, ttl: '1h' })
    cache.prefetch(['table', 'flags'])
    expect(await cache.whenLoaded()).toBe(true)

    const first = createScope()
    cache.movePrefetchCounts(first)
    expect(first.countersFor('prefetch-counted')).toMatchObject({ loads: 2, loadsEnded: 2, loadErrors: 0, gets: 0 })
    const second = createScope()
    cache.movePrefetchCounts(second)
    expect(second.counters.size).toBe(0)
    // The cache's own lifetime counts the loads once, taken or not.
    expect(cache.stats()).toMatchObject({ loads: 2 })
  })

  test('joined while it runs: the joining scope counts its miss, the prefetch its one load', async () => {
    const { load, calls } = heldLoader()
    const cache = createCache({ name: 'prefetch-joined-counted', load, ttl: '1h' })
    cache.prefetch(['table'])
    const scope = createScope()
    const joined = cache.get('table', { scope })
    calls[0]?.answer.resolve('orders')
    expect(await joined).toBe('orders')

    cache.movePrefetchCounts(scope)
    expect(scope.countersFor('prefetch-joined-counted')).toMatchObject({ misses: 1, loads: 1, loadsEnded: 1 })
    expect(load).toHaveBeenCalledTimes(1)
  })

  test('a load still running when taken: its start goes to that scope, its end (duration, failure) to the next one, each once', async () => {
    const { load, calls } = heldLoader()
    const cache = createCache({ name: 'prefetch-taken-early', load, ttl: '1h' })
    cache.prefetch(['table'])
    const first = createScope()
    cache.movePrefetchCounts(first)
    expect(first.countersFor('prefetch-taken-early')).toMatchObject({ loads: 1, loadsEnded: 0, loadErrors: 0 })

    calls[0]?.answer.reject(new Error('source down'))
    expect(await cache.whenLoaded()).toBe(false)
    const second = createScope()
    cache.movePrefetchCounts(second)
    expect(second.countersFor('prefetch-taken-early')).toMatchObject({ loads: 0, loadsEnded: 1, loadErrors: 1 })
    const third = createScope()
    cache.movePrefetchCounts(third)
    expect(third.counters.size).toBe(0)
  })

  test('a prefetch that outlives its timeout: the timeout is taken with its load', async () => {
    const cache = createCache({ name: 'prefetch-timed-out', load: () => new Promise<string>(() => undefined), ttl: '1h', timeout: '20ms' })
    cache.prefetch(['table'])
    while (cache.stats().loadTimeouts === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const scope = createScope()
    cache.movePrefetchCounts(scope)
    expect(scope.countersFor('prefetch-timed-out')).toMatchObject({ loads: 1, loadTimeouts: 1, loadsEnded: 0 })
    expect(await cache.settle(0)).toEqual({ completed: 0, abandoned: 1 })
  })

  test('a get without a scope, or with one, counts nothing as the prefetch: only loads a prefetch started are taken', async () => {
    const cache = createCache({ name: 'prefetch-not-gets', load: (key: string) => `${key}-value`, ttl: '1h' })
    await cache.get('other')
    const scope = createScope()
    await cache.get('another', { scope })
    const taker = createScope()
    cache.movePrefetchCounts(taker)
    expect(taker.counters.size).toBe(0)
  })

  test('prefetches nobody takes add up in one record of the cache', async () => {
    const cache = createCache({ name: 'prefetch-untaken', load: (key: string) => `${key}-value`, ttl: '1h' })
    for (const key of ['a', 'b', 'c']) {
      cache.prefetch([key])
      expect(await cache.whenLoaded()).toBe(true)
    }
    const scope = createScope()
    cache.movePrefetchCounts(scope)
    expect(scope.countersFor('prefetch-untaken')).toMatchObject({ loads: 3, loadsEnded: 3 })
  })
})

describe('takePrefetchCounts: the prefetch counts of every registered cache, for the first invocation written', () => {
  test('takes those of every registered cache into one scope, once; an unregistered cache keeps its own', async () => {
    const registered = ['prefetch-registered-a', 'prefetch-registered-b'].map((name) => createCache({ name, load: (key: string) => `${key}-value`, ttl: '1h' }))
    const unregistered = createCache({ name: 'prefetch-unregistered', load: (key: string) => `${key}-value`, ttl: '1h' })
    const unregister = registered.map((cache) => registerCache({ cache: cache as Cache<unknown>, kind: CacheKind.Data, secret: false }))
    try {
      for (const cache of [...registered, unregistered]) cache.prefetch(['table'])
      expect(prefetchCounts.untaken).toBe(true)
      for (const cache of [...registered, unregistered]) await cache.whenLoaded()

      const first = createScope()
      takePrefetchCounts(first)
      expect(prefetchCounts.untaken).toBe(false)
      expect([...first.counters].map(([name, counters]) => [name, counters.loads])).toEqual([
        ['prefetch-registered-a', 1],
        ['prefetch-registered-b', 1],
      ])
      const second = createScope()
      takePrefetchCounts(second)
      expect(second.counters.size).toBe(0)

      const own = createScope()
      unregistered.movePrefetchCounts(own)
      expect(own.countersFor('prefetch-unregistered')).toMatchObject({ loads: 1 })
    } finally {
      for (const remove of unregister) remove()
    }
  })

  test('a prefetch load that ends after the counts were taken raises the flag again, for its end to be taken', async () => {
    const { load, calls } = heldLoader()
    const cache = createCache({ name: 'prefetch-ends-later', load, ttl: '1h' })
    const unregister = registerCache({ cache: cache as Cache<unknown>, kind: CacheKind.Data, secret: false })
    try {
      cache.prefetch(['table'])
      takePrefetchCounts(createScope())
      expect(prefetchCounts.untaken).toBe(false)
      calls[0]?.answer.resolve('orders')
      await cache.whenLoaded()
      await flushPromises()
      expect(prefetchCounts.untaken).toBe(true)
      const later = createScope()
      takePrefetchCounts(later)
      expect(later.countersFor('prefetch-ends-later')).toMatchObject({ loads: 0, loadsEnded: 1 })
    } finally {
      unregister()
    }
  })
})
