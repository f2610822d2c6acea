import { createCache, createScope, Outcome, Tier } from '../../src/index.js'
import { manualClock } from '../support/clock.js'
import { flushPromises } from '../support/deferred.js'

/** A source that can be switched off, counting the calls that reach it. */
const switchableSource = () => {
  const source = { down: false, calls: 0, batchCalls: 0, version: 0 }
  const load = (key: string): Promise<string> => {
    source.calls++
    return source.down ? Promise.reject(new Error('source down')) : Promise.resolve(`${key}@${++source.version}`)
  }
  const loadMany = (keys: readonly string[]): Promise<string[]> => {
    source.batchCalls++
    return source.down ? Promise.reject(new Error('source down')) : Promise.resolve(keys.map((key) => `${key}@${++source.version}`))
  }
  return { source, load, loadMany }
}

/**
 * A cache whose value `k` was loaded, then went stale (11 s on, ttl 10 s) as its source went down.
 * `options` adds freshness options to ttl 10 s.
 */
const staleWithSourceDown = async (name: string, options: Omit<Parameters<typeof createCache<string>>[0], 'name' | 'load' | 'ttl' | 'now'>) => {
  const clock = manualClock()
  const { source, load } = switchableSource()
  const cache = createCache<string>({ name, load, ttl: '10s', now: clock.now, ...options })
  await cache.get('k')
  source.down = true
  clock.advance(11_000)
  return { clock, source, cache }
}

describe('retryAfterError: a failed refresh is not retried on every request', () => {
  test('within staleIfError: one failed call, then the stale value at once, until the period is over', async () => {
    const { clock, source, cache } = await staleWithSourceDown('outage', { staleIfError: '1h', retryAfterError: '5s' })

    const scope = createScope()
    expect(await cache.lookup('k', { scope })).toEqual({ value: 'k@1', outcome: Outcome.StaleOnError, tier: Tier.L1 })
    expect(await cache.lookup('k', { scope })).toEqual({ value: 'k@1', outcome: Outcome.StaleOnError, tier: Tier.L1 })
    clock.advance(4_999)
    expect(await cache.lookup('k', { scope })).toMatchObject({ value: 'k@1', outcome: Outcome.StaleOnError })
    expect(source.calls).toBe(2)
    expect(scope.countersFor('outage')).toMatchObject({ staleOnError: 3, loads: 1, loadErrors: 1 })

    clock.advance(1)
    source.down = false
    expect(await cache.lookup('k')).toMatchObject({ value: 'k@2', outcome: Outcome.Miss, tier: Tier.Source })
    expect(source.calls).toBe(3)
  })

  test('a period that ends with the source still down: one more call, and another period', async () => {
    const { clock, source, cache } = await staleWithSourceDown('still-down', { staleIfError: '1h', retryAfterError: '5s' })
    await cache.get('k')
    clock.advance(5_000)
    await cache.get('k')
    await cache.get('k')
    expect(source.calls).toBe(3)
  })

  test('within staleWhileRevalidate: no refresh starts beside the caller while the last one failed recently', async () => {
    const { clock, source, cache } = await staleWithSourceDown('swr-outage', { staleWhileRevalidate: '1m', retryAfterError: '5s' })
    expect(await cache.lookup('k')).toMatchObject({ value: 'k@1', outcome: Outcome.Stale })
    await flushPromises()
    expect(source.calls).toBe(2)
    const scope = createScope()
    expect(await cache.lookup('k', { scope })).toMatchObject({ value: 'k@1', outcome: Outcome.Stale })
    expect(scope.pending).toBe(0)
    expect(source.calls).toBe(2)
    clock.advance(5_000)
    source.down = false
    await cache.get('k')
    await cache.settle(100)
    expect(source.calls).toBe(3)
    expect(await cache.get('k')).toBe('k@2')
  })

  test('a value stored meanwhile ends the period: its own refresh is asked for when it is due', async () => {
    const { clock, source, cache } = await staleWithSourceDown('replaced', { staleIfError: '1h', retryAfterError: '1h' })
    await cache.get('k')
    await cache.set('k', 'set by hand')
    clock.advance(11_000)
    source.down = false
    expect(await cache.get('k')).toBe('k@2')
  })

  test('getMany leaves a key in its period out of the batch, and serves it stale', async () => {
    const clock = manualClock()
    const { source, load, loadMany } = switchableSource()
    const cache = createCache({ name: 'batched', load, loadMany, ttl: '10s', staleIfError: '1h', retryAfterError: '5s', now: clock.now })
    await cache.getMany(['a', 'b'])
    source.down = true
    clock.advance(11_000)
    expect(await cache.getMany(['a', 'b'])).toEqual(['a@1', 'b@2'])
    expect(source.batchCalls).toBe(2)
    source.down = false
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual(['a@1', 'b@2', 'c@3'])
    expect(source).toMatchObject({ batchCalls: 2, calls: 1 })
  })

  test('a key past every window whose load just failed still loads in the batch of the others: there is nothing stale to serve meanwhile', async () => {
    const clock = manualClock()
    const { source, load, loadMany } = switchableSource()
    const cache = createCache({ name: 'expired-batch', load, loadMany, ttl: '10s', retryAfterError: '5s', now: clock.now })
    await cache.getMany(['a', 'b'])
    clock.advance(11_000)
    source.down = true
    await expect(cache.getMany(['a', 'b'])).rejects.toThrow(/source down/)
    source.down = false
    expect(await cache.getMany(['a', 'b'])).toEqual(['a@3', 'b@4'])
    expect(source).toMatchObject({ batchCalls: 3, calls: 0 })
  })

  test('0 asks the source on every request', async () => {
    const { source, cache } = await staleWithSourceDown('no-backoff', { staleIfError: '1h', retryAfterError: 0 })
    await cache.get('k')
    await cache.get('k')
    expect(source.calls).toBe(3)
  })

  test('the default waits one second', async () => {
    const { clock, source, cache } = await staleWithSourceDown('default-backoff', { staleIfError: '1h' })
    await cache.get('k')
    clock.advance(999)
    await cache.get('k')
    expect(source.calls).toBe(2)
    clock.advance(1)
    await cache.get('k')
    expect(source.calls).toBe(3)
  })

  test('an invalid period is refused at construction, naming the option', () => {
    expect(() => createCache({ name: 'bad', load: () => 'v', ttl: '1m', retryAfterError: 'soon' as never })).toThrow(/retryAfterError/)
    expect(() => createCache({ name: 'bad', load: () => 'v', ttl: '1m', retryAfterError: -1 })).toThrow(/retryAfterError/)
  })
})

