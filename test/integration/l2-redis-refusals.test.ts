import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { createCache, createScope, Tier } from '../../src/index.js'
import { redisStore } from '../../entrypoints/redis.js'
import { startRedis, uniqueName, type RedisHandle } from '../harness/index.js'
import { deferred } from '../support/deferred.js'
import { within } from '../support/within.js'
import { closeEnvironments, environments, leaseAttempts, rawRedis, recordingLogger } from './l2-support.js'

/** The stores' back-off for a refused kind of operation (their breaker's cool-down). */
const coolDownMs = 300

afterEach(async () => {
  jest.restoreAllMocks()
  await closeEnvironments()
})

/** How many times Redis ran `command` since it started. */
const callsOf = async (admin: Redis, command: string): Promise<number> => {
  const stats = await admin.info('commandstats')
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0)
}

/** A way Redis comes to refuse writes while it still reads, and the way back. */
interface WritesRefused {
  readonly reply: string
  /** What the first warning says to do, after the server's address. */
  readonly advice: string
  refuse(redis: RedisHandle, admin: Redis): Promise<void>
  recover(redis: RedisHandle, admin: Redis): Promise<void>
}

const outOfMemory: WritesRefused = {
  reply: "OOM command not allowed when used memory > 'maxmemory'",
  advice: 'is out of memory and evicts nothing (OOM: used memory reached maxmemory under maxmemory-policy noeviction): give it more memory, or a policy that evicts, such as volatile-lru',
  // A megabyte of other data, and maxmemory just below what Redis then uses: it refuses writes under `noeviction`.
  async refuse(_redis, admin) {
    await admin.config('SET', 'maxmemory', '0')
    await admin.set('ballast', Buffer.alloc(1024 * 1024))
    const used = Number(/^used_memory:(\d+)/m.exec(await admin.info('memory'))?.[1])
    await admin.config('SET', 'maxmemory-policy', 'noeviction')
    await admin.config('SET', 'maxmemory', String(used - 64 * 1024))
  },
  // Memory freed: maxmemory stays as it is.
  async recover(_redis, admin) {
    await admin.del('ballast')
  },
}

const unableToPersist: WritesRefused = {
  reply: 'MISCONF Redis is configured to save RDB snapshots',
  advice: 'cannot save its RDB snapshot, and refuses writes until one succeeds (MISCONF): its log says why',
  // A snapshot that cannot be renamed into place (a directory holds its name) fails, and with save points set Redis then refuses writes.
  async refuse(redis, admin) {
    await mkdir(join(redis.dir, 'dump.rdb', 'in-the-way'), { recursive: true })
    await admin.config('SET', 'save', '3600 1')
    await admin.bgsave()
    for (let attempt = 0; attempt < 100 && !(await admin.info('persistence')).includes('rdb_last_bgsave_status:err'); attempt++) await sleep(20)
  },
  async recover(redis, admin) {
    await admin.config('SET', 'save', '')
    await rm(join(redis.dir, 'dump.rdb'), { recursive: true })
  },
}

