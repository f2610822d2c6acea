import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { redisStore, type L2Store } from '../../entrypoints/redis.js'
import { createCache, createScope, Outcome, Tier } from '../../src/index.js'
import { startRedis, startTcpProxy, uniqueName } from '../harness/index.js'
import { deferred } from '../support/deferred.js'
import { blockEventLoop } from '../support/event-loop.js'
import { waiterTakesHoldersValue } from '../support/lease-waiter.js'
import { generousWaitMs, within } from '../support/within.js'
import { closeEnvironments, commandCalls, environments, leaseAttempts, leaseFoundHeld, leaseGivenBack, rawRedis, sharedRedisUrl } from './l2-support.js'

afterEach(async () => {
  jest.restoreAllMocks()
  await closeEnvironments()
})

/**
 * A starved vCPU: once the lease requests sent together are on their way, the event loop runs
 * nothing for `ms`; Redis answers meanwhile, and the requests' timers are long due by the time
 * the loop runs again.
 */
const stallOnceLeasesAreAsked = (store: L2Store, ms: number): void => {
  const acquireLease = store.acquireLease.bind(store)
  let stalled = false
  jest.spyOn(store, 'acquireLease').mockImplementation((...request) => {
    if (!stalled) {
      stalled = true
      // A microtask: it runs once every request of this turn has been sent.
      queueMicrotask(() => {
        blockEventLoop(ms)
      })
    }
    return acquireLease(...request)
  })
}

/**
 * A lease held, and waited for, far longer than a busy machine takes to load a value and write it:
 * the tests count loads, and a holder slowed past its lease would let a second load in.
 */
const patientLease = { ttl: '1m', wait: '10s' } as const

