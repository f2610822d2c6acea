import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { redisStore, type L2Store } from '../../entrypoints/redis.js'
import { createCache, createScope, Outcome, Tier } from '../../src/index.js'
import { freePort, LOOPBACK, startRedis, uniqueName, type RedisHandle } from '../harness/index.js'

/** How the store reaches Redis besides a plain URL: TLS, AUTH (an ACL user) and cluster mode, on private redis-servers. */

const opened: L2Store[] = []
afterEach(async () => {
  jest.restoreAllMocks()
  await Promise.all(opened.splice(0).map((store) => store.close()))
})
const keep = (store: L2Store): L2Store => {
  opened.push(store)
  return store
}

describe('TLS: rediss:// with the ioredis tls options', () => {
  let redis: RedisHandle
  let folder: string
  let ca: Buffer
  let tlsUrl: string
  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'middy-cache-tls-'))
    const [cert, key] = [join(folder, 'cert.pem'), join(folder, 'key.pem')]
    // A self-signed certificate for the loopback address, made with the openssl on PATH.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${LOOPBACK}`, '-addext', `subjectAltName=IP:${LOOPBACK}`], { stdio: 'ignore' })
    ca = readFileSync(cert)
    const tlsPort = await freePort()
    // The plain port stays open for the harness's readiness probe; the cache only uses the TLS one.
    redis = await startRedis({ args: ['--tls-port', String(tlsPort), '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no'] })
    tlsUrl = `rediss://${LOOPBACK}:${tlsPort}`
  })
  afterAll(async () => {
    await redis.stop()
    rmSync(folder, { recursive: true, force: true })
  })

  test('with the server certificate trusted, a second environment gets an L2 hit over TLS', async () => {
    const name = uniqueName('tls').replace(/-/g, '_')
    const store = () => keep(redisStore({ url: tlsUrl, redis: { tls: { ca } }, timeout: '1s' }))
    const a = createCache({ name, load: () => 'shared value', ttl: '1m', l2: store() })
    const b = createCache({ name, load: () => 'loaded again', ttl: '1m', l2: store() })
    const scope = createScope()
    await a.get('k', { scope })
    expect(scope.countersFor(name).l2Errors).toBe(0)
    expect(await b.lookup('k')).toMatchObject({ value: 'shared value', tier: Tier.L2 })
  })

  test('a certificate the client does not trust: every operation fails, counted, and the source serves', async () => {
    const name = uniqueName('untrusted').replace(/-/g, '_')
    const cache = createCache({ name, load: () => 'from source', ttl: '1m', l2: keep(redisStore({ url: tlsUrl, timeout: '500ms' })) })
    const scope = createScope()
    expect(await cache.lookup('k', { scope })).toMatchObject({ value: 'from source', outcome: Outcome.Miss, tier: Tier.Source })
    expect(scope.countersFor(name).l2Errors).toBeGreaterThanOrEqual(1)
  })
})

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