describe('a Redis that refuses writes while it still reads', () => {
  let redis: RedisHandle
  let admin: Redis
  beforeAll(async () => {
    redis = await startRedis()
    admin = rawRedis(redis.url)
  })
  afterAll(async () => {
    admin.disconnect()
    await redis.stop()
  })

  test.each([
    ['out of memory (maxmemory reached under noeviction)', outOfMemory],
    ['unable to persist (MISCONF: a snapshot failed)', unableToPersist],
  ] as const)(
    '%s: writes, leases and clear() cost an environment one refused round trip each, then are skipped (values counted in l2Skipped) while reads go on; none fails, the circuit stays closed, one warning per kind, the first saying what to do; all is back once Redis takes writes again',
    async (_case, condition) => {
      const env = environments({ url: redis.url, breaker: { failures: 3, coolDown: `${coolDownMs}ms` }, versionCheck: '1h' })
      const logger = recordingLogger()
      const products = createCache({ name: 'products', load: (id: string) => `product ${id}`, ttl: '1m', l2: env.store(), logger })
      expect(await products.get('before')).toBe('product before')
      await condition.refuse(redis, admin)
      const evalCallsBefore = await callsOf(admin, 'eval')
      try {
        const first = createScope()
        expect(await products.get('a', { scope: first })).toBe('product a')
        expect(await products.get('b', { scope: first })).toBe('product b')
        // Refused once each, taking a lease and writing the value; the second get still read L2.
        // b's value was not sent: it stays in memory only, as one too large for the store would.
        expect(first.countersFor('products')).toMatchObject({ l2Errors: 2, l2Misses: 2, loads: 2, l2Skipped: 1 })
        expect(logger.messages).toEqual([
          expect.stringContaining(`refuses to take leases ("${condition.reply}`),
          expect.stringContaining(`refuses writes ("${condition.reply}`),
        ])
        const advice = `Redis at ${redis.host}:${redis.port} ${condition.advice}`
        expect(logger.messages.filter((message) => message.includes(advice))).toEqual([logger.messages[0]])

        const next = createScope()
        expect(await products.get('c', { scope: next })).toBe('product c')
        // clear() cannot move the namespace version on either (INCR is refused once, as its own kind), and the invocation keeps reading L2.
        await products.clear({ scope: next })
        expect(await products.get('c', { scope: next })).toBe('product c')
        await products.clear({ scope: next })
        // The reads went to Redis, and one INCR; no lease, no write: both values counted as kept out of L2.
        expect(next.countersFor('products')).toMatchObject({ l2Errors: 1, l2Misses: 2, l2Operations: 3, l2Skipped: 2, loads: 2 })
        expect(products.stats().l2Circuit).toBe('closed')
        expect(logger.messages).toHaveLength(3)
        expect(logger.messages[2]).toContain(`refuses to move the namespace version on ("${condition.reply}`)
        // A refused lease took nothing, so nothing was given back in the background either.
        expect(await callsOf(admin, 'eval')).toBe(evalCallsBefore)
        // Reads work: another environment is served what was written before.
        const other = createCache({ name: 'products', load: () => 'not from L2', ttl: '1m', l2: env.store() })
        expect(await other.lookup('before')).toMatchObject({ value: 'product before', tier: Tier.L2 })
      } finally {
        await condition.recover(redis, admin)
      }

      await sleep(coolDownMs + 50)
      const back = createScope()
      expect(await products.get('d', { scope: back })).toBe('product d')
      // Read, lease, write, lease given back: each answered.
      expect(back.countersFor('products')).toMatchObject({ l2Errors: 0, l2Misses: 1, l2Operations: 4 })
      const elsewhere = createCache({ name: 'products', load: () => 'not from L2', ttl: '1m', l2: env.store() })
      expect(await elsewhere.lookup('d')).toMatchObject({ value: 'product d', tier: Tier.L2 })
      expect(logger.messages).toHaveLength(3)
    },
  )

  test('out of memory: a set() Redis cannot store removes the value it would replace, so other environments load rather than serve the old one', async () => {
    const env = environments({ url: redis.url, breaker: { failures: 3, coolDown: `${coolDownMs}ms` }, versionCheck: '1h' })
    const writer = createCache({ name: 'prices', load: () => 'old price', ttl: '1h', l2: env.store(), logger: recordingLogger() })
    expect(await writer.get('sku-1')).toBe('old price')
    await outOfMemory.refuse(redis, admin)
    try {
      await writer.set('sku-1', 'new price')
      expect(await writer.get('sku-1')).toBe('new price')
      const reader = createCache({ name: 'prices', load: () => 'price from the source', ttl: '1h', l2: env.store(), logger: recordingLogger() })
      expect(await reader.lookup('sku-1')).toMatchObject({ value: 'price from the source', tier: Tier.Source })
      expect(await admin.exists(`${env.prefix}{prices:0:k:sku-1}`)).toBe(0)
    } finally {
      await outOfMemory.recover(redis, admin)
    }
  })
})