describe('the lease keeps a miss in many environments to one load', () => {
  test('10 environments x 100 concurrent misses on one key: exactly one load', async () => {
    const env = environments({ lease: patientLease })
    let loads = 0
    const load = async (key: string): Promise<string> => {
      loads++
      await sleep(100)
      return `value of ${key}`
    }
    const caches = Array.from({ length: 10 }, () => createCache({ name: 'stampede', load, ttl: '1m', l2: env.store() }))
    const values = await Promise.all(caches.flatMap((cache) => Array.from({ length: 100 }, () => cache.get('hot'))))
    expect(values).toEqual(Array.from({ length: 1_000 }, () => 'value of hot'))
    expect(loads).toBe(1)
    const servedFromL2 = caches.filter((cache) => cache.stats().l2Hits === 100).length
    expect(servedFromL2).toBe(9)
  })

  test.each([
    ['through loadMany', true],
    ['without loadMany (a load call per key)', false],
  ])('batches too: 5 environments x getMany of 3 keys %s, beside a lone get of one of them in each, load each key once among them', async (_how, batchLoader) => {
    const env = environments({ lease: patientLease })
    const loaded: string[] = []
    const loadMany = async (keys: readonly string[]): Promise<string[]> => {
      loaded.push(...keys)
      await sleep(100)
      return keys.map((key) => `value of ${key}`)
    }
    const load = async (key: string): Promise<string> => {
      loaded.push(key)
      await sleep(100)
      return `value of ${key}`
    }
    const caches = Array.from({ length: 5 }, () => createCache({ name: 'batch-stampede', load, ...(batchLoader ? { loadMany } : {}), ttl: '1m', l2: env.store() }))
    const answers = await Promise.all(caches.map((cache) => Promise.all([cache.getMany(['a', 'b', 'c']), cache.get('b')])))
    expect(answers).toEqual(Array.from({ length: 5 }, () => [['value of a', 'value of b', 'value of c'], 'value of b']))
    expect(loaded.sort()).toEqual(['a', 'b', 'c'])
  })

  test('a batch does not hold the leases it took while another environment holds one of its keys: an environment waiting on it is not kept waiting too', async () => {
    // Two batches asking for keys in another order could each hold a key the other waits for: both
    // would wait out lease.wait, then both load everything.
    const env = environments({ lease: { ttl: '1h', wait: '5s' } })
    const raw = rawRedis()
    try {
      const heldLease = `${env.prefix}{held-elsewhere:0:k:b}:lease`
      await raw.set(heldLease, 'another environment, mid-batch', 'PX', 3_600_000)
      const loadMany = jest.fn((keys: readonly string[]) => Promise.resolve(keys.map((key) => `batch ${key}`)))
      const load = jest.fn((key: string) => `single ${key}`)
      const [batchingStore, waitingStore] = [env.store(), env.store()]
      const batching = createCache({ name: 'held-elsewhere', load, loadMany, ttl: '1m', l2: batchingStore })
      const waitingLoad = jest.fn((key: string) => `second environment ${key}`)
      const waiting = createCache({ name: 'held-elsewhere', load: waitingLoad, ttl: '1m', l2: waitingStore })
      const aGivenBack = leaseGivenBack(batchingStore)
      const batch = batching.getMany(['a', 'b'])
      // a is loaded, written and its lease given back while b's holder still holds b.
      await aGivenBack
      expect(loadMany.mock.calls.map(([keys]) => keys)).toEqual([['a']])
      expect(await raw.get(heldLease)).toBe('another environment, mid-batch')
      const attemptsOfWaiting = leaseAttempts(waitingStore)
      expect(await waiting.lookup('a')).toMatchObject({ value: 'batch a', outcome: Outcome.Hit, tier: Tier.L2 })
      // Served by its read of L2: it never had to ask for the lease.
      expect(attemptsOfWaiting).toEqual([])
      expect(waitingLoad).not.toHaveBeenCalled()
      // The holder of b gives up: the batch's b, waiting for it as a lone miss does, takes the lease and loads it.
      await raw.del(heldLease)
      expect(await batch).toEqual(['batch a', 'single b'])
      expect(loadMany.mock.calls.map(([keys]) => keys)).toEqual([['a']])
      expect(load.mock.calls.map(([key]) => key)).toEqual(['b'])
    } finally {
      raw.disconnect()
    }
  })

  test('a batch abandoned while it asked L2 does not call loadMany once L2 answers', async () => {
    const target = new URL(sharedRedisUrl())
    const proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port) } })
    const store = redisStore({ url: proxy.url('redis'), prefix: `${uniqueName('l2')}:`, timeout: '2s' })
    try {
      const loadMany = jest.fn((keys: readonly string[]) => Promise.resolve(keys.map((key) => `batch ${key}`)))
      const cache = createCache({ name: 'abandoned-batch', load: (key: string) => `single ${key}`, loadMany, ttl: '1m', l2: store })
      expect(await cache.lookup('warm-up')).toMatchObject({ tier: Tier.Source })
      proxy.setLatency(150)
      const asked = deferred<undefined>()
      const getMany = store.getMany.bind(store)
      jest.spyOn(store, 'getMany').mockImplementation((...request) => {
        asked.resolve(undefined)
        return getMany(...request)
      })
      const givenBack = leaseGivenBack(store)
      const scope = createScope()
      const values = cache.getMany(['a', 'b'], { scope }).catch((error: unknown) => error)
      // Abandoned with its read on the way: the answer takes a round trip of 300 ms.
      await within(asked.promise, 'the batch never asked L2')
      expect(await scope.settle(0)).toEqual({ completed: 0, abandoned: 2 })
      expect(await values).toMatchObject({ name: 'CacheLoadError' })
      // L2 answered the read, then the lease attempts; the batch, done, gives its leases back. Had it
      // gone on, it would have called loadMany before writing and giving them back.
      await within(givenBack, 'the abandoned batch never gave back the leases it took once L2 answered')
      expect(loadMany).not.toHaveBeenCalled()
    } finally {
      await store.close()
      await proxy.close()
    }
  })

  test("an environment waiting for another's load polls with PTTL and GET, never SET: Redis runs one SET from it, its first try at the lease, and it gets the value once written", async () => {
    // A Redis of its own: its command counts are this test's alone.
    const redis = await startRedis()
    const admin = rawRedis(redis.url)
    const waiterConnection = new Redis(redis.url, { disconnectTimeout: 100, maxRetriesPerRequest: 0 })
    try {
      const lease = { ttl: '60s', wait: '10s' } as const
      const env = environments({ url: redis.url, lease })
      const loading = deferred<string>()
      const started = deferred<undefined>()
      const holder = createCache({ name: 'polled', load: () => { started.resolve(undefined); return loading.promise }, ttl: '1m', l2: env.store() })
      const held = holder.get('k')
      await within(started.promise, 'the holder did not load')
      await admin.config('RESETSTAT')
      // The waiter's commands: its version and value reads, its try at the lease (3), then its polls.
      const polled = deferred<undefined>()
      const sendCommand = waiterConnection.sendCommand.bind(waiterConnection)
      let sent = 0
      jest.spyOn(waiterConnection, 'sendCommand').mockImplementation((...command) => {
        if (++sent === 25) polled.resolve(undefined)
        return sendCommand(...command)
      })
      await waiterTakesHoldersValue(redisStore({ client: waiterConnection, prefix: env.prefix, timeout: '500ms', lease }), { held, loading, polled: polled.promise })
      const calls = await commandCalls(admin)
      // The waiter's SET NX, and the holder's value.
      expect(calls('set')).toBe(2)
      expect(calls('pttl')).toBeGreaterThanOrEqual(10)
    } finally {
      await closeEnvironments()
      waiterConnection.disconnect()
      admin.disconnect()
      await redis.stop()
    }
  })

  test('a holder whose load fails gives the lease back: a waiting environment takes over at once', async () => {
    const env = environments({ lease: { ttl: '30s', wait: '30s' } })
    const loading = deferred<undefined>()
    const sourceDown = deferred<never>()
    const failing = createCache({
      name: 'handover',
      load: () => {
        loading.resolve(undefined)
        return sourceDown.promise
      },
      ttl: '1m',
      l2: env.store(),
    })
    const loadB = jest.fn(() => 'loaded by the second environment')
    const secondStore = env.store()
    const second = createCache({ name: 'handover', load: loadB, ttl: '1m', l2: secondStore })
    const first = failing.get('k').catch((error: unknown) => error)
    // The first environment loads: it holds the lease.
    await within(loading.promise, 'the first environment never began its load')
    const waiting = leaseFoundHeld(secondStore)
    const secondValue = second.get('k')
    await within(waiting, 'the second environment never found the lease held')
    sourceDown.reject(new Error('source down for this environment'))
    // Without the handover the second environment would wait out lease.wait, 30 s.
    expect(await within(secondValue, 'the lease the failed load held was never handed to the waiting environment')).toBe('loaded by the second environment')
    expect(await first).toMatchObject({ name: 'CacheLoadError' })
    expect(loadB).toHaveBeenCalledTimes(1)
  })

  test('a holder whose value cannot be written to L2 still gives the lease back', async () => {
    const env = environments({ lease: { ttl: '30s', wait: '30s' } })
    const store = env.store()
    jest.spyOn(store, 'set').mockRejectedValueOnce(new Error('OOM command not allowed when used memory > maxmemory'))
    const scope = createScope()
    const holder = createCache({ name: 'unwritten', load: () => 'loaded', ttl: '1m', l2: store })
    expect(await holder.get('k', { scope })).toBe('loaded')
    expect(scope.countersFor('unwritten')).toMatchObject({ l2Errors: 1 })
    const raw = rawRedis()
    try {
      expect(await raw.exists(`${env.prefix}{unwritten:0:k:k}:lease`)).toBe(0)
    } finally {
      raw.disconnect()
    }
  })

  test('a warm-up ping fanned out to two environments refreshes each key once, even when one stalls just after asking for its leases: answered meanwhile, it holds them, and the other waits for its values, not out lease.wait', async () => {
    // lease.wait is past the lease's ttl: a lease nobody gives back is waited on until it expires, then
    // taken, and its key loaded a second time.
    const env = environments({ lease: { ttl: '10s', wait: '1m' }, versionCheck: '1h' })
    const keys = Array.from({ length: 35 }, (_, index) => `p-${index}`)
    let refreshing = deferred<undefined>()
    const loaded: string[] = []
    const load = async (key: string): Promise<string> => {
      loaded.push(key)
      refreshing.resolve(undefined)
      await sleep(100)
      return `value of ${key}`
    }
    // The stall outlasts the stalled store's timeout, so that every lease request's timer is due when the
    // loop runs again; it leaves Redis half a second to answer meanwhile. A round trip on a busy machine
    // stays far inside the timeout, and the stall inside twice the timeout, which is taken for a freeze.
    const [timeoutMs, stallMs] = [1_000, 1_500]
    const stalledStore = env.store({ timeout: `${timeoutMs}ms` })
    const stalling = createCache({ name: 'fanned-out', load, ttl: '5m', l2: stalledStore })
    const other = createCache({ name: 'fanned-out', load, ttl: '5m', l2: env.store() })
    await stalling.getMany(keys)
    await other.getMany(keys)
    loaded.length = 0
    refreshing = deferred<undefined>()
    stallOnceLeasesAreAsked(stalledStore, stallMs)
    const [stallingScope, otherScope] = [createScope(), createScope()]
    // The ping's horizon is its interval, here the ttl: every entry is due.
    const horizonMs = 5 * 60_000
    const stallingRefresh = stalling.refreshAhead(horizonMs, { scope: stallingScope })
    // The other environment's ping lands while the first one loads.
    await refreshing.promise
    expect(await other.refreshAhead(horizonMs, { scope: otherScope })).toEqual({ refreshed: keys.length, failed: 0 })
    expect(await stallingRefresh).toEqual({ refreshed: keys.length, failed: 0 })
    expect(loaded.sort()).toEqual([...keys].sort())
    // Refresh-ahead loads a few keys at a time: the other ping may take the leases of keys the first
    // has not reached yet. Between them, each key loads once.
    const [stallingCounts, otherCounts] = [stallingScope.countersFor('fanned-out'), otherScope.countersFor('fanned-out')]
    expect({ l2Errors: stallingCounts.l2Errors + otherCounts.l2Errors, loads: stallingCounts.loads + otherCounts.loads }).toEqual({ l2Errors: 0, loads: keys.length })
  })

  test('a lease whose holder vanished is waited on for at most the lease wait, then the waiter loads itself', async () => {
    const env = environments({ lease: { ttl: '1h', wait: '200ms' } })
    const raw = rawRedis()
    await raw.set(`${env.prefix}{orphan:0:k:k}:lease`, 'a crashed environment', 'PX', 3_600_000)
    raw.disconnect()
    const load = jest.fn(() => 'loaded anyway')
    const cache = createCache({ name: 'orphan', load, ttl: '1m', l2: env.store() })
    const scope = createScope()
    expect(await cache.lookup('k', { scope })).toMatchObject({ value: 'loaded anyway', outcome: Outcome.Miss, tier: Tier.Source })
    expect(load).toHaveBeenCalledTimes(1)
    expect(scope.countersFor('orphan')).toMatchObject({ l2Errors: 0, loads: 1 })
  })

  test('the wait for another environment never outlasts the cache timeout', async () => {
    const env = environments({ lease: { ttl: '1h', wait: '1h' } })
    const raw = rawRedis()
    await raw.set(`${env.prefix}{bounded:0:k:k}:lease`, 'a crashed environment', 'PX', 3_600_000)
    raw.disconnect()
    // The load, begun once the lease wait (capped at the timeout) runs out, takes longer than what is left of the timeout.
    const load = async (): Promise<string> => {
      await sleep(300)
      return 'loaded'
    }
    const cache = createCache({ name: 'bounded', load, ttl: '1m', timeout: '300ms', l2: env.store() })
    const scope = createScope()
    const error: unknown = await cache.get('k', { scope }).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ name: 'CacheTimeoutError' })
    // The flight went on to load once its lease wait (capped at the timeout) ran out.
    expect(await scope.settle(generousWaitMs)).toEqual({ completed: 1, abandoned: 0 })
    expect(await cache.lookup('k')).toMatchObject({ value: 'loaded', outcome: Outcome.Hit })
  })
})
