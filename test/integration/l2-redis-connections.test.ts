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

/**
 * A store set up wrong, read through by two caches in invocations of their own, a key and a value a
 * log must never see: every value comes from the loader, the failures are counted, and one warning
 * (once per store and kind) says what to fix. `pauseMs` between invocations lets ioredis try again.
 */
const readThrough = async (store: L2Store, pauseMs = 0): Promise<string> => {
  keep(store)
  const messages: string[] = []
  const logger = { warn: (message: string) => { messages.push(message) } }
  const load = (key: string) => `value of ${key}`
  const caches = ['profiles', 'carts'].map((name) => createCache({ name, load, ttl: '1m', l2: store, logger }))
  const values: string[] = []
  let errors = 0
  for (const cache of caches) {
    for (const key of ['user-7a1c@example.com', 'user-9f2e@example.com', 'user-0b3d@example.com']) {
      const scope = createScope()
      values.push(await cache.get(key, { scope }))
      errors += scope.countersFor(cache.name).l2Errors
      await sleep(pauseMs)
    }
  }
  expect(values).toEqual([1, 2].flatMap(() => ['value of user-7a1c@example.com', 'value of user-9f2e@example.com', 'value of user-0b3d@example.com']))
  // Still counted: the warning comes beside the metric, not instead of it.
  expect(errors).toBeGreaterThan(0)
  expect(messages).toHaveLength(1)
  expect(messages[0]).not.toContain('user-')
  return messages[0] ?? ''
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
    const cache = createCache({ name, load: () => 'from source', ttl: '1m', l2: keep(redisStore({ url: tlsUrl, timeout: '500ms' })), logger: { warn: () => undefined } })
    const scope = createScope()
    expect(await cache.lookup('k', { scope })).toMatchObject({ value: 'from source', outcome: Outcome.Miss, tier: Tier.Source })
    expect(scope.countersFor(name).l2Errors).toBeGreaterThanOrEqual(1)
  })

  test('a certificate the client does not trust: one warning says to give its certificate authority', async () => {
    const message = await readThrough(redisStore({ url: tlsUrl, timeout: '500ms' }))
    expect(message).toContain(`cache "profiles" cannot use its shared tier: Redis at ${tlsUrl.slice('rediss://'.length)} presents a TLS certificate the function does not trust (DEPTH_ZERO_SELF_SIGNED_CERT): give its certificate authority in redis: { tls: { ca } }`)
  })

  test('a certificate for another name than the one connected to: one warning says so', async () => {
    const byName = tlsUrl.replace(LOOPBACK, 'localhost')
    const message = await readThrough(redisStore({ url: byName, redis: { tls: { ca } }, timeout: '500ms' }))
    expect(message).toContain(`Redis at ${byName.slice('rediss://'.length)} presents a TLS certificate for another name (ERR_TLS_CERT_ALTNAME_INVALID)`)
  })

  test('a TLS endpoint that stopped answering (SIGSTOP): the source serves, and no warning blames TLS', async () => {
    const messages: string[] = []
    const cache = createCache({ name: 'stalled', load: (key: string) => `value of ${key}`, ttl: '1m', l2: keep(redisStore({ url: tlsUrl, redis: { tls: { ca } }, connectTimeout: '200ms', timeout: '300ms', breaker: { failures: 100, coolDown: '5s' } })), logger: { warn: (message) => { messages.push(message) } } })
    redis.pause()
    try {
      for (const key of ['a', 'b', 'c', 'd']) {
        const scope = createScope()
        expect(await cache.get(key, { scope })).toBe(`value of ${key}`)
        expect(scope.countersFor('stalled').l2Errors).toBe(1)
        await sleep(250)
      }
    } finally {
      redis.resume()
    }
    expect(messages).toEqual([])
  })

  test('redis:// to an endpoint that requires TLS, which hangs up on every handshake: one warning says to use rediss://', async () => {
    const plain = tlsUrl.replace('rediss://', 'redis://')
    const message = await readThrough(redisStore({ url: plain, timeout: '500ms', breaker: { failures: 100, coolDown: '5s' } }), 100)
    expect(message).toContain(`Redis at ${plain.slice('redis://'.length)} hangs up on every handshake (ECONNRESET): an endpoint that requires TLS (in-transit encryption; ElastiCache Serverless always does) is reached with rediss://, not redis://`)
  })
})