describe('a Redis that runs no scripts for this client: leases cannot be given back', () => {
  let redis: RedisHandle
  let admin: Redis
  beforeAll(async () => {
    // The default user can do all (the harness's readiness probe, the test's admin); the application's user may not EVAL.
    redis = await startRedis({ args: ['--user', 'app', 'on', '>s3cret', '~*', '&*', '+@all', '-eval', '-evalsha'] })
    admin = rawRedis(redis.url)
  })
  beforeEach(async () => {
    // A test may grant EVAL back.
    await admin.call('ACL', 'SETUSER', 'app', '-eval', '-evalsha')
  })
  afterAll(async () => {
    admin.disconnect()
    await redis.stop()
  })

  test('an ACL user without EVAL: once a lease could not be given back none is taken, so no environment waits out lease.wait for a load that wrote nothing; L2 stays in the path; leases are back once EVAL is granted', async () => {
    const env = environments({
      url: redis.url.replace('redis://', 'redis://app:s3cret@'),
      lease: { ttl: '10s', wait: '3s' },
      breaker: { failures: 3, coolDown: `${coolDownMs}ms` },
      versionCheck: '1h',
    })
    const leaseKey = (name: string, key: string) => `${env.prefix}{${name}:0:k:${key}}:lease`
    const logger = recordingLogger()
    const store = env.store()
    const items = createCache({
      name: 'items',
      load: (key: string) => {
        if (key.startsWith('gone')) throw new Error('the source is down')
        return `item ${key}`
      },
      ttl: '1m',
      l2: store,
      logger,
    })

    const first = createScope()
    expect(await items.get('x', { scope: first })).toBe('item x')
    expect(await items.get('y', { scope: first })).toBe('item y')
    // x's lease could not be given back; y was still read from L2, then loaded without a lease.
    expect(first.countersFor('items')).toMatchObject({ l2Errors: 1, l2Misses: 2, loads: 2 })
    expect(logger.messages).toEqual([expect.stringContaining(`refuses to give leases back ("NOPERM`)])
    expect(await admin.exists(leaseKey('items', 'y'))).toBe(0)

    await expect(items.get('gone')).rejects.toThrow('the source is down')
    expect(await admin.exists(leaseKey('items', 'gone'))).toBe(0)
    const otherStore = env.store()
    const otherEnvironment = createCache({ name: 'items', load: (key: string) => `item ${key}, loaded elsewhere`, ttl: '1m', l2: otherStore, logger: recordingLogger() })
    const attemptsOfOther = leaseAttempts(otherStore)
    expect(await otherEnvironment.get('gone')).toBe('item gone, loaded elsewhere')
    // Taken at its first attempt: nobody held it.
    expect(attemptsOfOther).toEqual([true])
    expect(items.stats().l2Circuit).toBe('closed')
    expect(logger.messages).toHaveLength(1)

    await admin.call('ACL', 'SETUSER', 'app', '+eval', '+evalsha')
    await sleep(coolDownMs + 50)
    // A cache on the same store (one environment): its miss takes the lease again, and gives it back once written.
    const held = deferred<string>()
    const slow = createCache({ name: 'slow', load: () => held.promise, ttl: '1m', l2: store })
    const scope = createScope()
    const loading = slow.get('z', { scope })
    for (let attempt = 0; attempt < 100 && (await admin.exists(leaseKey('slow', 'z'))) === 0; attempt++) await sleep(10)
    expect(await admin.exists(leaseKey('slow', 'z'))).toBe(1)
    held.resolve('z loaded')
    expect(await loading).toBe('z loaded')
    expect(await admin.exists(leaseKey('slow', 'z'))).toBe(0)
    expect(scope.countersFor('slow')).toMatchObject({ l2Errors: 0 })
  })

  test('the lease a store takes before it learns EVAL is refused is given back all the same (GET and PTTL, then DEL): no other environment waits on it', async () => {
    const env = environments({
      url: redis.url.replace('redis://', 'redis://app:s3cret@'),
      // Longer than the test may run: a lease left behind would have the other environment wait past its end.
      lease: { ttl: '1m', wait: '30s' },
      breaker: { failures: 3, coolDown: '1h' },
      versionCheck: '1h',
    })
    const leaseKey = (name: string, key: string) => `${env.prefix}{${name}:0:k:${key}}:lease`
    const logger = recordingLogger()
    const down = createCache({ name: 'stock', load: () => Promise.reject(new Error('the source is down')), ttl: '1m', timeout: '1m', l2: env.store(), logger })
    await expect(down.get('sku-1')).rejects.toThrow('the source is down')
    expect(logger.messages).toEqual([expect.stringContaining(`refuses to give leases back ("NOPERM`)])
    expect(await admin.exists(leaseKey('stock', 'sku-1'))).toBe(0)

    // Another environment, which does not know either: its miss takes the lease at once, loads, and gives its lease back too.
    const elsewhere = createCache({ name: 'stock', load: (key: string) => `stock of ${key}`, ttl: '1m', timeout: '1m', l2: env.store(), logger: recordingLogger() })
    const scope = createScope()
    expect(await elsewhere.get('sku-1', { scope })).toBe('stock of sku-1')
    expect(scope.countersFor('stock')).toMatchObject({ loads: 1, l2Misses: 1 })
    expect(await admin.exists(leaseKey('stock', 'sku-1'))).toBe(0)
    expect(await admin.exists(`${env.prefix}{stock:0:k:sku-1}`)).toBe(1)
  })

  test('without the script, a lease is removed only while it holds the token with more than the timeout to go: another holder\'s, or one about to expire, is left', async () => {
    const env = environments({ url: redis.url.replace('redis://', 'redis://app:s3cret@'), timeout: '5s' })
    const store = env.store()
    const signal = new AbortController().signal
    const leaseKey = (key: string) => `${env.prefix}{${key}}:lease`
    await admin.set(leaseKey('theirs'), 'their-token', 'PX', 60_000)
    await admin.set(leaseKey('expiring'), 'my-token', 'PX', 4_000)
    await admin.set(leaseKey('mine'), 'my-token', 'PX', 60_000)
    for (const key of ['theirs', 'expiring', 'mine', 'none']) {
      // Rejected with the refusal all the same: the engine then takes no lease it could only give back this way.
      await expect(store.releaseLease(key, 'my-token', signal)).rejects.toThrow("NOPERM this user has no permissions to run the 'eval' command")
    }
    expect(await admin.get(leaseKey('theirs'))).toBe('their-token')
    expect(await admin.get(leaseKey('expiring'))).toBe('my-token')
    expect(await admin.exists(leaseKey('mine'))).toBe(0)
  })

  test('EVAL renamed away (ERR unknown command): the same, and the warning names the command and what became of it, not the script, key and token Redis quotes after it', async () => {
    const renamed = await startRedis({ args: ['--rename-command', 'EVAL', ''] })
    const renamedAdmin = rawRedis(renamed.url)
    try {
      const env = environments({ url: renamed.url, breaker: { failures: 3, coolDown: '1h' }, versionCheck: '1h' })
      const logger = recordingLogger()
      const cache = createCache({ name: 'profiles', load: (key: string) => `profile ${key}`, ttl: '1m', l2: env.store(), logger })
      expect(await cache.get('user-8d2f')).toBe('profile user-8d2f')
      expect(logger.messages).toEqual([
        expect.stringContaining(
          `refuses to give leases back ("ERR unknown command 'eval'"): no lease is taken, and misses load at once, and it is asked again every 3600000 ms; Redis at ${renamed.host}:${renamed.port} has no EVAL command (ERR unknown command: renamed away or disabled, by rename-command say): the store runs GET, SET, DEL, PTTL, INCR, EVAL and INFO (warned once)`,
        ),
      ])
      // The lease of that first miss is given back without the script.
      expect(await renamedAdmin.exists(`${env.prefix}{profiles:0:k:user-8d2f}:lease`)).toBe(0)
      expect(logger.messages[0]).not.toContain('user-8d2f')
      const next = createScope()
      expect(await cache.get('user-51ac', { scope: next })).toBe('profile user-51ac')
      expect(next.countersFor('profiles')).toMatchObject({ l2Errors: 0, l2Misses: 1, l2Operations: 2 })
    } finally {
      renamedAdmin.disconnect()
      await closeEnvironments()
      await renamed.stop()
    }
  })
})

