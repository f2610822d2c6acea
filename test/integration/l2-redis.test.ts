import { createCache, createScope, CacheKind, Outcome, registerCache, Tier } from '../../src/index.js'
import { cacheFigures, metricGroups } from '../../src/metrics/index.js'
import { redisStore, type L2Store } from '../../entrypoints/redis.js'
import { startRedis, startTcpProxy, uniqueName } from '../harness/index.js'
import { blockEventLoop } from '../support/event-loop.js'
import { flushPromises } from '../support/deferred.js'
import { within } from '../support/within.js'
import { closeEnvironments, commandCalls, environments, leaseAttempts, leaseGivenBack, linkedTime, rawRedis, recordingLogger, sharedRedisUrl } from './l2-support.js'
import type { Redis } from 'ioredis'

const product = (id: string) => ({ id, name: `Product ${id}` })

let raw: Redis
beforeAll(() => {
  raw = rawRedis()
})
afterAll(() => {
  raw.disconnect()
})
afterEach(async () => {
  jest.restoreAllMocks()
  await closeEnvironments()
})

describe('two environments sharing Redis', () => {
  test('the second gets an L2 hit, kept in memory exactly as long as the first keeps it', async () => {
    const env = environments()
    const time = linkedTime()
    const loadA = jest.fn((id: string) => Promise.resolve(product(id)))
    const loadB = jest.fn((id: string) => Promise.resolve(product(id)))
    const a = createCache({ name: 'products', load: loadA, ttl: '1m', l2: env.store(), now: time.clock() })
    const b = createCache({ name: 'products', load: loadB, ttl: '1m', l2: env.store(), now: time.clock() })

    expect(await a.lookup('42')).toMatchObject({ value: product('42'), outcome: Outcome.Miss, tier: Tier.Source })
    time.advance(20_000)
    const scope = createScope()
    expect(await b.lookup('42', { scope })).toMatchObject({ value: product('42'), outcome: Outcome.Hit, tier: Tier.L2 })
    expect(scope.countersFor('products')).toMatchObject({ l2Hits: 1, hits: 0, misses: 0, loads: 0 })
    expect(loadB).not.toHaveBeenCalled()

    time.advance(39_000)
    expect(await a.lookup('42')).toMatchObject({ outcome: Outcome.Hit, tier: Tier.L1 })
    expect(await b.lookup('42')).toMatchObject({ outcome: Outcome.Hit, tier: Tier.L1 })
    time.advance(2_000)
    expect(await b.lookup('42')).toMatchObject({ outcome: Outcome.Miss, tier: Tier.Source })
    expect(loadB).toHaveBeenCalledTimes(1)
  })

  test('a load fills memory and L2; the Redis expiry is the last moment the entry may serve', async () => {
    const env = environments()
    const cache = createCache({ name: 'expiring', load: (id: string) => product(id), ttl: '1m', staleWhileRevalidate: '30s', staleIfError: '1h', l2: env.store() })
    await cache.get('7')
    expect(cache.stats()).toMatchObject({ entries: 1, loads: 1 })
    const expiresInMs = await raw.pttl(`${env.prefix}{expiring:0:k:7}`)
    expect(expiresInMs).toBeGreaterThan(3_600_000 + 60_000 - 5_000)
    expect(expiresInMs).toBeLessThanOrEqual(3_600_000 + 60_000)
  })

  /** A writer environment that put v1 in L2, 15 s ago (ttl 10 s, staleWhileRevalidate 1 m), and a new reader environment loading with `load`. */
  const staleInL2 = async (name: string, load: () => string) => {
    const env = environments()
    const time = linkedTime()
    const writer = createCache({ name, load: () => 'v1', ttl: '10s', staleWhileRevalidate: '1m', l2: env.store(), now: time.clock() })
    await writer.get('k')
    time.advance(15_000)
    const reader = createCache({ name, load, ttl: '10s', staleWhileRevalidate: '1m', l2: env.store(), now: time.clock() })
    return { writer, reader }
  }

  test('a stale L2 value within staleWhileRevalidate is served at once and refreshed beside the caller', async () => {
    const load = jest.fn(() => 'v2')
    const { writer, reader } = await staleInL2('swr', load)
    const scope = createScope()
    expect(await reader.lookup('k', { scope })).toMatchObject({ value: 'v1', outcome: Outcome.Stale, tier: Tier.L2 })
    expect(await scope.settle(2_000)).toEqual({ completed: 1, abandoned: 0 })
    expect(load).toHaveBeenCalledTimes(1)
    expect(await reader.lookup('k')).toMatchObject({ value: 'v2', outcome: Outcome.Hit, tier: Tier.L1 })
    // The writer still holds v1, stale: it serves it once more, and its refresh finds v2 in L2 instead of loading.
    const writerScope = createScope()
    expect(await writer.lookup('k', { scope: writerScope })).toMatchObject({ value: 'v1', outcome: Outcome.Stale, tier: Tier.L1 })
    await writerScope.settle(2_000)
    expect(writerScope.countersFor('swr')).toMatchObject({ loads: 0 })
    expect(await writer.lookup('k')).toMatchObject({ value: 'v2', outcome: Outcome.Hit, tier: Tier.L1 })
  })

  test("a get served stale from L2 is an L1 miss in cacheMetrics' figures, and L2Latency is the mean of its L2 operations", async () => {
    const { reader } = await staleInL2('swr_figures', () => 'v2')
    const scope = createScope()
    expect(await reader.lookup('k', { scope })).toMatchObject({ outcome: Outcome.Stale, tier: Tier.L2 })
    await scope.settle(2_000)

    const counters = scope.countersFor('swr_figures')
    const figures = Object.fromEntries(cacheFigures(counters, false, new Set(metricGroups)).map((figure) => [figure.name, figure.value]))
    expect(figures).toMatchObject({ Gets: 1, L1Misses: 1, StaleServed: 1, HitRate: 100 })
    expect(figures.L2Latency).toBe(counters.l2TimeMs / counters.l2Operations)
  })

  test("concurrent gets that share one L2 read each see that read's latency in L2Latency, not a share of it", async () => {
    const target = new URL(sharedRedisUrl())
    const latencyMs = 20
    const proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port) }, latencyMs })
    try {
      const env = environments({ url: proxy.url('redis'), versionCheck: '1h' })
      const writer = createCache({ name: 'shared_read', load: () => 'v1', ttl: '1m', l2: env.store() })
      await writer.get('k')
      const reader = createCache({ name: 'shared_read', load: () => 'v2', ttl: '1m', l2: env.store() })
      // Outside the scope: the connection and the namespace version read, so that the scope sees one operation.
      await reader.get('warm-up')
      const scope = createScope()
      const gets = 8
      const lookups = await Promise.all(Array.from({ length: gets }, () => reader.lookup('k', { scope })))
      expect(lookups.every((lookup) => lookup.outcome === Outcome.Hit && lookup.tier === Tier.L2)).toBe(true)

      const counters = scope.countersFor('shared_read')
      expect(counters).toMatchObject({ l2Hits: gets, l2Operations: 1 })
      const figures = Object.fromEntries(cacheFigures(counters, false, new Set(metricGroups)).map((figure) => [figure.name, figure.value]))
      // A round trip crosses the proxy twice.
      expect(figures.L2Latency).toBeGreaterThanOrEqual(2 * latencyMs - 1)
      expect(figures.L2Latency).toBe(counters.l2TimeMs)
    } finally {
      await proxy.close()
    }
  })

  test('a stale L2 value served to a caller without a scope is refreshed all the same', async () => {
    const env = environments()
    const time = linkedTime()
    const writer = createCache({ name: 'swr_unscoped', load: () => 'v1', ttl: '10s', staleWhileRevalidate: '1m', l2: env.store(), now: time.clock() })
    await writer.get('k')
    time.advance(15_000)
    const load = jest.fn(() => 'v2')
    const reader = createCache({ name: 'swr_unscoped', load, ttl: '10s', staleWhileRevalidate: '1m', l2: env.store(), now: time.clock() })
    expect(await reader.lookup('k')).toMatchObject({ value: 'v1', outcome: Outcome.Stale, tier: Tier.L2 })
    expect(await reader.settle(2_000)).toMatchObject({ completed: 1 })
    expect(load).toHaveBeenCalledTimes(1)
    expect(await reader.lookup('k')).toMatchObject({ value: 'v2', outcome: Outcome.Hit, tier: Tier.L1 })
  })

  test('an L2 value within staleIfError stands in when the source fails', async () => {
    const env = environments()
    const time = linkedTime()
    const writer = createCache({ name: 'sie', load: () => 'last good', ttl: '10s', staleIfError: '1h', l2: env.store(), now: time.clock() })
    await writer.get('k')
    time.advance(60_000)
    const reader = createCache({ name: 'sie', load: () => Promise.reject(new Error('source down')), ttl: '10s', staleIfError: '1h', l2: env.store(), now: time.clock() })
    expect(await reader.lookup('k')).toMatchObject({ value: 'last good', outcome: Outcome.StaleOnError })
  })

  test('"not found" is shared for negativeTtl, and a value found gone is removed from L2', async () => {
    const env = environments()
    const loadA = jest.fn((): string | undefined => undefined)
    const a = createCache({ name: 'negative', load: loadA, ttl: '1m', negativeTtl: '30s', l2: env.store() })
    const loadB = jest.fn((): string | undefined => 'found')
    const b = createCache({ name: 'negative', load: loadB, ttl: '1m', negativeTtl: '30s', l2: env.store() })
    expect(await a.get('missing')).toBeUndefined()
    expect(await b.lookup('missing')).toMatchObject({ value: undefined, outcome: Outcome.Hit, tier: Tier.L2 })
    expect(loadB).not.toHaveBeenCalled()

    const forgetful = createCache({ name: 'gone', load: () => undefined as string | undefined, ttl: '1m', l2: env.store() })
    await raw.set(`${env.prefix}{gone:0:k:k}`, 'stale bytes')
    await forgetful.get('k')
    expect(await raw.exists(`${env.prefix}{gone:0:k:k}`)).toBe(0)
  })

  test('set and delete reach L2', async () => {
    const env = environments()
    const a = createCache({ name: 'writes', load: () => 'loaded', ttl: '1m', l2: env.store() })
    const b = createCache({ name: 'writes', load: () => 'loaded', ttl: '1m', l2: env.store() })
    await a.set('k', 'written')
    expect(await b.lookup('k')).toMatchObject({ value: 'written', tier: Tier.L2 })
    const c = createCache({ name: 'writes', load: () => 'loaded', ttl: '1m', l2: env.store() })
    expect(await a.delete('k')).toBe(true)
    expect(await c.lookup('k')).toMatchObject({ value: 'loaded', tier: Tier.Source })
  })

  test('clear() moves the namespace version on: L2 is emptied for all, and other environments drop their memory at their next check', async () => {
    const env = environments({ versionCheck: '10s' })
    const time = linkedTime()
    let version = 1
    const load = () => `v${version}`
    const a = createCache({ name: 'cleared', load, ttl: '1h', l2: env.store(), now: time.clock() })
    const b = createCache({ name: 'cleared', load, ttl: '1h', l2: env.store(), now: time.clock() })
    await a.get('k')
    expect(await b.lookup('k')).toMatchObject({ value: 'v1', tier: Tier.L2 })
    version = 2
    await a.clear()
    expect(await a.lookup('k')).toMatchObject({ value: 'v2', outcome: Outcome.Miss })
    time.advance(5_000)
    expect(await b.lookup('k')).toMatchObject({ value: 'v1', tier: Tier.L1 })
    time.advance(5_000)
    expect(await b.lookup('k')).toMatchObject({ value: 'v2', outcome: Outcome.Hit, tier: Tier.L2 })
  })

  test.each([
    ['through loadMany, in one call', true],
    ['without loadMany, a load call each', false],
  ])('getMany reads every miss from L2 in one read and loads only what L2 lacks, %s', async (_how, batchLoader) => {
    const env = environments()
    const name = batchLoader ? 'batch-many' : 'batch-each'
    const writer = createCache({ name, load: (id: string) => product(id), ttl: '1m', l2: env.store() })
    await writer.getMany(['1', '2'])
    const load = jest.fn((id: string) => product(id))
    const loadMany = jest.fn((ids: readonly string[]) => Promise.resolve(ids.map(product)))
    const store = env.store()
    const reader = createCache({ name, load, ...(batchLoader ? { loadMany } : {}), ttl: '1m', l2: store })
    await reader.get('warm-up')
    load.mockClear()
    const [get, getMany] = [jest.spyOn(store, 'get'), jest.spyOn(store, 'getMany')]
    const scope = createScope()
    expect(await reader.getMany(['1', '2', '3', '4'], { scope })).toEqual(['1', '2', '3', '4'].map(product))
    expect({ get: get.mock.calls.length, getMany: getMany.mock.calls.map(([keys]) => keys.length) }).toEqual({ get: 0, getMany: [4] })
    expect({ load: load.mock.calls.map(([id]) => id).sort(), loadMany: loadMany.mock.calls.map(([ids]) => ids) }).toEqual(batchLoader ? { load: [], loadMany: [['3', '4']] } : { load: ['3', '4'], loadMany: [] })
    expect(scope.countersFor(name)).toMatchObject({ l2Hits: 2, l2Misses: 2, misses: 2, loads: batchLoader ? 1 : 2 })
    expect(await writer.lookup('4')).toMatchObject({ tier: Tier.L2 })
  })

  test('getMany of 10 misses without loadMany is one L2 read and one lease operation, then a write and a release per key: 22 L2 operations, not the 40 of 10 lone gets; Redis runs the same commands either way', async () => {
    // A Redis of its own: its command counts are this test's alone.
    const redis = await startRedis()
    const admin = rawRedis(redis.url)
    try {
      const store = environments({ url: redis.url, versionCheck: '1h' }).store()
      const load = jest.fn((key: string) => `value of ${key}`)
      const cache = createCache({ name: 'ten', load, ttl: '1m', l2: store })
      // Reads the namespace version, which the getMany then need not read.
      await cache.get('warm-up')
      load.mockClear()
      const [get, getMany] = [jest.spyOn(store, 'get'), jest.spyOn(store, 'getMany')]
      await admin.config('RESETSTAT')
      const keys = Array.from({ length: 10 }, (_, index) => `k${index}`)
      const scope = createScope()
      expect(await cache.getMany(keys, { scope })).toEqual(keys.map((key) => `value of ${key}`))
      expect(load.mock.calls.map(([key]) => key).sort()).toEqual([...keys].sort())
      expect({ get: get.mock.calls.length, getMany: getMany.mock.calls.map(([asked]) => asked.length) }).toEqual({ get: 0, getMany: [10] })
      expect(scope.countersFor('ten')).toMatchObject({ l2Misses: 10, l2Errors: 0, l2Operations: 22, loads: 10 })
      const calls = await commandCalls(admin)
      // A GET of each value, then SET NX, PTTL and GET beside each lease, a SET of each value, and each
      // lease given back by EVAL, whose script runs GET and DEL.
      expect(Object.fromEntries(['get', 'set', 'pttl', 'eval', 'del'].map((command) => [command, calls(command)]))).toEqual({ get: 30, set: 20, pttl: 10, eval: 10, del: 10 })
    } finally {
      await closeEnvironments()
      admin.disconnect()
      await redis.stop()
    }
  })
})