describe('retryAfterError after a load that outlived its timeout', () => {
  test('a source that hangs: the stale value at once, without a new load, until the period is over', async () => {
    const clock = manualClock()
    let calls = 0
    const hanging = (signal: AbortSignal): Promise<string> =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          reject(new Error('abandoned'))
        })
      })
    const load = (key: string, { signal }: { signal: AbortSignal }): Promise<string> => (++calls === 1 ? Promise.resolve(`${key}@1`) : hanging(signal))
    const cache = createCache({ name: 'hanging', load, ttl: '10s', staleIfError: '1h', timeout: '20ms', retryAfterError: '5s', now: clock.now })
    await cache.get('k')
    clock.advance(11_000)

    const first = createScope()
    expect(await cache.lookup('k', { scope: first })).toMatchObject({ value: 'k@1', outcome: Outcome.StaleOnError })
    // The invocation ends: its hanging load is abandoned.
    await first.settle(0)
    const second = createScope()
    expect(await cache.lookup('k', { scope: second })).toMatchObject({ value: 'k@1', outcome: Outcome.StaleOnError })
    expect(second.pending).toBe(0)
    expect(calls).toBe(2)
    clock.advance(5_000)
    const third = createScope()
    expect(await cache.lookup('k', { scope: third })).toMatchObject({ value: 'k@1', outcome: Outcome.StaleOnError })
    await third.settle(0)
    expect(calls).toBe(3)
  })
  test('a hanging load another invocation still holds: a get that waits out its timeout for it starts another period', async () => {
    const clock = manualClock()
    let calls = 0
    const load = (key: string): Promise<string> => (++calls === 1 ? Promise.resolve(`${key}@1`) : new Promise<string>(() => undefined))
    const cache = createCache({ name: 'held-hanging', load, ttl: '10s', staleIfError: '1h', timeout: '20ms', retryAfterError: '5s', now: clock.now })
    await cache.get('k')
    clock.advance(11_000)

    // A long invocation (or concurrent ones, on a Managed Instance) keeps the hanging load held.
    const holding = createScope()
    expect(await cache.lookup('k', { scope: holding })).toMatchObject({ value: 'k@1', outcome: Outcome.StaleOnError })
    clock.advance(5_000)
    const afterPeriod = createScope()
    expect(await cache.lookup('k', { scope: afterPeriod })).toMatchObject({ value: 'k@1', outcome: Outcome.StaleOnError })
    expect(afterPeriod.pending).toBe(1)
    const next = createScope()
    expect(await cache.lookup('k', { scope: next })).toMatchObject({ value: 'k@1', outcome: Outcome.StaleOnError })
    expect(next.pending).toBe(0)
    expect(calls).toBe(2)
    await Promise.all([holding.settle(0), afterPeriod.settle(0), next.settle(0)])
  })
})