describe('a Redis that runs no INCR for this client: the namespace version cannot move on', () => {
  let redis: RedisHandle
  beforeAll(async () => {
    redis = await startRedis({ args: ['--user', 'app', 'on', '>s3cret', '~*', '&*', '+@all', '-incr'] })
  })
  afterAll(async () => {
    await redis.stop()
  })

  test('clear() is refused as a kind of its own: values are still written, and read by another environment', async () => {
    const env = environments({ url: redis.url.replace('redis://', 'redis://app:s3cret@'), breaker: { failures: 3, coolDown: '1h' }, versionCheck: '1h' })
    const logger = recordingLogger()
    const orders = createCache({ name: 'orders', load: (key: string) => `order ${key}`, ttl: '1m', l2: env.store(), logger })
    const scope = createScope()
    await orders.clear({ scope })
    expect(await orders.get('o-1', { scope })).toBe('order o-1')
    expect(scope.countersFor('orders')).toMatchObject({ l2Errors: 1, l2Skipped: 0 })
    expect(logger.messages).toEqual([expect.stringContaining(`refuses to move the namespace version on ("NOPERM this user has no permissions to run the 'incr' command"): clear() empties this environment's memory only`)])
    const elsewhere = createCache({ name: 'orders', load: () => 'not from L2', ttl: '1m', l2: env.store() })
    expect(await elsewhere.lookup('o-1')).toMatchObject({ value: 'order o-1', tier: Tier.L2 })
  })
})