describe('a lease whose answer comes after the L2 timeout', () => {
  const stores: L2Store[] = []
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()))
  })

  test('is given back as soon as the late answer shows it was taken: another environment refreshing the key does not wait out lease.wait', async () => {
    const target = new URL(sharedRedisUrl())
    const proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port) } })
    try {
      const env = environments({ versionCheck: '1h' })
      const lease = { ttl: '10s', wait: '3s' } as const
      // The timeout is past any round trip on a busy machine, so that the warm-up below meets none.
      const timeoutMs = 1_000
      const slowStore = redisStore({ url: proxy.url('redis'), prefix: env.prefix, versionCheck: '1h', timeout: `${timeoutMs}ms`, lease })
      stores.push(slowStore)
      const otherStore = env.store({ lease })
      const slow = createCache({ name: 'late_lease', load: () => 'from slow', ttl: '1m', l2: slowStore })
      const other = createCache({ name: 'late_lease', load: () => 'from other', ttl: '1m', l2: otherStore })
      expect(await slow.get('k')).toBe('from slow')
      expect(await other.get('k')).toBe('from slow')
      // A warm-up ping's refresh goes straight to the lease. Bytes take a timeout each way: the lease is
      // taken on Redis, and its answer arrives a timeout after the timer was due, however late that fired.
      proxy.setLatency(timeoutMs)
      const [attempt, release] = [jest.spyOn(slowStore, 'acquireLease'), jest.spyOn(slowStore, 'releaseLease')]
      await slow.refreshAhead(Number.POSITIVE_INFINITY)
      expect(await attempt.mock.results[0]?.value).toMatchObject({ acquired: true })
      await flushPromises()
      // The late answer showed the lease taken: it is given back then, under the attempt's token.
      expect(release.mock.calls.map(([key, token]) => [key, token])).toEqual([[attempt.mock.calls[0]?.[0], attempt.mock.calls[0]?.[1]]])
      await release.mock.results[0]?.value
      const attemptsOfOther = leaseAttempts(otherStore)
      expect(await other.refreshAhead(Number.POSITIVE_INFINITY)).toEqual({ refreshed: 1, failed: 0 })
      // Taken at the other environment's first attempt: it waited on nobody.
      expect(attemptsOfOther).toEqual([true])
    } finally {
      await proxy.close()
    }
  })
})

