import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { createCache, createScope, Outcome, Tier } from '../../src/index.js'
import { redisStore } from '../../entrypoints/redis.js'
import type { Cache, Duration, L2Store } from '../../src/index.js'
import { startRedis, startTcpProxy, uniqueName, type RedisHandle } from '../harness/index.js'
import { manualClock } from '../support/clock.js'
import { flushPromises } from '../support/deferred.js'
import { within } from '../support/within.js'

/**
 * The stores' L2 timeout: far past any round trip to a running server on a busy machine, so that an
 * operation times out only because the test stopped the server or silenced the network. A warm-up or
 * a probe that met it would count toward the breaker, and open it before the outage the test makes.
 */
const timeoutMs = 1_000

describe('a private redis-server that stalls, dies and comes back', () => {
  let redis: RedisHandle
  const stores: { close: () => Promise<void> }[] = []

  beforeAll(async () => {
    redis = await startRedis()
  })

  afterEach(async () => {
    if (redis.paused) redis.resume()
    await Promise.all(stores.splice(0).map((store) => store.close()))
  })

  afterAll(async () => {
    await redis.stop()
  })

  const storeFor = (breaker: { failures: number; coolDown: Duration }, versionCheck: Duration = '1h') => {
    const store = redisStore({ url: redis.url, timeout: `${timeoutMs}ms`, breaker, versionCheck })
    stores.push(store)
    return store
  }

  test('close() on a stalled server gives up on QUIT after the timeout and drops the connection, rather than hanging', async () => {
    const store = redisStore({ url: redis.url, timeout: `${timeoutMs}ms` })
    const cache = createCache({ name: 'closing', load: () => 'v', ttl: '1m', l2: store })
    await cache.get('k')
    redis.pause()
    // The server is resumed only after the test: a close() that waited for QUIT's answer would still be waiting.
    await within(store.close(), 'close() never ended: it waits for the stalled server to answer QUIT')
  })

  test('a connection that dies without a word (failover, lost NAT mapping) is replaced when the circuit opens: the next probe closes it', async () => {
    const target = new URL(redis.url)
    const proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port) } })
    try {
      const store = redisStore({ url: proxy.url('redis'), timeout: `${timeoutMs}ms`, breaker: { failures: 1, coolDown: '200ms' }, versionCheck: '1h' })
      stores.push(store)
      const cache = createCache({ name: 'silent-socket', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store })
      expect(await cache.lookup('warm-up')).toMatchObject({ tier: Tier.Source })
      proxy.silenceOpenConnections()
      const dead = createScope()
      expect(await cache.get('a', { scope: dead })).toBe('value of a')
      expect(dead.countersFor('silent-socket')).toMatchObject({ l2Errors: 1 })
      expect(cache.stats().l2Circuit).toBe('open')
      await sleep(250)
      // The probe goes out on a new connection, which works.
      expect(await cache.lookup('warm-up')).toMatchObject({ tier: Tier.L1 })
      expect(await cache.lookup('b')).toMatchObject({ tier: Tier.Source })
      expect(cache.stats().l2Circuit).toBe('closed')
    } finally {
      await proxy.close()
    }
  })

  test('a new connection whose handshake is lost the same way (made during the outage) is replaced too: the circuit closes once the network is back', async () => {
    const target = new URL(redis.url)
    const proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port) } })
    try {
      const store = redisStore({ url: proxy.url('redis'), timeout: `${timeoutMs}ms`, connectTimeout: '300ms', breaker: { failures: 1, coolDown: '200ms' }, versionCheck: '1h' })
      stores.push(store)
      const cache = createCache({ name: 'silent-handshake', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store })
      expect(await cache.lookup('warm-up')).toMatchObject({ tier: Tier.Source })
      proxy.setBlackhole(true)
      expect(await cache.get('a')).toBe('value of a')
      expect(cache.stats().l2Circuit).toBe('open')
      // The connection is replaced; the new one is accepted, but its ready check is held, then lost with it:
      // unanswered for longer than the connect timeout, which ioredis stops once the socket connects.
      await sleep(400)
      proxy.silenceOpenConnections()
      proxy.setBlackhole(false)
      for (let attempt = 0; attempt < 10 && cache.stats().l2Circuit !== 'closed'; attempt++) {
        await sleep(250)
        expect(await cache.get(`probe-${attempt}`)).toBe(`value of probe-${attempt}`)
      }
      expect(cache.stats().l2Circuit).toBe('closed')
    } finally {
      await proxy.close()
    }
  })

  test('a namespace version left in doubt (a clear() that met the timeout) is read again at the next call the breaker lets through, not a versionCheck later: L2 is back with Redis', async () => {
    const name = 'version-in-doubt'
    const cache = createCache({ name, load: (key: string) => `value of ${key}`, ttl: '1m', l2: storeFor({ failures: 1, coolDown: '200ms' }, '1h') })
    expect(await cache.lookup('warm-up')).toMatchObject({ tier: Tier.Source })
    redis.pause()
    const outage = createScope()
    await cache.clear({ scope: outage })
    expect(await cache.get('a', { scope: outage })).toBe('value of a')
    expect(outage.countersFor(name)).toMatchObject({ l2Errors: 1, loads: 1 })
    expect(cache.stats().l2Circuit).toBe('open')
    redis.resume()
    await sleep(250)
    const back = createScope()
    expect(await cache.get('b', { scope: back })).toBe('value of b')
    // The probe read the version; the value was then looked for in L2, and written back there.
    expect(back.countersFor(name)).toMatchObject({ l2Errors: 0, l2Misses: 1, loads: 1 })
    expect(cache.stats().l2Circuit).toBe('closed')
    const otherEnvironment = createCache({ name, load: (key: string) => `reloaded ${key}`, ttl: '1m', l2: storeFor({ failures: 1, coolDown: '200ms' }, '1h') })
    expect(await otherEnvironment.lookup('b')).toMatchObject({ tier: Tier.L2, value: 'value of b' })
  })

  test.each([
    ['the namespace version known', '1h', 0],
    // The version check is an L2 read of its own: a get that finds it due must not pay a second timeout for its value read.
    ['the namespace version due for a check on every invocation', '5s', 6_000],
  ] as const)('stopped (SIGSTOP), %s: each invocation meets at most one L2 timeout until the breaker opens, then none; none fails, no miss is counted for a read not made', async (_case, versionCheck, betweenMs) => {
    const clock = manualClock()
    const name = `stalled-${versionCheck}`
    const cache = createCache({ name, load: (key: string) => `value of ${key}`, ttl: '1m', now: clock.now, l2: storeFor({ failures: 3, coolDown: '1h' }, versionCheck) })
    expect(await cache.lookup('warm-up')).toMatchObject({ outcome: Outcome.Miss, tier: Tier.Source })
    redis.pause()
    for (const key of ['a', 'b', 'c']) {
      clock.advance(betweenMs)
      const scope = createScope()
      expect(await cache.get(key, { scope })).toBe(`value of ${key}`)
      const counters = scope.countersFor(name)
      // One operation reached the store and timed out; whatever would follow (the value read, the lease,
      // the write-back) was never tried.
      expect(counters).toMatchObject({ l2Operations: 1, l2Errors: 1, l2Misses: 0, loads: 1 })
      // It ended at its timeout, the server being stopped, not at once: the one timeout was met.
      expect(counters.l2TimeMs).toBeGreaterThanOrEqual(timeoutMs - 5)
    }
    expect(cache.stats().l2Circuit).toBe('open')
    clock.advance(betweenMs)
    const open = createScope()
    expect(await cache.get('d', { scope: open })).toBe('value of d')
    expect(open.countersFor(name)).toMatchObject({ l2Errors: 0, l2Misses: 0, l2TimeMs: 0, loads: 1 })
  })

  test('stopped: an invocation that makes several gets, in several caches on the store, meets one L2 timeout in all; the next invocation tries L2 again', async () => {
    const store = storeFor({ failures: 10, coolDown: '1h' })
    const products = createCache({ name: 'products-stalled', load: (key: string) => `product ${key}`, ttl: '1m', l2: store })
    const prices = createCache({ name: 'prices-stalled', load: (key: string) => `price ${key}`, ttl: '1m', l2: store })
    await products.get('warm-up')
    await prices.get('warm-up')
    redis.pause()
    for (const invocation of [1, 2]) {
      const scope = createScope()
      expect(await products.get(`a${invocation}`, { scope })).toBe(`product a${invocation}`)
      expect(await prices.getMany([`b${invocation}`, `c${invocation}`], { scope })).toEqual([`price b${invocation}`, `price c${invocation}`])
      expect(await products.get(`d${invocation}`, { scope })).toBe(`product d${invocation}`)
      const [first, second] = [scope.countersFor('products-stalled'), scope.countersFor('prices-stalled')]
      // The first get's read timed out; every get after it, in either cache, skipped the store.
      expect(first.l2Operations + second.l2Operations).toBe(1)
      expect(first.l2Errors + second.l2Errors).toBe(1)
      expect(first.l2Misses + second.l2Misses).toBe(0)
      expect(first.loads + second.loads).toBe(4)
    }
    expect(products.stats().l2Circuit).toBe('closed')
  })

  test.each([
    ['stopped (SIGSTOP)', false],
    // Stopped first, so that no lease is answered before it dies: its connection then closes unanswered.
    ['killed (SIGKILL)', true],
  ])('%s mid-batch, its read answered and its leases not: getMany without loadMany answers from the source, meets one L2 error, not one per key, and counts one failure toward the breaker; the invocation then skips the store', async (how, killed) => {
    const store = storeFor({ failures: 2, coolDown: '1h' })
    const cache = createCache({ name: killed ? 'killed-mid-batch' : 'stopped-mid-batch', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store })
    await cache.get('warm-up')
    let dying: Promise<void> | undefined
    const acquireLease = store.acquireLease.bind(store)
    jest.spyOn(store, 'acquireLease').mockImplementation((...request) => {
      if (!redis.paused && dying === undefined) {
        redis.pause()
        if (killed) dying = redis.kill()
      }
      return acquireLease(...request)
    })
    try {
      const scope = createScope()
      expect(await within(cache.getMany(['a', 'b', 'c'], { scope }), `getMany never answered with Redis ${how}`)).toEqual(['value of a', 'value of b', 'value of c'])
      expect(await cache.get('d', { scope })).toBe('value of d')
      // The read, then the leases' one operation, which failed; nothing after it reached the store.
      expect(scope.countersFor(cache.name)).toMatchObject({ l2Misses: 3, l2Errors: 1, l2Operations: 2, loads: 4 })
      expect(cache.stats().l2Circuit).toBe('closed')
    } finally {
      if (dying !== undefined) {
        await dying
        await redis.start()
      }
    }
  })

  test('stopped: set, delete and clear() in an invocation that already met the timeout skip the store too; the invocation meets one L2 timeout in all', async () => {
    const cache = createCache({ name: 'writes-stalled', load: (key: string) => `value of ${key}`, ttl: '1m', l2: storeFor({ failures: 10, coolDown: '1h' }) })
    await cache.get('warm-up')
    redis.pause()
    const scope = createScope()
    expect(await cache.get('a', { scope })).toBe('value of a')
    await cache.set('b', 'set value', { scope })
    await cache.delete('b', { scope })
    await cache.clear({ scope })
    // The get's read timed out; the set, the delete and the move of the namespace version never reached the store.
    expect(scope.countersFor('writes-stalled')).toMatchObject({ l2Operations: 1, l2Errors: 1 })
  })

  test('reconnecting to a stalled server: the operations of many concurrent invocations share one wait for the connection, not a listener each (no MaxListenersExceededWarning)', async () => {
    // A client of ours, to count its listeners; the store waits for any connection the same way.
    const client = new Redis(redis.url, { disconnectTimeout: 100 })
    client.on('error', () => undefined)
    const cache = createCache({ name: 'reconnecting', load: (key: string) => `value of ${key}`, ttl: '1m', l2: redisStore({ client, timeout: `${timeoutMs}ms`, breaker: { failures: 100, coolDown: '1h' }, versionCheck: '1h' }) })
    await cache.get('warm-up')
    redis.pause()
    client.disconnect(true)
    // The new connection is accepted by the stopped server's backlog; its handshake is never answered.
    for (let attempt = 0; attempt < 100 && client.status !== 'connect'; attempt++) await sleep(10)
    expect(client.status).toBe('connect')
    const [readyBefore, errorBefore] = [client.listenerCount('ready'), client.listenerCount('error')]
    try {
      const invocations = Array.from({ length: 20 }, (_, index) => cache.get(`key ${index}`, { scope: createScope() }))
      await flushPromises()
      expect(client.listenerCount('ready') - readyBefore).toBeLessThanOrEqual(1)
      expect(client.listenerCount('error') - errorBefore).toBeLessThanOrEqual(1)
      expect(await Promise.all(invocations)).toEqual(Array.from({ length: 20 }, (_, index) => `value of key ${index}`))
    } finally {
      redis.resume()
      client.disconnect()
    }
  })

  test('killed (SIGKILL), then restarted: invocations go on without L2, and a half-open probe brings it back', async () => {
    const store = storeFor({ failures: 2, coolDown: '200ms' })
    const writer = createCache({ name: 'killed', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store })
    await writer.get('warm-up')
    await redis.kill()
    for (const key of ['a', 'b']) expect(await writer.get(key)).toBe(`value of ${key}`)
    expect(writer.stats().l2Circuit).toBe('open')

    await redis.start()
    await sleep(250)
    expect(writer.stats().l2Circuit).toBe('half-open')
    // ioredis reconnects on its own backoff: probes may fail until it has, each reopening the circuit for the cool-down.
    for (let attempt = 0; attempt < 20 && writer.stats().l2Circuit !== 'closed'; attempt++) {
      expect(await writer.get(`probe-${attempt}`)).toBe(`value of probe-${attempt}`)
      if (writer.stats().l2Circuit !== 'closed') await sleep(250)
    }
    expect(writer.stats().l2Circuit).toBe('closed')

    const reader = createCache({ name: 'killed', load: () => 'not from L2', ttl: '1m', l2: storeFor({ failures: 2, coolDown: '200ms' }) })
    await writer.set('after-recovery', 'shared again')
    expect(await reader.lookup('after-recovery')).toMatchObject({ value: 'shared again', tier: Tier.L2 })
  })
})

