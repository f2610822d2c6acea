import { createCache, createScope, Outcome, Tier } from '../../src/index.js'
import { manualClock } from '../support/clock.js'
import { deferred, flushPromises } from '../support/deferred.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('a load timeout racing writes', () => {
  test('a load that outlives its timeout after set() replaced it does not put the value set into retryAfterError backoff', async () => {
    const clock = manualClock()
    const hung = deferred<string>()
    const load = jest.fn().mockReturnValueOnce(hung.promise).mockResolvedValue('reloaded')
    const cache = createCache<string>({ name: 'timeout-after-set', load, ttl: '1s', staleIfError: '1h', retryAfterError: '1m', timeout: '30ms', now: clock.now })
    const first = cache.get('k').catch(() => undefined)
    await cache.set('k', 'newer')
    // The superseded load's timer fires.
    await sleep(60)
    await first
    // The value set goes stale: no refresh of it ever failed, so the next get loads.
    clock.advance(2_000)
    expect(await cache.lookup('k')).toEqual({ value: 'reloaded', outcome: Outcome.Miss, tier: Tier.Source })
    hung.resolve('late')
    await cache.settle(0)
  })
})

describe('batch timeouts', () => {
  test('a loadMany call that outlives timeout counts one load timeout, as it counts one load', async () => {
    const hung = deferred<string[]>()
    const cache = createCache<string>({ name: 'batch-timeout', load: (key) => key, loadMany: () => hung.promise, ttl: '1m', timeout: '30ms' })
    const scope = createScope()
    await expect(cache.getMany(['a', 'b', 'c'], { scope })).rejects.toThrow(/timed out/)
    expect(cache.stats()).toMatchObject({ loads: 1, loadTimeouts: 1 })
    expect(scope.countersFor('batch-timeout')).toMatchObject({ loads: 1, loadTimeouts: 1 })
    hung.resolve(['a', 'b', 'c'])
    await flushPromises()
  })
})