describe('a lease whose answer never comes: the connection drops with the commands sent', () => {
  // Closed here rather than in the test: one held past its timeout would leave them open, and jest running.
  const opened: { close: () => Promise<void> }[] = []
  afterEach(async () => {
    for (const resource of opened.splice(0)) await resource.close()
  })

  test.each([
    ['once the store has reconnected', false],
    // ioredis's first attempts to reconnect are then refused, each an 'error' event.
    ['when reconnecting fails at first (Redis refuses connections for a while)', true],
  ])('is given back %s: another environment takes it at once, not after its 60 s', async (_case, refusingAWhile) => {
    const target = new URL(sharedRedisUrl())
    const proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port) } })
    const env = environments()
    const dropping = redisStore({ url: proxy.url('redis'), prefix: env.prefix, timeout: '5s' })
    opened.push(dropping, proxy)
    await dropping.get('warm-up', new AbortController().signal)
    const givenBack = leaseGivenBack(dropping)
    // Commands reach Redis a second late, and their answers come back a second later: dropped once the
    // lease is taken on Redis, the connection never carries the answer to its holder.
    proxy.setLatency(1_000)
    const attempt = dropping.acquireLease('k', 'unanswered', 60_000, new AbortController().signal)
    const raw = rawRedis()
    try {
      const leaseKey = `${env.prefix}{k}:lease`
      for (let check = 0; check < 250 && (await raw.exists(leaseKey)) === 0; check++) await new Promise((resolve) => setTimeout(resolve, 20))
      expect(await raw.exists(leaseKey)).toBe(1)
    } finally {
      raw.disconnect()
    }
    proxy.setLatency(0)
    if (refusingAWhile) await proxy.setRefusing(true)
    proxy.dropConnections()
    await expect(attempt).rejects.toThrow()
    if (refusingAWhile) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      await proxy.setRefusing(false)
    }
    // Given back once the store has reconnected; kept, it would last its 60 s.
    await within(givenBack, 'the lease whose answer was lost was never given back once the store reconnected')
    expect(await env.store().acquireLease('k', 'next', 60_000, new AbortController().signal)).toMatchObject({ acquired: true })
  })
})

