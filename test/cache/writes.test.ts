import { createCache, Outcome, type Cache } from '../../src/index.js'
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