describe('a store pointed at a replica (a reader endpoint): every write answers READONLY', () => {
  let primary: RedisHandle
  let replica: RedisHandle
  let replicaAdmin: Redis
  beforeAll(async () => {
    primary = await startRedis()
    replica = await startRedis({ args: ['--replicaof', primary.host, String(primary.port)] })
    replicaAdmin = rawRedis(replica.url)
    for (let attempt = 0; attempt < 100 && !(await replicaAdmin.info('replication')).includes('master_link_status:up'); attempt++) await sleep(50)
  })
  afterAll(async () => {
    replicaAdmin.disconnect()
    await Promise.all([replica.stop(), primary.stop()])
  })

  /** Writes the replica refused, and connections it was asked for, since it started. */
  const rejectedCalls = async (command: string): Promise<number> => Number(new RegExp(`^cmdstat_${command}:.*rejected_calls=(\\d+)`, 'm').exec(await replicaAdmin.info('commandstats'))?.[1] ?? 0)
  const refusedWrites = (): Promise<number> => rejectedCalls('set')
  const connectionsMade = async (): Promise<number> => Number(/^total_connections_received:(\d+)/m.exec(await replicaAdmin.info('stats'))?.[1])

  test('writes and leases are refused once each, then skipped for the cool-down, without reconnecting or failing anything: the replica keeps serving reads, the circuit stays closed, and the first warning names it', async () => {
    const prefix = `${uniqueName('replica')}:`
    const onPrimary = redisStore({ url: primary.url, prefix, timeout: '500ms' })
    const onReplica = redisStore({ url: replica.url, prefix, timeout: '500ms', versionCheck: '1h', breaker: { failures: 3, coolDown: `${coolDownMs}ms` } })
    try {
      const writer = createCache({ name: 'catalog', load: () => 'written on the primary', ttl: '1m', l2: onPrimary })
      await writer.get('shared')
      for (let attempt = 0; attempt < 100 && (await replicaAdmin.exists(`${prefix}{catalog:0:k:shared}`)) === 0; attempt++) await sleep(20)
      const logger = recordingLogger()
      const reader = createCache({ name: 'catalog', load: (key: string) => `loaded ${key}`, ttl: '1m', l2: onReplica, logger })
      const [writesBefore, connectionsBefore] = [await refusedWrites(), await connectionsMade()]

      const first = createScope()
      expect(await reader.get('a', { scope: first })).toBe('loaded a')
      expect(first.countersFor('catalog')).toMatchObject({ l2Errors: 2, l2Misses: 1, loads: 1 })
      for (let invocation = 0; invocation < 10; invocation++) {
        const scope = createScope()
        expect(await reader.get(`miss-${invocation}`, { scope })).toBe(`loaded miss-${invocation}`)
        expect(scope.countersFor('catalog')).toMatchObject({ l2Errors: 0, l2Misses: 1, l2Operations: 1, l2Skipped: 1 })
      }
      expect(await reader.lookup('shared')).toMatchObject({ value: 'written on the primary', tier: Tier.L2 })
      expect(reader.stats().l2Circuit).toBe('closed')
      // The lease and the write of the first miss; then one connection, made beside the one in use, in case a failover moved the primary.
      expect((await refusedWrites()) - writesBefore).toBe(2)
      expect((await connectionsMade()) - connectionsBefore).toBeLessThanOrEqual(2)
      const replicaAddress = `${replica.host}:${replica.port}`
      expect(logger.messages).toEqual([
        expect.stringContaining(`refuses to take leases ("READONLY You can't write against a read only replica."): misses load at once`),
        expect.stringContaining(`refuses writes ("READONLY You can't write against a read only replica."): values stay in this environment's memory only (counted in l2Skipped)`),
      ])
      // What to fix is told once, by the first warning: a replica refuses every kind of write.
      const advice = `Redis at ${replicaAddress} is a read-only replica: point the store at the primary endpoint, not a reader endpoint`
      expect(logger.messages.filter((message) => message.includes(advice))).toEqual([logger.messages[0]])

      // Past the cool-down, one probe of each kind, refused again: no new warning, and still no failure.
      await sleep(coolDownMs + 50)
      const later = createScope()
      expect(await reader.get('b', { scope: later })).toBe('loaded b')
      expect(later.countersFor('catalog')).toMatchObject({ l2Errors: 2, loads: 1 })
      expect((await refusedWrites()) - writesBefore).toBe(4)
      expect(logger.messages).toHaveLength(2)
      expect(reader.stats().l2Circuit).toBe('closed')
    } finally {
      await Promise.all([onPrimary.close(), onReplica.close()])
    }
  })

  test('a lease found on the replica and given back through it: refused READONLY, then given back once more on the connection made to replace it, which reaches a replica too, and no more', async () => {
    const prefix = `${uniqueName('release')}:`
    const primaryAdmin = rawRedis(primary.url)
    const store = redisStore({ url: replica.url, prefix, timeout: '500ms', lease: { ttl: '1m' } })
    try {
      // Taken on the primary, as a failover leaves it: the replica holds it too.
      const leaseKey = `${prefix}{k}:lease`
      await primaryAdmin.set(leaseKey, 'held', 'PX', 60_000)
      for (let attempt = 0; attempt < 100 && (await replicaAdmin.exists(leaseKey)) === 0; attempt++) await sleep(20)
      const signal = new AbortController().signal
      expect(await store.get('k', signal)).toBeUndefined()
      const releases = jest.spyOn(store, 'releaseLease')
      const connectionsBefore = await connectionsMade()
      await expect(store.releaseLease('k', 'held', signal)).rejects.toThrow('READONLY')
      // Given back again, in the background, once the connection that replaces the first is ready.
      for (let attempt = 0; attempt < 100 && releases.mock.calls.length < 2; attempt++) await sleep(20)
      expect(releases).toHaveBeenCalledTimes(2)
      await expect(within(releases.mock.results[1]?.value as Promise<void>, 'the lease was never given back on the new connection')).rejects.toThrow('READONLY')
      // Time for a third attempt, and a third connection, had the second refusal scheduled one.
      await sleep(200)
      expect(releases).toHaveBeenCalledTimes(2)
      expect((await connectionsMade()) - connectionsBefore).toBeLessThanOrEqual(2)
      expect(await primaryAdmin.get(leaseKey)).toBe('held')
    } finally {
      primaryAdmin.disconnect()
      await store.close()
    }
  })

  test('a client you pass, connected to the replica: never replaced nor closed; each kind of write is refused once, then skipped; one warning says to connect it to the primary and give it reconnectOnError, as the store does not reconnect it', async () => {
    const client = new Redis(replica.url, { disconnectTimeout: 100 })
    await client.ping()
    const store = redisStore({ client, prefix: `${uniqueName('given')}:`, timeout: '500ms', versionCheck: '1h', breaker: { failures: 3, coolDown: '1h' } })
    try {
      const logger = recordingLogger()
      const reader = createCache({ name: 'catalog', load: (key: string) => `loaded ${key}`, ttl: '1m', l2: store, logger })
      const refusedSoFar = async (): Promise<number> => (await rejectedCalls('set')) + (await rejectedCalls('del'))
      const [refusedBefore, connectionsBefore] = [await refusedSoFar(), await connectionsMade()]
      for (let invocation = 0; invocation < 10; invocation++) {
        const scope = createScope()
        expect(await reader.get(`miss-${invocation}`, { scope })).toBe(`loaded miss-${invocation}`)
        await reader.set(`set-${invocation}`, 'set here', { scope })
        await reader.delete(`set-${invocation}`, { scope })
      }
      // A lease, a write and a delete, once each; nothing else went to the replica but reads.
      expect((await refusedSoFar()) - refusedBefore).toBe(3)
      expect(await connectionsMade()).toBe(connectionsBefore)
      expect(reader.stats().l2Circuit).toBe('closed')
      expect(client.status).toBe('ready')
      const advice = `Redis at ${replica.host}:${replica.port}, which the client given to the store is connected to, is a read-only replica: connect that client to the primary endpoint, not a reader endpoint, and give it ioredis's reconnectOnError (error) => error.message.startsWith('READONLY') so that it reconnects when a failover demotes its node (the store never replaces or closes a client you give it)`
      expect(logger.messages).toEqual([
        expect.stringContaining(`refuses to take leases ("READONLY You can't write against a read only replica.")`),
        expect.stringContaining(`refuses writes ("READONLY You can't write against a read only replica.")`),
        expect.stringContaining(`refuses deletes ("READONLY You can't write against a read only replica.")`),
      ])
      // Told once: the first warning says what to fix; the others only what is refused.
      expect(logger.messages.filter((message) => message.includes(advice))).toEqual([logger.messages[0]])
      expect(logger.messages.join('\n')).not.toContain('the store reconnects')
      await store.close()
      expect(client.status).toBe('ready')
    } finally {
      client.disconnect()
    }
  })
})