describe("a batch's leases whose answers never come: the connection drops with the commands sent", () => {
  test("each lease, though the batch took them under one token, is given back once the store has reconnected, not left to hold other environments' misses for its 60 s", async () => {
    const target = new URL(sharedRedisUrl())
    const proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port) } })
    const env = environments()
    const dropping = redisStore({ url: proxy.url('redis'), prefix: env.prefix, timeout: '5s' })
    const raw = rawRedis()
    try {
      const keys = ['a', 'b', 'c']
      const acquireLeases = dropping.acquireLeases?.bind(dropping)
      expect(acquireLeases).toBeDefined()
      if (acquireLeases === undefined) return
      await dropping.get('warm-up', new AbortController().signal)
      const givenBack = leaseGivenBack(dropping, keys.length)
      // As in the test above: the leases are taken on Redis, and the connection drops before their answers come back.
      proxy.setLatency(1_000)
      const attempt = acquireLeases(keys, 'unanswered', 60_000, new AbortController().signal)
      const leaseKeys = keys.map((key) => `${env.prefix}{${key}}:lease`)
      for (let check = 0; check < 250 && (await raw.exists(...leaseKeys)) < keys.length; check++) await new Promise((resolve) => setTimeout(resolve, 20))
      expect(await raw.exists(...leaseKeys)).toBe(keys.length)
      proxy.setLatency(0)
      proxy.dropConnections()
      await expect(attempt).rejects.toThrow()
      await within(givenBack, "the batch's leases whose answers were lost were not all given back once the store reconnected")
      expect(await raw.exists(...leaseKeys)).toBe(0)
    } finally {
      raw.disconnect()
      await dropping.close()
      await proxy.close()
    }
  })
})

describe('an L2 operation pending when Lambda freezes the environment', () => {
  // Past any round trip on a busy machine: a warm-up that met it would open the circuit (failures: 1).
  const timeoutMs = 1_000
  // Taken for a freeze: two timeouts, and a second past the timeout (see endedAfterFreeze).
  const frozenMs = 2 * timeoutMs + 100

  test('answered while frozen, it is read at the thaw before its timer, due first, is judged: served from L2', async () => {
    const env = environments()
    const writer = createCache({ name: 'thawed', load: (id: string) => product(id), ttl: '1m', l2: env.store() })
    await writer.getMany(['42', '43'])
    const reader = createCache({ name: 'thawed', load: (id: string) => product(id), ttl: '1m', l2: env.store({ timeout: `${timeoutMs}ms`, breaker: { failures: 1, coolDown: '1h' } }) })
    await reader.get('warm-up')
    const pending = reader.lookup('42')
    // Frozen once the read is sent (a turn of the event loop later): its answer arrives meanwhile.
    await new Promise((resolve) => setImmediate(resolve))
    blockEventLoop(frozenMs)
    expect(await pending).toMatchObject({ value: product('42'), outcome: Outcome.Hit, tier: Tier.L2 })
    expect(reader.stats().l2Circuit).toBe('closed')
  })

  test('unanswered, it fails at the thaw but counts nothing toward the breaker: the next invocation still reads L2', async () => {
    const env = environments()
    const writer = createCache({ name: 'thawed_silent', load: (id: string) => product(id), ttl: '1m', l2: env.store() })
    await writer.getMany(['42', '43'])
    const target = new URL(sharedRedisUrl())
    const proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port) } })
    try {
      const store = redisStore({ url: proxy.url('redis'), prefix: env.prefix, timeout: `${timeoutMs}ms`, breaker: { failures: 1, coolDown: '1h' } })
      const reader = createCache({ name: 'thawed_silent', load: (id: string) => product(id), ttl: '1m', l2: store })
      await reader.get('warm-up')
      proxy.setBlackhole(true)
      const pending = reader.lookup('42')
      // Frozen once the read is sent; no answer arrives meanwhile.
      await new Promise((resolve) => setImmediate(resolve))
      blockEventLoop(frozenMs)
      expect(await pending).toMatchObject({ value: product('42'), tier: Tier.Source })
      expect(reader.stats().l2Circuit).toBe('closed')
      proxy.setBlackhole(false)
      expect(await reader.lookup('43')).toMatchObject({ value: product('43'), outcome: Outcome.Hit, tier: Tier.L2 })
      await store.close()
    } finally {
      await proxy.close()
    }
  })
})

