import { Redis } from 'ioredis'
import { redisStore, type L2Store, type RedisStoreOptions } from '../../entrypoints/redis.js'
import { sharedRedisUrl } from '../integration/l2-support.js'
import { uniqueName } from '../harness/index.js'
import { l2StoreContract } from '../support/l2-store-contract.js'

const signal = new AbortController().signal
let raw: Redis
const opened: L2Store[] = []
const storeWith = (options: Omit<RedisStoreOptions, 'url'> = {}): L2Store => {
  const store = redisStore({ url: sharedRedisUrl(), prefix: `${uniqueName('store')}:`, ...options })
  opened.push(store)
  return store
}

beforeAll(() => {
  raw = new Redis(sharedRedisUrl(), { disconnectTimeout: 100 })
})

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()))
  raw.disconnect()
})

describe('redisStore options, checked at construction', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no connection', {}, /option "url" or 'client' or 'cluster': exactly one must say where Redis is; got none/],
    ['an unset REDIS_URL', { url: undefined }, /exactly one must say where Redis is; got none/],
    ['two connections', { url: 'redis://127.0.0.1:1', cluster: { nodes: [{ port: 1 }] } }, /got url and cluster/],
    ['a URL of another scheme', { url: 'http://127.0.0.1:6379' }, /option "url" must be a redis:\/\/ or rediss:\/\/ URL/],
    // ioredis parses the URL as the store makes its connection: its TypeError ("Invalid URL") named no option.
    ['a URL that does not parse', { url: 'redis://cache.internal:port' }, /option "url" must be a redis:\/\/ or rediss:\/\/ URL; got a string that is no URL/],
    ['a URL without a host, which ioredis would take for localhost', { url: 'redis://' }, /option "url" must be a redis:\/\/ or rediss:\/\/ URL; got a URL that names no host/],
    ['a client that is not ioredis', { client: {} }, /option "client" must be an ioredis Redis or Cluster/],
    ['connection options beside a client', { client: new Redis({ lazyConnect: true }), redis: { db: 1 } }, /option "redis" applies to a connection the store makes/],
    ['a prefix with a hash-tag brace', { url: 'redis://127.0.0.1:1', prefix: 'app{1}:' }, /option "prefix" must be a string of up to 64 characters, without lone surrogates or '\{' or '\}'; got "app\{1\}:"/],
    // No UTF-8 form: ioredis would write U+FFFD in its place, and its keys would meet those of every other such prefix.
    ['a prefix with a lone surrogate', { url: 'redis://127.0.0.1:1', prefix: 'shop\udc00:' }, /option "prefix" must be a string of up to 64 characters, without lone surrogates or '\{' or '\}'; got "shop\\udc00:"/],
    ['a prefix past 64 characters', { url: 'redis://127.0.0.1:1', prefix: 'p'.repeat(65) }, /option "prefix" must be a string of up to 64 characters/],
    // Only undefined is left out: null is refused, as it is for every other option.
    ['a null prefix', { url: 'redis://127.0.0.1:1', prefix: null }, /option "prefix" must be a string of up to 64 characters, .*; got null/],
    ['a misspelt option', { url: 'redis://127.0.0.1:1', timout: '10ms' }, /option "timout" is not an option \(did you mean "timeout"\?\)/],
    ['a timeout of 0', { url: 'redis://127.0.0.1:1', timeout: 0 }, /option "timeout" must be from 1 ms to 60000 ms/],
    ['a connectTimeout past setTimeout\'s range', { url: 'redis://127.0.0.1:1', connectTimeout: '25d' }, /option "connectTimeout" must be from 1 ms to 60000 ms; got "25d"/],
    ['a bad breaker', { url: 'redis://127.0.0.1:1', breaker: { failures: 0 } }, /option "breaker.failures" must be a whole number of 1 or more/],
    ['a misspelt lease option', { url: 'redis://127.0.0.1:1', lease: { wiat: '1s' } }, /option "lease.wiat" is not an option \(did you mean "lease.wait"\?\)/],
    ['a lease that is true', { url: 'redis://127.0.0.1:1', lease: true }, /option "lease" must be an object such as/],
    ['a negative compression threshold', { url: 'redis://127.0.0.1:1', compressAbove: -1 }, /option "compressAbove" must be a whole number of bytes/],
    ['a cluster without nodes', { cluster: { nodes: [] } }, /option "cluster.nodes" must list at least one node/],
  ]
  test.each(cases)('%s', (_, options, message) => {
    expect(() => redisStore(options as unknown as RedisStoreOptions)).toThrow(message)
  })

  test('a URL that does not parse is not shown: it may carry the password', () => {
    const make = () => redisStore({ url: 'rediss://default:s3cret@cache.internal:port' })
    expect(make).toThrow('option "url"')
    expect(make).not.toThrow(/s3cret/)
  })

  test('defaults: a 50 ms timeout, a lease, a breaker; settings resolved once', () => {
    expect(storeWith().settings).toEqual({
      timeoutMs: 50,
      breaker: { failures: 3, coolDownMs: 5_000 },
      lease: { ttlMs: 5_000, waitMs: 2_000 },
      versionCheckMs: 5_000,
      compressAboveBytes: 8_192,
      maxPayloadBytes: 512 * 1024 * 1024,
    })
    expect(storeWith({ lease: false, timeout: '20ms', versionCheck: '1m' }).settings).toMatchObject({ lease: undefined, timeoutMs: 20, versionCheckMs: 60_000 })
  })

  test('a cluster store is made without connecting (lazy), and closes', async () => {
    const store = redisStore({ cluster: { nodes: [{ host: '127.0.0.1', port: 1 }] } })
    await store.close()
  })
})

