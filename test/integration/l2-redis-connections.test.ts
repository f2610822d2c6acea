import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { redisStore, type L2Store } from '../../entrypoints/redis.js'
import { createCache, createScope, Outcome, Tier } from '../../src/index.js'
import { LOOPBACK, startRedis, uniqueName, type RedisHandle } from '../harness/index.js'

/** How the store reaches Redis besides a plain URL: AUTH (an ACL user) and cluster mode, on private redis-servers. */

const opened: L2Store[] = []
afterEach(async () => {
  jest.restoreAllMocks()
  await Promise.all(opened.splice(0).map((store) => store.close()))
})
const keep = (store: L2Store): L2Store => {
  opened.push(store)
  return store
}

describe('AUTH: credentials reach the server', () => {
  let redis: RedisHandle
  beforeAll(async () => {
    // The default user may only PING (the harness's readiness probe); everything else needs the app user.
    redis = await startRedis({ args: ['--user', 'default', 'on', 'nopass', '-@all', '+ping', '--user', 'app', 'on', '>s3cret', '~*', '&*', '+@all'] })
  })
  afterAll(async () => {
    await redis.stop()
  })

  const withUser = (url: string, user: string) => url.replace('redis://', `redis://${user}@`)

  test.each([
    ['in the URL', () => ({ url: withUser(redis.url, 'app:s3cret') })],
    ['as ioredis options', () => ({ url: redis.url, redis: { username: 'app', password: 's3cret' } })],
  ])('credentials %s: a second environment gets an L2 hit', async (_how, connection) => {
    const name = uniqueName('auth').replace(/-/g, '_')
    const a = createCache({ name, load: () => 'shared value', ttl: '1m', l2: keep(redisStore({ ...connection(), timeout: '500ms' })) })
    const b = createCache({ name, load: () => 'loaded again', ttl: '1m', l2: keep(redisStore({ ...connection(), timeout: '500ms' })) })
    await a.get('k')
    expect(await b.lookup('k')).toMatchObject({ value: 'shared value', tier: Tier.L2 })
  })

  test('without them every operation is refused: counted, skipped, never thrown', async () => {
    // ioredis says once that it cannot run INFO for its ready check; that is not what is tested here.
    jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    const cache = createCache({ name: 'noauth', load: () => 'from source', ttl: '1m', l2: keep(redisStore({ url: redis.url, timeout: '500ms' })) })
    const scope = createScope()
    expect(await cache.lookup('k', { scope })).toMatchObject({ value: 'from source', outcome: Outcome.Miss, tier: Tier.Source })
    expect(scope.countersFor('noauth').l2Errors).toBeGreaterThanOrEqual(1)
  })
})

describe('cluster mode (a one-node cluster holding every slot)', () => {
  let redis: RedisHandle
  beforeAll(async () => {
    // A node that never met another announces no address unless told: ioredis needs one to follow the slots.
    redis = await startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', LOOPBACK] })
    const admin = new Redis(redis.url, { disconnectTimeout: 100 })
    try {
      await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
      for (let attempt = 0; attempt < 100; attempt++) {
        if (String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) break
        await sleep(50)
      }
    } finally {
      admin.disconnect()
    }
  })
  afterAll(async () => {
    await redis.stop()
  })

  test('values, leases, batches and clear() work through ioredis Cluster (an entry and its lease share a hash tag)', async () => {
    const cluster = () => keep(redisStore({ cluster: { nodes: [{ host: redis.host, port: redis.port }] }, timeout: '1s' }))
    const load = jest.fn((key: string) => `value of ${key}`)
    const a = createCache({ name: 'clustered', load, ttl: '1m', l2: cluster() })
    const b = createCache({ name: 'clustered', load: () => 'loaded again', loadMany: () => Promise.resolve(['loaded again']), ttl: '1m', l2: cluster() })
    const scope = createScope()
    expect(await a.getMany(['1', '2', '3'], { scope })).toEqual(['value of 1', 'value of 2', 'value of 3'])
    expect(scope.countersFor('clustered').l2Errors).toBe(0)
    const reader = createScope()
    expect(await b.getMany(['1', '2', '3'], { scope: reader })).toEqual(['value of 1', 'value of 2', 'value of 3'])
    expect(reader.countersFor('clustered')).toMatchObject({ l2Hits: 3, l2Errors: 0, loads: 0 })
    await a.clear()
    expect(await b.lookup('1')).toMatchObject({ value: 'value of 1', tier: Tier.L1 })
  })
})