describe('what goes into L2', () => {
  test('bytes and large values travel (large ones compressed); keys over 250 characters are hashed', async () => {
    const env = environments({ compressAbove: 1_024 })
    const big = { text: 'x'.repeat(50_000) }
    const longKey = 'k'.repeat(300)
    const values = new Map<string, unknown>([['bytes', new Uint8Array([0, 1, 2, 254, 255])], ['big', big], [longKey, 'long']])
    const a = createCache<unknown>({ name: 'payloads', load: (key) => values.get(key), ttl: '1m', l2: env.store() })
    const b = createCache<unknown>({ name: 'payloads', load: () => 'not from L2', ttl: '1m', l2: env.store() })
    await a.getMany([...values.keys()])
    const bytes = (await b.lookup('bytes')) as { value: Uint8Array; tier: string }
    expect(bytes.tier).toBe(Tier.L2)
    expect([...bytes.value]).toEqual([0, 1, 2, 254, 255])
    expect(await b.get('big')).toEqual(big)
    expect(await b.lookup(longKey)).toMatchObject({ value: 'long', tier: Tier.L2 })
    const stored = await raw.getBuffer(`${env.prefix}{payloads:0:k:big}`)
    expect(stored?.subarray(0, 4).toString()).toBe('mc1z')
    expect(stored?.length).toBeLessThan(5_000)
  })

  test.each([
    ['a BigInt', { count: 10n }, /BigInt/],
    ['a cycle', (() => { const node: Record<string, unknown> = {}; node.self = node; return node })(), /circular/],
    ['a Date', { at: new Date(0) }, /Date/],
    ['a Map', new Map([['a', 1]]), /Map/],
    ['a "__proto__" key of parsed data, which every reader refuses', JSON.parse('{"a":{"__proto__":{"admin":true}}}') as unknown, /__proto__/],
  ])('%s stays in memory only, counted, with one warning naming the cache', async (_, value, reason) => {
    const env = environments()
    const logger = recordingLogger()
    const a = createCache<unknown>({ name: 'unserialisable', load: () => value, ttl: '1m', l2: env.store(), logger })
    const scope = createScope()
    expect(await a.get('one', { scope })).toBe(value)
    expect(await a.get('two', { scope })).toBe(value)
    expect(await a.lookup('one')).toMatchObject({ outcome: Outcome.Hit, tier: Tier.L1 })
    expect(scope.countersFor('unserialisable')).toMatchObject({ l2Skipped: 2, l2Errors: 0 })
    expect(logger.messages).toHaveLength(1)
    expect(logger.messages[0]).toMatch(/cache "unserialisable"/)
    expect(logger.messages[0]).toContain('key "one"')
    expect(logger.messages[0]).toMatch(reason)
    expect(await raw.exists(`${env.prefix}{unserialisable:0:k:one}`)).toBe(0)
  })

  test.each([
    ['-0, which JSON writes as 0', () => ({ id: '1', balance: -0 }), 'value.balance is -0'],
    ['a property set to undefined, which JSON leaves out', () => ({ id: '1', discount: undefined }), 'value.discount is undefined'],
    ['a symbol key, which JSON leaves out', () => ({ id: '1', [Symbol.for('audit')]: 'by load' }), 'value has a symbol key (Symbol(audit))'],
    ['NaN deep inside, which JSON writes as null', () => ({ items: [{ price: 1 }, { price: 2 }, { price: Number.NaN }] }), 'value.items[2].price is NaN'],
    ['an empty slot of a sparse array, which JSON writes as null', () => [1, , 3], 'value[1] is an empty slot'], // eslint-disable-line no-sparse-arrays
    ['a property set on an array beside its elements, which JSON leaves out', () => ({ items: Object.assign([1, 2], { total: 2 }) }), 'value.items.total is a property of an array beside its elements'],
  ])('a value with %s is never served changed by another environment: it loads its own', async (_, made, where) => {
    const env = environments()
    const logger = recordingLogger()
    const loaded = made()
    const a = createCache<unknown>({ name: 'changed-by-json', load: () => loaded, ttl: '1m', l2: env.store(), logger })
    const loadB = jest.fn(() => made())
    const b = createCache<unknown>({ name: 'changed-by-json', load: loadB, ttl: '1m', l2: env.store() })
    const scope = createScope()
    expect(await a.get('42', { scope })).toBe(loaded)
    expect(scope.countersFor('changed-by-json')).toMatchObject({ l2Skipped: 1, l2Errors: 0 })
    expect(await raw.exists(`${env.prefix}{changed-by-json:0:k:42}`)).toBe(0)
    // Before: b took L2's copy, which JSON had changed. Now it serves what its own load made.
    const read = await b.lookup('42')
    expect(read.tier).toBe(Tier.Source)
    expect(loadB).toHaveBeenCalledTimes(1)
    expect(read.value).toBe(loadB.mock.results[0]?.value)
    expect(logger.messages).toEqual([expect.stringContaining(`cache "changed-by-json"`)])
    expect(logger.messages[0]).toContain(`key "42": ${where}`)
  })

  test('a set() of a value L2 cannot store removes the one it replaces there: other environments load rather than serve the old value', async () => {
    const env = environments()
    const writer = createCache<unknown>({ name: 'replaced', load: () => ({ count: 1 }), ttl: '1h', l2: env.store(), logger: recordingLogger() })
    expect(await writer.get('k')).toEqual({ count: 1 })
    await writer.set('k', { count: 2n })
    expect(await raw.exists(`${env.prefix}{replaced:0:k:k}`)).toBe(0)
    const reader = createCache<unknown>({ name: 'replaced', load: () => 'loaded', ttl: '1h', l2: env.store() })
    expect(await reader.lookup('k')).toMatchObject({ value: 'loaded', tier: Tier.Source })
  })
})

