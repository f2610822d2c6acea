import { CacheError, createCache, createScope, Outcome } from '../../src/index.js'
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