describe('the Redis store on a redis-server', () => {
  test('connects lazily, at the first operation, then keeps its one connection', async () => {
    const connectionName = uniqueName('lazy').replace(/-/g, '_')
    const store = storeWith({ redis: { connectionName } })
    const named = async () => ((await raw.client('LIST')) as string).split('\n').filter((line) => line.includes(`name=${connectionName}`)).length
    expect(await named()).toBe(0)
    await store.get('k', signal)
    await store.set('k', Buffer.from('v'), 1_000, signal)
    await store.get('k', signal)
    expect(await named()).toBe(1)
  })

  l2StoreContract(() => storeWith())

  test("acquireLeases whose attempt at one key fails gives back the leases it took beside it and rejects with that failure: the engine, which then loads the batch without leases, leaves none held", async () => {
    const store = storeWith()
    const acquireLeases = store.acquireLeases?.bind(store)
    expect(acquireLeases).toBeDefined()
    if (acquireLeases === undefined) return
    const acquireLease = store.acquireLease.bind(store)
    const failing = jest.spyOn(store, 'acquireLease').mockImplementation((key, ...request) => (key === 'b' ? Promise.reject(new Error('lost mid-batch')) : acquireLease(key, ...request)))
    try {
      await expect(acquireLeases(['a', 'b', 'c'], 'mine', 60_000, signal)).rejects.toThrow('lost mid-batch')
    } finally {
      failing.mockRestore()
    }
    expect((await acquireLeases(['a', 'c'], 'next', 60_000, signal)).map(({ acquired }) => acquired)).toEqual([true, true])
  })

  test('a prefix beyond ASCII (an emoji: a surrogate pair) is written as its UTF-8 bytes, as another client spells it', async () => {
    const prefix = `${uniqueName('🛒')}:`
    const store = storeWith({ prefix })
    await store.set('k', Buffer.from('v'), 60_000, signal)
    expect(await raw.keys(`${prefix}*`)).toEqual([`${prefix}{k}`])
    expect(Buffer.from((await raw.keysBuffer(`${prefix}*`))[0] ?? [])).toEqual(Buffer.from(`${prefix}{k}`, 'utf8'))
  })

  test('values expire after their ttl', async () => {
    const store = storeWith()
    await store.set('long', Buffer.from('1'), 60_000, signal)
    await store.set('short', Buffer.from('2'), 1, signal)
    await new Promise((resolve) => setTimeout(resolve, 10))
    const [long, short] = await store.getMany(['long', 'short'], signal)
    expect(Buffer.from(long ?? []).toString()).toBe('1')
    expect(short).toBeUndefined()
  })

  test('a client you pass is used as it is and left open by close()', async () => {
    const client = new Redis(sharedRedisUrl(), { disconnectTimeout: 100 })
    const store = redisStore({ client, prefix: `${uniqueName('given')}:` })
    await store.set('k', Buffer.from('v'), 60_000, signal)
    await store.close()
    expect(client.status).toBe('ready')
    expect(Buffer.from((await store.get('k', signal)) ?? []).toString()).toBe('v')
    client.disconnect()
  })

  test('a client you pass that answers numbers as strings (ioredis stringNumbers): a lease that never expires is held by no one and still taken over, one taken is held, and counters are numbers', async () => {
    const client = new Redis(sharedRedisUrl(), { disconnectTimeout: 100, stringNumbers: true })
    const prefix = `${uniqueName('strings')}:`
    const store = redisStore({ client, prefix })
    try {
      await raw.set(`${prefix}{k}:lease`, 'another program, no expiry')
      // Held by no environment: a waiter that looks takes it over rather than wait out lease.wait.
      expect(await store.peekLease!('k', signal)).toEqual({ held: false, payload: undefined })
      expect(await store.acquireLease('k', 'token', 60_000, signal)).toMatchObject({ acquired: true })
      expect((await store.peekLease!('k', signal)).held).toBe(true)
      expect(await raw.get(`${prefix}{k}:lease`)).toBe('token')
      expect(await store.incrementCounter('version', 0, signal)).toBe(1)
    } finally {
      client.disconnect()
    }
  })

  test('a server that refuses connections fails the operation at once; nothing is queued', async () => {
    const store = redisStore({ url: 'redis://127.0.0.1:1', connectTimeout: '200ms' })
    opened.push(store)
    await expect(store.get('k', signal)).rejects.toThrow()
    await expect(store.get('k', signal)).rejects.toThrow(/not connected|ECONNREFUSED/)
  })
})