describe('garbage in Redis is a miss, never an exception', () => {
  const envelope = (body: string) => Buffer.from(`mc1j{"c":${Date.now()},"t":60000,"w":0,"e":0,${body}}`)
  test.each([
    ['not ours at all', Buffer.from('plain text somebody else wrote')],
    ['empty', Buffer.alloc(0)],
    ['our header only', Buffer.from('mc1j')],
    ['truncated', envelope('"v":{"id":"1","name":"Prod').subarray(0, 40)],
    ['not JSON', Buffer.from('mc1j{"c":1,"t":')],
    ['a foreign envelope', Buffer.from('mc1j{"created":1,"value":"x"}')],
    ['an unknown format byte', Buffer.from('mc1q{}')],
    ['a deflated payload that is not deflate', Buffer.from('mc1z not deflate at all')],
    ['negative times', Buffer.from('mc1j{"c":1,"t":-5,"w":0,"e":0,"v":1}')],
    ['a ttl no option could set (1e300)', Buffer.from(`mc1j{"c":${Date.now()},"t":1e300,"w":0,"e":0,"v":"forged"}`)],
    ['a __proto__ key', envelope('"v":{"__proto__":{"isAdmin":true}}')],
    ['an escaped __proto__ key', envelope('"v":{"\\u005f_proto__":{"isAdmin":true}}')],
    ['a constructor.prototype key', envelope('"v":{"constructor":{"prototype":{"isAdmin":true}}}')],
  ])('%s', async (_, payload) => {
    const env = environments()
    const load = jest.fn(() => 'from source')
    const cache = createCache({ name: 'garbage', load, ttl: '1m', l2: env.store() })
    await raw.set(`${env.prefix}{garbage:0:k:k}`, payload)
    const scope = createScope()
    expect(await cache.lookup('k', { scope })).toMatchObject({ value: 'from source', outcome: Outcome.Miss, tier: Tier.Source })
    expect(scope.countersFor('garbage')).toMatchObject({ l2Misses: 1, l2Errors: 0, loads: 1 })
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
  })

  test('keys that differ only in lone surrogates, alike in UTF-8, are apart in Redis: each environment reads its own', async () => {
    const env = environments()
    const keys = ['cart:u\ud800', 'cart:u\udc00', 'cart:u\ufffd']
    const a = createCache<string>({ name: 'carts', load: (key) => `cart of ${JSON.stringify(key)}`, ttl: '1m', l2: env.store() })
    const b = createCache<string>({ name: 'carts', load: () => 'not from L2', ttl: '1m', l2: env.store() })
    await a.get(keys[0] as string)
    for (const key of keys.slice(1)) expect(await b.lookup(key)).toMatchObject({ value: 'not from L2', outcome: Outcome.Miss })
    expect(await b.lookup(keys[0] as string)).toMatchObject({ value: `cart of ${JSON.stringify(keys[0])}`, tier: Tier.L2 })
  })

  test.each(['abc', '', '1e3'])('a namespace version that is no counter (%j) is skipped with one warning: values load from the source, none is keyed by NaN', async (version) => {
    const env = environments()
    await raw.set(`${env.prefix}versioned:version`, version)
    const logger = recordingLogger()
    const load = jest.fn((key: string) => `loaded ${key}`)
    const cache = createCache({ name: 'versioned', load, ttl: '1m', l2: env.store(), logger })
    expect(await cache.get('a')).toBe('loaded a')
    expect(await cache.get('b')).toBe('loaded b')
    expect(load).toHaveBeenCalledTimes(2)
    expect(logger.messages).toEqual([expect.stringContaining('holds no number, not a counter')])
    expect(await raw.keys(`${env.prefix}*NaN*`)).toEqual([])
  })

  test('a value key of another type (a hash) is a miss, not an outage: the invocation keeps L2 and the write replaces the key', async () => {
    const env = environments()
    const key = `${env.prefix}{wrongtype:0:k:k}`
    await raw.hset(key, 'field', 'another program')
    const load = jest.fn(() => 'from source')
    // One failure would open the circuit: none may be counted.
    const cache = createCache({ name: 'wrongtype', load, ttl: '1m', l2: env.store({ breaker: { failures: 1, coolDown: '1h' } }) })
    const scope = createScope()
    expect(await cache.lookup('k', { scope })).toMatchObject({ value: 'from source', outcome: Outcome.Miss, tier: Tier.Source })
    expect(await cache.lookup('other', { scope })).toMatchObject({ outcome: Outcome.Miss, tier: Tier.Source })
    expect(scope.countersFor('wrongtype')).toMatchObject({ l2Misses: 2, l2Errors: 0, loads: 2 })
    expect(cache.stats().l2Circuit).toBe('closed')
    expect(await raw.type(key)).toBe('string')
    const other = createCache({ name: 'wrongtype', load: () => 'not from L2', ttl: '1m', l2: env.store() })
    expect(await other.lookup('k')).toMatchObject({ value: 'from source', outcome: Outcome.Hit, tier: Tier.L2 })
  })

  test('a key of another type in a batch is a miss for that key alone: the others are served from L2, and it is healed', async () => {
    const env = environments()
    const writer = createCache({ name: 'wrongtype-many', load: (key: string) => `written ${key}`, ttl: '1m', l2: env.store() })
    await writer.get('a')
    await raw.rpush(`${env.prefix}{wrongtype-many:0:k:b}`, 'another program')
    const load = jest.fn((key: string) => `loaded ${key}`)
    const reader = createCache({ name: 'wrongtype-many', load, ttl: '1m', l2: env.store({ breaker: { failures: 1, coolDown: '1h' } }) })
    const scope = createScope()
    expect(await reader.getMany(['a', 'b'], { scope })).toEqual(['written a', 'loaded b'])
    expect(scope.countersFor('wrongtype-many')).toMatchObject({ l2Hits: 1, l2Misses: 1, l2Errors: 0, loads: 1 })
    expect(reader.stats().l2Circuit).toBe('closed')
    expect(await raw.type(`${env.prefix}{wrongtype-many:0:k:b}`)).toBe('string')
  })

  test.each<[string, (key: string) => Promise<unknown>]>([
    ['a hash', (key) => raw.hset(key, 'field', 'another program')],
    ['a string without an expiry', (key) => raw.set(key, 'forgotten')],
  ])('a lease key that never expires (%s) is held by no environment: a miss loads without waiting out lease.wait, and the lease heals', async (_what, write) => {
    const env = environments()
    const leaseKey = `${env.prefix}{stuck-lease:0:k:k}:lease`
    await write(leaseKey)
    const load = jest.fn(() => 'from source')
    // Waiting out this lease.wait would outlast the test's own timeout.
    const cache = createCache({ name: 'stuck-lease', load, ttl: '1m', l2: env.store({ lease: { ttl: '5s', wait: '1h' } }) })
    expect(await cache.lookup('k')).toMatchObject({ value: 'from source', tier: Tier.Source })
    expect(load).toHaveBeenCalledTimes(1)
    // Taken over with an expiry, then given back by its holder.
    expect(await raw.exists(leaseKey)).toBe(0)
  })

  test.each<[string, (key: string) => Promise<unknown>]>([
    ['a string that is no counter', (key) => raw.set(key, 'abc')],
    ['a hash', (key) => raw.hset(key, 'field', '1')],
  ])('clear() replaces a namespace version that holds %s by a counter beyond every earlier version, without counting a failure', async (_what, write) => {
    const env = environments()
    const versionKey = `${env.prefix}restarted:version`
    await write(versionKey)
    const before = Date.now()
    const cache = createCache({ name: 'restarted', load: (key: string) => `loaded ${key}`, ttl: '1m', l2: env.store({ breaker: { failures: 1, coolDown: '1h' } }), logger: recordingLogger() })
    const scope = createScope()
    await cache.clear({ scope })
    expect(scope.countersFor('restarted')).toMatchObject({ l2Errors: 0 })
    expect(Number(await raw.get(versionKey))).toBeGreaterThanOrEqual(before)
    await cache.get('a')
    const other = createCache({ name: 'restarted', load: () => 'not from L2', ttl: '1m', l2: env.store() })
    expect(await other.lookup('a')).toMatchObject({ value: 'loaded a', tier: Tier.L2 })
  })

  test('a namespace version of another type (a hash) is skipped with one warning, as one that is no counter: no failure, no open circuit', async () => {
    const env = environments()
    await raw.hset(`${env.prefix}versioned-hash:version`, 'field', '1')
    const logger = recordingLogger()
    const load = jest.fn((key: string) => `loaded ${key}`)
    const cache = createCache({ name: 'versioned-hash', load, ttl: '1m', l2: env.store({ breaker: { failures: 1, coolDown: '1h' } }), logger })
    const scope = createScope()
    expect(await cache.get('a', { scope })).toBe('loaded a')
    expect(await cache.get('b', { scope })).toBe('loaded b')
    expect(load).toHaveBeenCalledTimes(2)
    expect(scope.countersFor('versioned-hash')).toMatchObject({ l2Errors: 0, l2Misses: 0, loads: 2 })
    expect(cache.stats().l2Circuit).toBe('closed')
    expect(logger.messages).toEqual([expect.stringContaining('holds no number, not a counter; clear() the cache to replace it')])
    expect(await raw.keys(`${env.prefix}*versioned-hash:*:k:*`)).toEqual([])
  })

  test('a well-formed envelope written by hand is read (the checks above are not refusing everything)', async () => {
    const env = environments()
    const cache = createCache({ name: 'garbage', load: () => 'from source', ttl: '1m', l2: env.store() })
    await raw.set(`${env.prefix}{garbage:0:k:k}`, envelope('"v":{"constructor":"fine","name":"\\u00e9"}'))
    expect(await cache.lookup('k')).toMatchObject({ value: { constructor: 'fine', name: 'é' }, tier: Tier.L2 })
  })
})

