import middy, { type MiddlewareObj } from '@middy/core'
import { setTimeout as sleep } from 'node:timers/promises'
import { dataCache } from '../../middlewares/data-cache.js'
import { markInvocationStart } from '../../middlewares/mark-invocation-start.js'
import { createCache, registerCache, registeredCaches, CacheKind } from '../../src/index.js'
import { invocationOf, onEarlyReturn, readingBefore, runEarlyReturnWork, settleInvocation } from '../../middlewares/shared/invocation.js'
import { monotonicClock } from '../../src/cache/clock.js'
import { manualClock } from '../support/clock.js'
import { deferred } from '../support/deferred.js'
import { invoke } from '../support/invoke.js'

const request = (remainingMs?: number) => ({
  internal: Object.create(null) as Record<string, unknown>,
  context: remainingMs === undefined ? {} : { getRemainingTimeInMillis: () => remainingMs },
})

describe('invocation state in the Middy request', () => {
  test('one state per request, shared by every middleware of the suite; two requests never share', () => {
    const first = request()
    const second = request()
    expect(invocationOf(first)).toBe(invocationOf(first))
    expect(invocationOf(first)).not.toBe(invocationOf(second))
    expect(invocationOf(first).scope).not.toBe(invocationOf(second).scope)
  })

  test('settling runs once per request within the remaining time, and later callers share its result', async () => {
    const clock = manualClock()
    const refresh = deferred<string>()
    const load = jest.fn().mockResolvedValueOnce('v1').mockReturnValueOnce(refresh.promise)
    const cache = createCache({ name: 'settled', load, ttl: '1s', staleWhileRevalidate: '1m', now: clock.now })
    await cache.get('k')
    clock.advance(2_000)
    const req = request(60)
    expect(await cache.get('k', { scope: invocationOf(req).scope })).toBe('v1')
    const first = settleInvocation(req, 10_000)
    expect(settleInvocation(req, 10_000)).toBe(first)
    expect(await first).toEqual({ completed: 0, abandoned: 1 })
  })
})

describe('the clock reading shared in before', () => {
  test('the monotonic clock is read once per invocation, when its state is made; each invocation has its own reading', async () => {
    const first = request()
    const before = monotonicClock()
    const reading = readingBefore(invocationOf(first), monotonicClock)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(reading).toBeGreaterThanOrEqual(before)
    expect(readingBefore(invocationOf(first), monotonicClock)).toBe(reading)
    expect(readingBefore(invocationOf(request()), monotonicClock)).toBeGreaterThan(reading)
  })

  test('with markInvocationStart, the reading is taken by the first middleware of the suite: a value that expired while a middleware before it worked is reloaded', async () => {
    const load = jest.fn((id: string) => `product ${id}`)
    const products = dataCache({ name: 'products', key: () => '1', load, ttl: '20ms', jitter: 0 })
    const slowFirst: MiddlewareObj = {
      before: async (request) => {
        // Longer than the ttl, on the second invocation: what the first loaded expires meanwhile.
        if ((request.event as { slow?: boolean }).slow === true) await sleep(40)
      },
    }
    const handler = middy({ requestStart: markInvocationStart }).use(slowFirst).use(products).handler(() => Promise.resolve('ok'))
    await invoke(handler, {})
    await invoke(handler, { slow: true })
    expect(load).toHaveBeenCalledTimes(2)
  })

  test("a cache's own clock (a test's, say) is read on every call, never replaced by the shared reading", () => {
    const clock = manualClock(5)
    const invocation = invocationOf(request())
    expect(readingBefore(invocation, clock.now)).toBe(5)
    clock.advance(10)
    expect(readingBefore(invocation, clock.now)).toBe(15)
  })
})

describe('the cache registry', () => {
  test('holds registered caches until they unregister', () => {
    const cache = createCache({ name: 'registered', load: () => 1, ttl: 1 })
    const unregister = registerCache({ cache, kind: CacheKind.Data, secret: false })
    expect(registeredCaches().map((registration) => registration.cache)).toContain(cache)
    unregister()
    expect(registeredCaches().map((registration) => registration.cache)).not.toContain(cache)
  })
})

describe('work that must run on an early return', () => {
  test('runs once, even when a piece fails, and not after it was removed', async () => {
    const req = request()
    const ran: string[] = []
    onEarlyReturn(req, () => {
      ran.push('metrics')
      return Promise.resolve()
    })
    onEarlyReturn(req, () => Promise.reject(new Error('flush failed')))
    const remove = onEarlyReturn(req, () => {
      ran.push('removed')
      return Promise.resolve()
    })
    remove()
    await runEarlyReturnWork(req)
    await runEarlyReturnWork(req)
    expect(ran).toEqual(['metrics'])
  })
})