describe('rediss:// (TLS) to an endpoint without TLS', () => {
  let plain: RedisHandle
  beforeAll(async () => {
    plain = await startRedis()
  })
  afterAll(async () => {
    await plain.stop()
  })

  test('its TLS handshakes go unanswered, as an endpoint out of reach would leave them: the source serves, and one warning says that it answers plain Redis, and to use redis://', async () => {
    const tlsUrl = plain.url.replace('redis://', 'rediss://')
    const message = await readThrough(redisStore({ url: tlsUrl, connectTimeout: '200ms', timeout: '500ms', breaker: { failures: 100, coolDown: '5s' } }), 100)
    expect(message).toContain(`cache "profiles" cannot use its shared tier: Redis at ${plain.host}:${plain.port} never answers the TLS handshake (ETIMEDOUT), yet answers a plain connection: an endpoint without TLS (in-transit encryption off) is reached with redis://, not rediss://`)
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
    const cache = createCache({ name: 'noauth', load: () => 'from source', ttl: '1m', l2: keep(redisStore({ url: redis.url, timeout: '500ms' })), logger: { warn: () => undefined } })
    const scope = createScope()
    expect(await cache.lookup('k', { scope })).toMatchObject({ value: 'from source', outcome: Outcome.Miss, tier: Tier.Source })
    expect(scope.countersFor('noauth').l2Errors).toBeGreaterThanOrEqual(1)
  })

  test('without them, as a default user that may do nothing: one warning names the command refused, and what to allow', async () => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    const message = await readThrough(redisStore({ url: redis.url, timeout: '500ms' }))
    expect(message).toContain(`Redis at ${redis.host}:${redis.port} does not let the store's ACL user use GET (NOPERM): allow it GET, SET, DEL, PTTL, INCR, EVAL and INFO on the keys ~middy-cache:*`)
  })

  test('a wrong password: one warning says the credentials are refused, quoting neither of them', async () => {
    const message = await readThrough(redisStore({ url: withUser(redis.url, 'app:not-the-s3cret'), timeout: '500ms' }))
    expect(message).toContain(`Redis at ${redis.host}:${redis.port} refuses the store's user and password (WRONGPASS`)
    expect(message).not.toContain('not-the-s3cret')
  })
})

describe('AUTH required, none given (NOAUTH)', () => {
  let redis: RedisHandle
  beforeAll(async () => {
    redis = await startRedis()
    // Set once the harness saw it answer PING: from now on every client must log in.
    const admin = new Redis(redis.url, { disconnectTimeout: 100 })
    await admin.config('SET', 'requirepass', 's3cret')
    admin.disconnect()
  })
  afterAll(async () => {
    await redis.stop()
  })

  test('one warning says to give a user and password', async () => {
    const message = await readThrough(redisStore({ url: redis.url, timeout: '500ms' }))
    expect(message).toContain(`Redis at ${redis.host}:${redis.port} requires a user and password (NOAUTH), and the store gives none`)
  })

  test('a wrong password alone (requirepass): one warning says the credentials are refused, quoting neither', async () => {
    const message = await readThrough(redisStore({ url: redis.url.replace('redis://', 'redis://:not-the-s3cret@'), timeout: '500ms' }))
    expect(message).toContain(`Redis at ${redis.host}:${redis.port} refuses the store's user and password (WRONGPASS`)
    expect(message).not.toContain('not-the-s3cret')
  })
})

describe('cluster mode on one side only', () => {
  test('a cluster store pointed at a Redis not in cluster mode: one warning says to give a url', async () => {
    const plain = await startRedis()
    try {
      const message = await readThrough(redisStore({ cluster: { nodes: [{ host: plain.host, port: plain.port }] }, timeout: '500ms' }))
      expect(message).toContain(`Redis at ${plain.host}:${plain.port} is not in cluster mode (CLUSTER SLOTS: "ERR This instance has cluster support disabled"): give redisStore a url, not cluster`)
    } finally {
      await plain.stop()
    }
  })

  test('a url pointed at one node of a cluster whose slots two nodes share: one warning says to give cluster', async () => {
    const clusterArgs = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', LOOPBACK]
    const [holder, other] = await Promise.all([startRedis({ args: clusterArgs }), startRedis({ args: clusterArgs })])
    const admins = [holder, other].map((node) => new Redis(node.url, { disconnectTimeout: 100 }))
    try {
      const [holderAdmin, otherAdmin] = admins
      await holderAdmin?.call('CLUSTER', 'ADDSLOTSRANGE', '0', '8191')
      await otherAdmin?.call('CLUSTER', 'ADDSLOTSRANGE', '8192', '16383')
      await holderAdmin?.call('CLUSTER', 'MEET', LOOPBACK, String(other.port))
      for (let attempt = 0; attempt < 100; attempt++) {
        const states = await Promise.all(admins.map(async (admin) => String(await admin.call('CLUSTER', 'INFO'))))
        if (states.every((state) => state.includes('cluster_state:ok'))) break
        await sleep(50)
      }
      const message = await readThrough(redisStore({ url: holder.url, timeout: '500ms' }))
      expect(message).toContain(`Redis at ${holder.host}:${holder.port} is in cluster mode, and holds only some of the store's keys (MOVED): give redisStore cluster: { nodes: [{ host, port }] }`)
    } finally {
      for (const admin of admins) admin.disconnect()
      await Promise.all([holder.stop(), other.stop()])
    }
  })
})

describe('a failure of the moment', () => {
  test('a Redis that refuses connections (stopped): counted, with no warning', async () => {
    const stopped = await startRedis()
    await stopped.stop()
    const messages: string[] = []
    const cache = createCache({ name: 'stopped', load: (key: string) => `value of ${key}`, ttl: '1m', l2: keep(redisStore({ url: stopped.url, timeout: '500ms' })), logger: { warn: (message) => { messages.push(message) } } })
    for (const key of ['a', 'b', 'c']) {
      const scope = createScope()
      expect(await cache.get(key, { scope })).toBe(`value of ${key}`)
      await sleep(150)
    }
    expect(cache.stats().l2Errors).toBeGreaterThan(0)
    expect(messages).toEqual([])
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