test('a secrets cache refuses a shared tier', () => {
  const env = environments()
  const cache = createCache({ name: 'secrets-with-l2', load: () => 'secret', ttl: '1m', l2: env.store() })
  expect(() => registerCache({ cache, kind: CacheKind.Secrets, secret: true })).toThrow(/option "l2" cannot be used by cache "secrets-with-l2": its values are secrets/)
})

describe('refresh ahead over a shared tier', () => {
  test('reloads from the source: the L2 copy, as old as memory\'s, is from an earlier round and would push freshness no further', async () => {
    const env = environments()
    const time = linkedTime()
    let version = 0
    const load = jest.fn((id: string) => Promise.resolve({ ...product(id), version: ++version }))
    const cache = createCache({ name: 'ahead', load, ttl: '1m', l2: env.store(), now: time.clock() })
    await cache.get('1')
    time.advance(50_000)

    expect(await cache.refreshAhead(300_000, { roundMs: 10_000 })).toEqual({ refreshed: 1, failed: 0 })
    expect(load).toHaveBeenCalledTimes(2)
    time.advance(30_000)
    expect(await cache.lookup('1')).toMatchObject({ value: { version: 2 }, outcome: Outcome.Hit, tier: Tier.L1 })
  })

  test('takes a newer copy another environment wrote to L2 instead of loading', async () => {
    const env = environments()
    const time = linkedTime()
    const loadA = jest.fn((id: string) => Promise.resolve(product(id)))
    const loadB = jest.fn((id: string) => Promise.resolve(product(id)))
    const a = createCache({ name: 'ahead-shared', load: loadA, ttl: '1m', l2: env.store(), now: time.clock() })
    const b = createCache({ name: 'ahead-shared', load: loadB, ttl: '1m', l2: env.store(), now: time.clock() })
    await a.get('1')
    time.advance(50_000)
    await b.set('1', product('1'))

    expect(await a.refreshAhead(30_000)).toEqual({ refreshed: 1, failed: 0 })
    expect(loadA).toHaveBeenCalledTimes(1)
    time.advance(30_000)
    expect(await a.lookup('1')).toMatchObject({ outcome: Outcome.Hit, tier: Tier.L1 })
  })

  test('with loadMany, each due key still takes its lease (one load per key among environments), and a newer copy another wrote is taken', async () => {
    const env = environments()
    const time = linkedTime()
    const load = jest.fn((id: string) => product(id))
    const loadMany = jest.fn((ids: readonly string[]) => Promise.resolve(ids.map(product)))
    const a = createCache({ name: 'ahead-batched', load, loadMany, ttl: '1m', l2: env.store(), now: time.clock() })
    const b = createCache({ name: 'ahead-batched', load: (id: string) => product(id), ttl: '1m', l2: env.store(), now: time.clock() })
    await a.getMany(['1', '2', '3'])
    time.advance(50_000)
    await b.set('1', { ...product('1'), name: 'newer' })
    load.mockClear()
    loadMany.mockClear()

    expect(await a.refreshAhead(30_000)).toEqual({ refreshed: 3, failed: 0 })
    expect(loadMany).not.toHaveBeenCalled()
    expect(load.mock.calls.map(([id]) => id).sort()).toEqual(['2', '3'])
    time.advance(30_000)
    expect(await a.lookup('1')).toMatchObject({ value: { name: 'newer' }, outcome: Outcome.Hit, tier: Tier.L1 })
    expect(await a.lookup('3')).toMatchObject({ outcome: Outcome.Hit, tier: Tier.L1 })
  })
})

