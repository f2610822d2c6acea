import { once } from 'node:events'
import { join } from 'node:path'
import { CacheTimeoutError, createCache, createScope, Outcome } from '../../src/index.js'
import type { Cache, LoadContext } from '../../src/index.js'
import { manualClock } from '../support/clock.js'
import { deferred, flushPromises } from '../support/deferred.js'
import { blockEventLoop } from '../support/event-loop.js'
import { runScript } from '../support/node-script.js'
import { socketPair } from '../support/socket-pair.js'
import { within } from '../support/within.js'

describe('load timeout', () => {
  test('hard when nothing stale exists: a CacheTimeoutError naming the cache and the key', async () => {
    const cache = createCache({ name: 'slow-source', load: () => new Promise<string>(() => undefined), ttl: '1m', timeout: '20ms' })
    const error: unknown = await cache.get('/shop/flags').catch((thrown: unknown) => thrown)

    expect(error).toBeInstanceOf(CacheTimeoutError)
    expect(error).toMatchObject({ cache: 'slow-source', key: '/shop/flags', timeoutMs: 20 })
    expect((error as Error).message).toMatch(/"\/shop\/flags".*"slow-source".*20 ms/)
    expect(cache.stats()).toMatchObject({ loadTimeouts: 1, errors: 1 })
    await cache.settle(0)
  })

  test('describeKey names the key in a timeout error', async () => {
    const cache = createCache({ name: 'slow-described', load: () => new Promise<string>(() => undefined), ttl: '1m', timeout: '20ms', describeKey: (key) => `parameter "${key}" (context.config.flags)` })
    const error: unknown = await cache.get('/shop/flags#json').catch((thrown: unknown) => thrown)
    expect((error as Error).message).toBe('middy-cache: loading parameter "/shop/flags#json" (context.config.flags) for cache "slow-described" timed out after 20 ms')
    await cache.settle(0)
  })

  test('a load left running at a freeze (a prefetch when INIT is frozen) is not counted as timed out by its timer firing at the thaw', async () => {
    const gate = deferred<string>()
    const cache = createCache({ name: 'frozen-load', load: () => gate.promise, ttl: '1m', timeout: '50ms' })
    const prefetch = cache.get('k').catch(() => undefined)
    // The environment frozen for over a second: no timer runs meanwhile, then every due one at once.
    blockEventLoop(1_100)
    await new Promise((resolve) => setTimeout(resolve, 0))
    gate.resolve('v')
    await prefetch
    await flushPromises()
    expect(cache.stats()).toMatchObject({ loadTimeouts: 0, entries: 1 })
    expect(await cache.get('k')).toBe('v')
  })

  test('a timer a busy process fires late (a fraction of a vCPU, say) is still a timeout: only one a second or more late is taken for a freeze', async () => {
    const cache = createCache({ name: 'busy-process', load: () => new Promise<string>(() => undefined), ttl: '1m', timeout: '20ms' })
    const waiting = cache.get('k')
    // Busy: the timers fire over a hundred milliseconds late.
    blockEventLoop(150)
    await expect(waiting).rejects.toThrow(/timed out/)
    expect(cache.stats()).toMatchObject({ loadTimeouts: 1 })
    await cache.settle(0)
  })

  test('a load whose answer already waits in its socket when its late timer fires is served, not timed out: a timeout is judged once the sockets are read', async () => {
    const sockets = await socketPair()
    try {
      const load = (): Promise<string> => sockets.nextText()
      const cache = createCache({ name: 'starved', load, ttl: '1m', timeout: '20ms' })
      const waiting = cache.get('k')
      sockets.writer.write('v')
      // Starved past the timeout: the answer arrives meanwhile, and the timer is long due when the loop runs again.
      blockEventLoop(150)
      expect(await waiting).toBe('v')
      expect(cache.stats()).toMatchObject({ loadTimeouts: 0, errors: 0 })
    } finally {
      sockets.close()
    }
  })

  test('a caller waiting at a freeze is not timed out by its timer firing at the thaw: it waits its timeout again for the load', async () => {
    const gate = deferred<string>()
    const cache = createCache({ name: 'frozen-caller', load: () => gate.promise, ttl: '1m', timeout: '50ms' })
    const waiting = cache.get('k')
    blockEventLoop(1_100)
    await new Promise((resolve) => setTimeout(resolve, 0))
    gate.resolve('v')
    expect(await waiting).toBe('v')
    expect(cache.stats()).toMatchObject({ errors: 0, loadTimeouts: 0 })
  })

  test('a caller whose load stays silent after a thaw still times out, one timeout after the thaw', async () => {
    const load = jest.fn(() => new Promise<string>(() => undefined))
    const cache = createCache({ name: 'frozen-silent', load, ttl: '1m', timeout: '50ms' })
    const events: string[] = []
    const waiting = cache.get('k').catch((error: unknown) => {
      events.push(`timed out: ${cache.stats().loadTimeouts} load timeout`)
      return error
    })
    blockEventLoop(1_100)
    // Set at the thaw and due 5 ms before a timeout started over there: it fires first unless the
    // timers that fired at the thaw ended the wait and the load rather than starting them over.
    const beforeTimeout = new Promise<void>((resolve) => {
      setTimeout(() => {
        events.push(`45 ms after the thaw: ${cache.stats().loadTimeouts} load timeouts`)
        resolve()
      }, 45)
    })

    expect(await waiting).toBeInstanceOf(CacheTimeoutError)
    await beforeTimeout
    expect(events).toEqual(['45 ms after the thaw: 0 load timeouts', 'timed out: 1 load timeout'])
    expect(cache.stats()).toMatchObject({ loads: 1, loadTimeouts: 1, errors: 1 })
    expect(load).toHaveBeenCalledTimes(1)
    await cache.settle(0)
  })

  test('a refresh left running at a freeze that stays silent after the thaw times out one timeout later: counted once, and backed off', async () => {
    const clock = manualClock()
    const load = jest.fn().mockResolvedValueOnce('old').mockReturnValue(new Promise<string>(() => undefined))
    const cache = createCache({ name: 'frozen-refresh', load, ttl: '1s', staleWhileRevalidate: '10s', staleIfError: '1h', timeout: '50ms', retryAfterError: '1m', now: clock.now })
    await cache.get('k')
    clock.advance(2_000)
    // Served stale; the refresh beside it, which nobody waits for, is caught by the freeze.
    expect(await cache.get('k')).toBe('old')
    blockEventLoop(1_100)
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(cache.stats().loadTimeouts).toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 100))
    await flushPromises()
    expect(cache.stats().loadTimeouts).toBe(1)

    // Past staleWhileRevalidate, the stale value is served at once while the refresh backs off.
    clock.advance(10_000)
    expect(await cache.lookup('k')).toMatchObject({ value: 'old', outcome: Outcome.StaleOnError })
    expect(load).toHaveBeenCalledTimes(2)
    expect(cache.stats().loadTimeouts).toBe(1)
    await cache.settle(0)
  })

  test('a load that hangs on nothing holding the event loop still times out: its timer keeps the process alive until then', async () => {
    expect(await runScript(join(__dirname, 'fixtures', 'hung-load.ts'))).toBe('CacheTimeoutError\n')
  })

  test('soft when a stale value may stand in: served at the timeout, and the load may still finish within the invocation', async () => {
    const clock = manualClock()
    const slow = deferred<string>()
    const load = jest.fn().mockResolvedValueOnce('old').mockReturnValueOnce(slow.promise)
    const cache = createCache({ name: 'soft', load, ttl: '1s', staleIfError: '1m', timeout: '20ms', now: clock.now })
    await cache.get('k')
    clock.advance(5_000)
    const scope = createScope()

    expect(await cache.lookup('k', { scope })).toMatchObject({ value: 'old', outcome: Outcome.StaleOnError })
    expect(scope.pending).toBe(1)
    slow.resolve('new')
    expect(await scope.settle(100)).toEqual({ completed: 1, abandoned: 0 })
    expect(await cache.lookup('k')).toMatchObject({ value: 'new', outcome: Outcome.Hit })
  })

  test('the loader receives an AbortSignal that aborts when the invocation abandons the load; its late value is dropped', async () => {
    const clock = manualClock()
    const late = deferred<string>()
    let signal: AbortSignal | undefined
    let calls = 0
    const load = (_key: string, context: LoadContext): Promise<string> => {
      calls++
      if (calls === 1) return Promise.resolve('old')
      signal = context.signal
      return late.promise
    }
    const cache = createCache({ name: 'abandon', load, ttl: '1s', staleWhileRevalidate: '1m', now: clock.now })
    await cache.get('k')
    clock.advance(2_000)
    const scope = createScope()
    expect(await cache.get('k', { scope })).toBe('old')

    expect(await scope.settle(10)).toEqual({ completed: 0, abandoned: 1 })
    expect(signal?.aborted).toBe(true)
    late.resolve('too late')
    await flushPromises()
    expect(cache.stats().inFlight).toBe(0)
    expect(await cache.lookup('k')).toMatchObject({ value: 'old', outcome: Outcome.Stale })
    expect(calls).toBe(3)
  })

  test.each([
    ['with the reason of its signal, as fetch does', (signal: AbortSignal): Error => signal.reason as Error],
    ['with an AbortError, as the AWS SDK does', (): Error => Object.assign(new Error('Request aborted'), { name: 'AbortError' })],
  ] as const)('a loader that passes its signal on fails once its load is abandoned (%s): no load error, no duration, since the source neither failed nor answered', async (_case, abortError) => {
    const clock = manualClock()
    let calls = 0
    const load = (_key: string, { signal }: LoadContext): Promise<string> => {
      if (++calls === 1) return Promise.resolve('old')
      return new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          reject(abortError(signal))
        })
      })
    }
    const cache = createCache({ name: 'abandon-aborts', load, ttl: '1s', staleWhileRevalidate: '1m', now: clock.now })
    await cache.get('k')
    clock.advance(2_000)
    const scope = createScope()
    expect(await cache.get('k', { scope })).toBe('old')

    expect(await scope.settle(10)).toEqual({ completed: 0, abandoned: 1 })
    await flushPromises()
    expect(scope.countersFor('abandon-aborts')).toMatchObject({ loads: 1, loadErrors: 0, loadsEnded: 0, staleServed: 1 })
    expect(cache.stats()).toMatchObject({ loads: 2, loadErrors: 0, errors: 0 })
  })

  // Jest fails the test that is running when a rejection goes unhandled (checked by hand: a bare
  // `void Promise.reject()` here fails it), so these scenarios prove that none does.
  test('a load that fails after being abandoned never raises an unhandled rejection', async () => {
    const clock = manualClock()
    const failing = deferred<string>()
    const load = jest.fn().mockResolvedValueOnce('old').mockReturnValueOnce(failing.promise)
    const cache = createCache({ name: 'quiet', load, ttl: '1s', staleWhileRevalidate: '1m', now: clock.now })
    await cache.get('k')
    clock.advance(2_000)
    const scope = createScope()
    expect(await cache.get('k', { scope })).toBe('old')
    expect(await scope.settle(0)).toEqual({ completed: 0, abandoned: 1 })
    failing.reject(new Error('source down'))
    await flushPromises()
    expect(cache.stats()).toMatchObject({ loadErrors: 1, entries: 1 })
  })

  test('a failing background refresh nobody awaits is counted, not thrown', async () => {
    const clock = manualClock()
    const load = jest.fn().mockResolvedValueOnce('old').mockRejectedValueOnce(new Error('source down'))
    const cache = createCache({ name: 'quiet-refresh', load, ttl: '1s', staleWhileRevalidate: '1m', now: clock.now })
    await cache.get('k')
    clock.advance(2_000)
    expect(await cache.get('k')).toBe('old')
    await flushPromises()
    expect(cache.stats()).toMatchObject({ loadErrors: 1, staleServed: 1, errors: 0 })
  })

  test('a get made as another invocation abandons the load loads afresh: it never joins the abandoned one', async () => {
    const clock = manualClock()
    let meanwhile: Promise<string> | undefined
    let calls = 0
    const load = (key: string, { signal }: LoadContext): Promise<string> => {
      calls++
      if (calls !== 2) return Promise.resolve(`${key} v${calls}`)
      // Another invocation (of a Managed Instance) asks for the key at the very moment this refresh is abandoned.
      signal.addEventListener('abort', () => { meanwhile = cache.get(key) })
      return new Promise(() => undefined)
    }
    const cache = createCache({ name: 'abandoned-join', load, ttl: '1s', staleWhileRevalidate: '1s', now: clock.now })
    await cache.get('k')
    clock.advance(1_500)
    const scope = createScope()
    expect(await cache.get('k', { scope })).toBe('k v1')
    clock.advance(1_000)
    expect(await scope.settle(0)).toEqual({ completed: 0, abandoned: 1 })
    expect(await meanwhile).toBe('k v3')
  })

  test('settle counts as completed a load whose answer already waits in its socket when its late budget timer fires: its value is kept, not abandoned', async () => {
    const sockets = await socketPair()
    try {
      const clock = manualClock()
      const load = jest.fn().mockResolvedValueOnce('old').mockImplementationOnce(() => sockets.nextText())
      const cache = createCache({ name: 'starved-settle', load, ttl: '1s', staleWhileRevalidate: '1m', now: clock.now })
      await cache.get('k')
      clock.advance(2_000)
      const scope = createScope()
      expect(await cache.get('k', { scope })).toBe('old')
      const settling = scope.settle(20)
      sockets.writer.write('new')
      blockEventLoop(150)
      expect(await settling).toEqual({ completed: 1, abandoned: 0 })
      expect(await cache.lookup('k')).toMatchObject({ value: 'new', outcome: Outcome.Hit })
    } finally {
      sockets.close()
    }
  })

  test('settle leaves running a load that another caller still waits for', async () => {
    const gate = deferred<string>()
    const cache = createCache({ name: 'shared-wait', load: () => gate.promise, ttl: '1m' })
    const waiting = cache.get('k')
    expect(await cache.settle(5)).toEqual({ completed: 0, abandoned: 0 })
    gate.resolve('v')
    expect(await waiting).toBe('v')
    expect(cache.stats().entries).toBe(1)
  })
})