/**
 * After a failover, invocations go on, each a miss of its own, and none fails; once one meets no L2
 * error its value was written, and another environment (on `reader`, the new primary) reads it from L2.
 */
const expectWritesReachNewPrimary = async (cache: Cache<string>, reader: L2Store): Promise<void> => {
  let written: string | undefined
  for (let invocation = 0; invocation < 40 && written === undefined; invocation++) {
    const scope = createScope()
    const key = `after-${invocation}`
    expect(await cache.get(key, { scope })).toBe(`value of ${key}`)
    if (scope.countersFor(cache.name).l2Errors === 0) written = key
    else await sleep(50)
  }
  expect(written).toBeDefined()
  const elsewhere = createCache({ name: cache.name, load: () => 'loaded again', ttl: '1m', l2: reader })
  expect(await elsewhere.lookup(written ?? '')).toMatchObject({ value: `value of ${written}`, tier: Tier.L2 })
}

describe('a failover: the old primary, now a replica, answers every write READONLY', () => {
  let oldPrimary: RedisHandle
  let newPrimary: RedisHandle
  beforeAll(async () => {
    ;[oldPrimary, newPrimary] = await Promise.all([startRedis(), startRedis()])
  })
  afterAll(async () => {
    await Promise.all([oldPrimary.stop(), newPrimary.stop()])
  })

  const addressOf = (redis: RedisHandle) => ({ host: redis.host, port: redis.port })

  test('the connection is replaced: writes reach the new primary, which the endpoint names now', async () => {
    const endpoint = await startTcpProxy({ target: addressOf(oldPrimary) })
    const admin = new Redis(oldPrimary.url, { disconnectTimeout: 100 })
    const writer = redisStore({ url: endpoint.url('redis'), timeout: `${timeoutMs}ms`, breaker: { failures: 3, coolDown: '50ms' }, versionCheck: '1h' })
    const reader = redisStore({ url: newPrimary.url, timeout: `${timeoutMs}ms`, versionCheck: '1h' })
    try {
      const cache = createCache({ name: 'failover', load: (key: string) => `value of ${key}`, ttl: '1m', l2: writer })
      const before = createScope()
      expect(await cache.get('before', { scope: before })).toBe('value of before')
      expect(before.countersFor('failover').l2Errors).toBe(0)
      // The failover: the old primary follows the new one, and the endpoint's DNS names the new one.
      await admin.call('REPLICAOF', newPrimary.host, String(newPrimary.port))
      endpoint.setTarget(addressOf(newPrimary))
      await expectWritesReachNewPrimary(cache, reader)
    } finally {
      admin.disconnect()
      await Promise.all([writer.close(), reader.close()])
      await endpoint.close()
    }
  })

  /** Once `replica` has the primary's data set: its link to it is up. */
  const replicating = async (replica: Redis): Promise<void> => {
    for (let attempt = 0; attempt < 100 && !(await replica.info('replication')).includes('master_link_status:up'); attempt++) await sleep(50)
    expect(await replica.info('replication')).toContain('master_link_status:up')
  }

  test('a lease taken on the old primary and given back after the failover: the release, refused READONLY, has the connection replaced as a write does, and the lease is given back on the new primary', async () => {
    await Promise.all([oldPrimary.restart(), newPrimary.restart()])
    const endpoint = await startTcpProxy({ target: addressOf(oldPrimary) })
    const oldAdmin = new Redis(oldPrimary.url, { disconnectTimeout: 100 })
    const newAdmin = new Redis(newPrimary.url, { disconnectTimeout: 100 })
    const prefix = `${uniqueName('failover-lease')}:`
    const holder = redisStore({ url: endpoint.url('redis'), prefix, timeout: `${timeoutMs}ms`, lease: { ttl: '1m', wait: '30s' }, versionCheck: '1h' })
    const elsewhere = redisStore({ url: newPrimary.url, prefix, timeout: `${timeoutMs}ms`, versionCheck: '1h' })
    const signal = new AbortController().signal
    const leaseKey = `${prefix}{k}:lease`
    try {
      // The new primary starts as the old one's replica: the lease reaches it as replication carries it.
      // Synced through a file: at once, where a diskless sync first waits 5 s for other replicas to share it.
      await Promise.all([oldAdmin, newAdmin].map((admin) => admin.config('SET', 'repl-diskless-sync', 'no')))
      await newAdmin.call('REPLICAOF', oldPrimary.host, String(oldPrimary.port))
      await replicating(newAdmin)
      expect(await holder.acquireLease('k', 'held', 60_000, signal)).toMatchObject({ acquired: true })
      for (let attempt = 0; attempt < 250 && (await newAdmin.get(leaseKey)) === null; attempt++) await sleep(20)
      expect(await newAdmin.get(leaseKey)).toBe('held')
      // The failover: the replica is promoted, the old primary follows it, and the endpoint names the new one.
      await newAdmin.call('REPLICAOF', 'NO', 'ONE')
      await oldAdmin.call('REPLICAOF', newPrimary.host, String(newPrimary.port))
      await replicating(oldAdmin)
      endpoint.setTarget(addressOf(newPrimary))

      await expect(holder.releaseLease('k', 'held', signal)).rejects.toThrow("READONLY You can't write against a read only replica.")
      for (let attempt = 0; attempt < 250 && (await newAdmin.exists(leaseKey)) === 1; attempt++) await sleep(20)
      expect(await newAdmin.exists(leaseKey)).toBe(0)
      expect(await elsewhere.acquireLease('k', 'next', 60_000, signal)).toMatchObject({ acquired: true })
      // The store's writes go to the new primary now.
      await holder.set('after', Buffer.from('written'), 60_000, signal)
      expect(await newAdmin.exists(`${prefix}{after}`)).toBe(1)
    } finally {
      oldAdmin.disconnect()
      newAdmin.disconnect()
      await Promise.all([holder.close(), elsewhere.close()])
      await endpoint.close()
    }
  })

  test("a client you pass, given reconnectOnError as the README shows, reconnects itself: writes reach the new primary, and the store closed nothing", async () => {
    await Promise.all([oldPrimary.restart(), newPrimary.restart()])
    const endpoint = await startTcpProxy({ target: addressOf(oldPrimary) })
    const admin = new Redis(oldPrimary.url, { disconnectTimeout: 100 })
    const client = new Redis(endpoint.url('redis'), { disconnectTimeout: 100, reconnectOnError: (error) => error.message.startsWith('READONLY') })
    const writer = redisStore({ client, timeout: `${timeoutMs}ms`, breaker: { failures: 3, coolDown: '50ms' }, versionCheck: '1h' })
    const reader = redisStore({ url: newPrimary.url, timeout: `${timeoutMs}ms`, versionCheck: '1h' })
    try {
      const cache = createCache({ name: 'given', load: (key: string) => `value of ${key}`, ttl: '1m', l2: writer, logger: { warn: () => undefined } })
      expect(await cache.get('before')).toBe('value of before')
      await admin.call('REPLICAOF', newPrimary.host, String(newPrimary.port))
      endpoint.setTarget(addressOf(newPrimary))
      await expectWritesReachNewPrimary(cache, reader)
      await writer.close()
      expect(client.status).toBe('ready')
    } finally {
      admin.disconnect()
      client.disconnect()
      await Promise.all([writer.close(), reader.close()])
      await endpoint.close()
    }
  })
})