describe('refresh ahead over a shared tier, when the horizon (the ping interval) outruns the ttl', () => {
  /** Environments of one cache on one Redis, each with its own clock; loads counted by key, each answering `id@round`. */
  const sharedCache = (options: { readonly jitter?: number; readonly loadMs?: number } = {}) => {
    const env = environments()
    const time = linkedTime()
    const name = uniqueName('ahead-round')
    let round = 0
    const loaded: string[] = []
    const load = async (id: string): Promise<string> => {
      loaded.push(id)
      if (options.loadMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.loadMs))
      return `${id}@${round}`
    }
    const environment = () => createCache({ name, load, ttl: '5m', jitter: options.jitter ?? 0, l2: env.store(), now: time.clock() })
    return { environment, time, loaded, nextRound: () => ++round }
  }
  const interval = 6 * 60_000

  test('environments refreshing at once load each key once: each takes the copy the lease holder wrote, though no load can last until the next ping', async () => {
    const { environment, time, loaded, nextRound } = sharedCache({ loadMs: 20 })
    const caches = [environment(), environment(), environment()]
    const ids = Array.from({ length: 12 }, (_, index) => `p${index}`)
    for (const cache of caches) await cache.getMany(ids)
    time.advance(4 * 60_000)
    loaded.length = 0
    nextRound()

    const reports = await Promise.all(caches.map((cache) => cache.refreshAhead(interval, { roundMs: 10_000 })))

    expect(reports).toEqual(caches.map(() => ({ refreshed: ids.length, failed: 0 })))
    expect(loaded.sort()).toEqual([...ids].sort())
    time.advance(4 * 60_000)
    for (const cache of caches) expect(await cache.lookup('p0')).toEqual({ value: 'p0@1', outcome: Outcome.Hit, tier: Tier.L1 })
  })

  test('a copy another environment loaded within roundMs before this refresh began serves instead of a reload; one loaded earlier does not', async () => {
    const { environment, time, loaded, nextRound } = sharedCache()
    const [pinged, other] = [environment(), environment()]
    await pinged.getMany(['early', 'in-round'])
    time.advance(4 * 60_000)
    nextRound()
    await other.set('early', 'early, set by the other')
    time.advance(2_000)
    await other.set('in-round', 'in-round, set by the other')
    time.advance(9_000)
    loaded.length = 0

    expect(await pinged.refreshAhead(interval, { roundMs: 10_000 })).toEqual({ refreshed: 2, failed: 0 })

    expect(loaded).toEqual(['early'])
    expect(await pinged.lookup('early')).toMatchObject({ value: 'early@1', tier: Tier.L1 })
    expect(await pinged.lookup('in-round')).toMatchObject({ value: 'in-round, set by the other', tier: Tier.L1 })
  })

  test('with jitter, a copy of the round serves however short its draw, while its freshness is the one it was written with', async () => {
    const { environment, time, loaded, nextRound } = sharedCache({ jitter: 0.5 })
    // The longest ttl for the pinged environment's own entry, the shortest for the other's copy.
    const random = jest.spyOn(Math, 'random').mockReturnValue(0)
    const [pinged, other] = [environment(), environment()]
    await pinged.get('k')
    time.advance(4 * 60_000)
    nextRound()
    random.mockReturnValue(0.999)
    await other.set('k', 'k, set by the other')
    time.advance(1_000)
    loaded.length = 0

    expect(await pinged.refreshAhead(interval, { roundMs: 10_000 })).toEqual({ refreshed: 1, failed: 0 })

    expect(loaded).toEqual([])
    // The copy's ttl is 5m shortened by 49.95 %: fresh for 150.15 s from its write, 1 s before this refresh.
    time.advance(148_000)
    expect(await pinged.lookup('k')).toEqual({ value: 'k, set by the other', outcome: Outcome.Hit, tier: Tier.L1 })
    time.advance(2_000)
    expect(await pinged.lookup('k')).toEqual({ value: 'k@1', outcome: Outcome.Miss, tier: Tier.Source })
  })
})