describe('a replaced load whose callers stop waiting', () => {
  /** A cache (timeout 50 ms) whose first load of each key hangs, recording its signal; later loads answer. */
  const hangingOnce = (name: string, clock = manualClock()) => {
    const signals: AbortSignal[] = []
    const load = jest.fn((_key: string, { signal }: { signal: AbortSignal }) => {
      signals.push(signal)
      return signals.length === 1 ? new Promise<string>(() => undefined) : Promise.resolve('fresh')
    })
    return { cache: createCache({ name, load, ttl: '1h', timeout: '50ms', now: clock.now }), signals, clock }
  }

  test.each([
    ['set', async (cache: Cache<string>) => { await cache.set('k', 'written') }],
    ['delete', async (cache: Cache<string>) => { await cache.delete('k') }],
    ['clear', (cache: Cache<string>) => cache.clear()],
  ] as const)('superseded by %s while a caller without a scope waits: abandoned when that caller\'s timeout ends', async (_write, supersede) => {
    const { cache, signals } = hangingOnce('superseded-waited')
    const waiting = cache.get('k').catch((error: unknown) => error)
    await supersede(cache)
    expect(signals[0]?.aborted).toBe(false)

    await waiting
    expect(signals[0]?.aborted).toBe(true)
  })

  test('left running across a freeze and replaced while a caller without a scope waits: abandoned when that caller\'s timeout ends', async () => {
    const { cache, signals, clock } = hangingOnce('replaced-waited')
    const waiting = cache.get('k').catch((error: unknown) => error)
    clock.advance(60 * 60_000)
    expect(await cache.get('k')).toBe('fresh')
    expect(signals[0]?.aborted).toBe(false)

    // Timed out, it is served what the key holds now, the new load's value.
    expect(await waiting).toBe('fresh')
    expect(signals.map((signal) => signal.aborted)).toEqual([true, false])
  })

  test('still current when its caller stops waiting: left running for the next get to join, which then gets its value', async () => {
    const gate = deferred<string>()
    const load = jest.fn((_key: string, _context: { signal: AbortSignal }) => gate.promise)
    const cache = createCache({ name: 'current-waited', load, ttl: '1h', timeout: '50ms' })
    expect(await cache.get('k').catch((error: unknown) => error)).toBeInstanceOf(CacheTimeoutError)
    expect(load.mock.calls[0]?.[1].signal.aborted).toBe(false)

    const joined = cache.get('k')
    gate.resolve('late')
    expect(await joined).toBe('late')
    expect(load).toHaveBeenCalledTimes(1)
  })

  test('a load cached nowhere (loadUncached) is abandoned when its caller without a scope stops waiting', async () => {
    const { cache, signals } = hangingOnce('uncached-waited')
    await expect(cache.loadUncached('k')).rejects.toBeInstanceOf(CacheTimeoutError)
    expect(signals[0]?.aborted).toBe(true)
  })

  test('a batch cached nowhere (loadManyUncached) times out once, and is abandoned when its callers without a scope stop waiting', async () => {
    const signals: AbortSignal[] = []
    const loadMany = (_keys: readonly string[], { signal }: { signal: AbortSignal }) => {
      signals.push(signal)
      return new Promise<string[]>(() => undefined)
    }
    const cache = createCache({ name: 'uncached-batch-waited', load: (key: string) => key, loadMany, ttl: '1h', timeout: '50ms' })
    await expect(cache.loadManyUncached(['a', 'b', 'a'])).rejects.toBeInstanceOf(CacheTimeoutError)
    expect(signals).toHaveLength(1)
    const [signal] = signals as [AbortSignal]
    // Each caller stops waiting at a timer of its own, set a millisecond later than the first's, say:
    // the batch is abandoned once the last one has fired, maybe a turn of the event loop after the first.
    if (!signal.aborted) await within(once(signal, 'abort'), 'the batch was never abandoned once its callers stopped waiting')
    expect(cache.stats()).toMatchObject({ loadTimeouts: 1, inFlight: 0 })
  })
})