describe('a Redis that cannot serve the store at all, though it answers', () => {
  /**
   * Invocations of a cache on `store`: each is served by the loader, its failure counted, until the
   * circuit opens; one warning, which never quotes a key.
   */
  const servedWithoutL2 = async (store: ReturnType<typeof redisStore>): Promise<string> => {
    const logger = recordingLogger()
    const accounts = createCache({ name: 'accounts', load: (key: string) => `account ${key}`, ttl: '1m', l2: store, logger })
    let errors = 0
    for (const key of ['acct-3f9a', 'acct-77c1', 'acct-0d4e']) {
      const scope = createScope()
      expect(await accounts.get(key, { scope })).toBe(`account ${key}`)
      errors += scope.countersFor('accounts').l2Errors
    }
    expect(errors).toBe(2)
    expect(accounts.stats().l2Circuit).toBe('open')
    expect(logger.messages).toHaveLength(1)
    expect(logger.messages[0]).not.toContain('acct-')
    return logger.messages[0] ?? ''
  }

  test('GET renamed away (ERR unknown command): reads fail until the circuit opens, and one warning names the command, and what the store runs', async () => {
    const renamed = await startRedis({ args: ['--rename-command', 'GET', ''] })
    const store = redisStore({ url: renamed.url, prefix: `${uniqueName('renamed')}:`, timeout: '500ms', versionCheck: '1h', breaker: { failures: 2, coolDown: '1h' } })
    try {
      expect(await servedWithoutL2(store)).toContain(
        `cache "accounts" cannot use its shared tier: Redis at ${renamed.host}:${renamed.port} has no GET command (ERR unknown command: renamed away or disabled, by rename-command say): the store runs GET, SET, DEL, PTTL, INCR, EVAL and INFO. Until then every L2 operation fails`,
      )
    } finally {
      await store.close()
      await renamed.stop()
    }
  })

  test("busy with another client's script (BUSY) past busy-reply-threshold: every operation fails until the circuit opens, one warning says to end it with SCRIPT KILL; L2 is back once it ends", async () => {
    const redis = await startRedis()
    const [admin, scriptRunner] = [rawRedis(redis.url), rawRedis(redis.url)]
    const store = redisStore({ url: redis.url, prefix: `${uniqueName('busy')}:`, timeout: '500ms', versionCheck: '1h', breaker: { failures: 2, coolDown: `${coolDownMs}ms` } })
    try {
      await Promise.all([admin.ping(), scriptRunner.ping(), store.get('warm-up', new AbortController().signal)])
      await admin.config('SET', 'busy-reply-threshold', '100')
      const running = scriptRunner.eval('while true do end', 0).catch((error: unknown) => error)
      // Past the threshold, Redis answers BUSY to every command but a few (SCRIPT KILL among them).
      let busy = ''
      for (let attempt = 0; attempt < 100 && !busy.startsWith('BUSY'); attempt++) {
        busy = await admin.get('anything').then(String, (error: unknown) => (error instanceof Error ? error.message : String(error)))
        if (!busy.startsWith('BUSY')) await sleep(20)
      }
      expect(busy).toMatch(/^BUSY /)

      expect(await servedWithoutL2(store)).toContain(
        `Redis at ${redis.host}:${redis.port} is running a script or function past its busy-reply-threshold (BUSY), and answers nothing else until it ends: end it with SCRIPT KILL or FUNCTION KILL`,
      )

      await admin.script('KILL')
      expect(String(await running)).toContain('Script killed')
      await sleep(coolDownMs + 50)
      const back = createCache({ name: 'accounts', load: (key: string) => `account ${key}`, ttl: '1m', l2: store })
      const scope = createScope()
      expect(await back.get('acct-3f9a', { scope })).toBe('account acct-3f9a')
      expect(scope.countersFor('accounts')).toMatchObject({ l2Errors: 0, l2Misses: 1 })
      expect(back.stats().l2Circuit).toBe('closed')
    } finally {
      admin.disconnect()
      scriptRunner.disconnect()
      await store.close()
      await redis.stop()
    }
  })
})
