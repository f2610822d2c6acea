import { Redis } from 'ioredis'
import { CacheTimeoutError, createCache, createScope, Outcome } from '../../src/index.js'
import { startRedis, startTcpProxy, uniqueName, type RedisHandle, type TcpProxy } from '../harness/index.js'
import { manualClock } from '../support/clock.js'

/**
 * A connected client that fails rather than queue while disconnected, so the engine's timeout alone
 * decides what a slow or dead Redis costs.
 */
const clientFor = async (url: string): Promise<Redis> => {
  const client = new Redis(url, {
    commandTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => 20,
    disconnectTimeout: 100,
    lazyConnect: true,
  })
  await client.connect()
  return client
}

const redisLoader = (client: Redis) => (key: string): Promise<string | undefined> =>
  client.get(key).then((value) => value ?? undefined)

test('the engine loads from the shared private redis-server over a real connection', async () => {
  const client = await clientFor(process.env.REDIS_URL ?? '')
  const key = uniqueName('engine')
  await client.set(key, 'from redis', 'EX', 60)
  const cache = createCache({ name: 'redis-backed', load: redisLoader(client), ttl: '1m' })
  expect(await cache.get(key)).toBe('from redis')
  expect((await cache.lookup(key)).outcome).toBe(Outcome.Hit)
  client.disconnect()
})

describe('the engine in front of a redis-server that stalls, dies and comes back', () => {
  let redis: RedisHandle
  let client: Redis

  beforeAll(async () => {
    redis = await startRedis()
    client = await clientFor(redis.url)
  })

  afterAll(async () => {
    client.disconnect()
    await redis.stop()
  })

  test('stopped (SIGSTOP): the soft timeout serves the stale value; killed: the error does; restarted: fresh again', async () => {
    const clock = manualClock()
    await client.set('price', '10')
    // A timeout the first load, which Redis answers, does not meet on a busy machine.
    const cache = createCache({ name: 'prices', load: redisLoader(client), ttl: '1m', staleIfError: '1h', timeout: '1s', now: clock.now })
    expect(await cache.get('price')).toBe('10')

    redis.pause()
    clock.advance(120_000)
    const stalled = createScope()
    expect(await cache.lookup('price', { scope: stalled })).toMatchObject({ value: '10', outcome: Outcome.StaleOnError })
    expect(stalled.countersFor('prices')).toMatchObject({ loadTimeouts: 1, staleOnError: 1 })
    expect(await stalled.settle(0)).toEqual({ completed: 0, abandoned: 1 })

    await redis.kill()
    // Past retryAfterError (1 s): the timed-out load is not retried before then.
    clock.advance(1_000)
    const dead = createScope()
    expect(await cache.lookup('price', { scope: dead })).toMatchObject({ value: '10', outcome: Outcome.StaleOnError })
    expect(dead.countersFor('prices')).toMatchObject({ loadErrors: 1 })

    await redis.start()
    const fresh = await clientFor(redis.url)
    await fresh.set('price', '12')
    const recovered = createCache({ name: 'prices', load: redisLoader(fresh), ttl: '1m', now: clock.now })
    expect(await recovered.get('price')).toBe('12')
    fresh.disconnect()
  })
})

describe('the engine behind a slow network (loopback proxy)', () => {
  let proxy: TcpProxy
  let client: Redis

  beforeAll(async () => {
    const target = new URL(process.env.REDIS_URL ?? '')
    proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port) } })
    client = await clientFor(proxy.url('redis'))
  })

  afterAll(async () => {
    client.disconnect()
    await proxy.close()
  })

  test('latency over the timeout with nothing stale is a hard CacheTimeoutError; the load still lands within the budget', async () => {
    const key = uniqueName('slow')
    await client.set(key, 'eventually')
    const cache = createCache({ name: 'slow-network', load: redisLoader(client), ttl: '1m', timeout: '100ms' })
    proxy.setLatency(300)
    const scope = createScope()
    const error: unknown = await cache.get(key, { scope }).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(CacheTimeoutError)
    expect(error).toMatchObject({ cache: 'slow-network', key })
    expect(await scope.settle(2_000)).toEqual({ completed: 1, abandoned: 0 })
    proxy.setLatency(0)
    expect(await cache.lookup(key)).toMatchObject({ value: 'eventually', outcome: Outcome.Hit })
  })
})