describe('load timeout per caller', () => {
  // Fake timers, so that "not before its own timeout" is asserted without measuring real time.
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] })
  })
  afterEach(() => {
    jest.useRealTimers()
  })

  /** A cache (timeout 50 ms) whose load of 'k', held by `gate`, has just timed out for a first caller. */
  const timedOutForFirstCaller = async (name: string) => {
    const gate = deferred<string>()
    const load = jest.fn(() => gate.promise)
    const cache = createCache({ name, load, ttl: '1m', timeout: '50ms' })
    const first = cache.get('k').catch((error: unknown) => error)
    await jest.advanceTimersByTimeAsync(50)
    expect(await first).toBeInstanceOf(CacheTimeoutError)
    return { cache, gate, load }
  }

  test('a get that joins a load already timed out for another caller waits its own timeout, on the same load', async () => {
    const { cache, load } = await timedOutForFirstCaller('late-joiner')

    let late: unknown
    void cache.get('k').then(
      (value) => (late = value),
      (error: unknown) => (late = error),
    )
    await jest.advanceTimersByTimeAsync(49)
    expect(late).toBeUndefined()
    await jest.advanceTimersByTimeAsync(1)
    expect(late).toBeInstanceOf(CacheTimeoutError)
    expect(late).toMatchObject({ timeoutMs: 50 })
    expect(load).toHaveBeenCalledTimes(1)
  })

  test('a late joiner the load answers within its own timeout gets the value', async () => {
    const { cache, gate, load } = await timedOutForFirstCaller('late-answer')

    const late = cache.get('k')
    await jest.advanceTimersByTimeAsync(30)
    gate.resolve('v')
    expect(await late).toBe('v')
    expect(load).toHaveBeenCalledTimes(1)
    expect(cache.stats()).toMatchObject({ loadTimeouts: 1, errors: 1, misses: 1 })
  })
})
