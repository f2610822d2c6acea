import { DynamoDBClient, GetItemCommand, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb'
import { dynamoStore, type L2Store } from '../../entrypoints/dynamodb.js'
import { redisStore } from '../../entrypoints/redis.js'
import { createCache, createScope, Outcome, Tier } from '../../src/index.js'
import { createTable, destroySeedClients, startRedis, startTcpProxy, uniqueName, type RedisHandle } from '../harness/index.js'
import { closeEnvironments, environments, leaseAttempts } from './l2-support.js'

afterEach(async () => {
  jest.restoreAllMocks()
  await closeEnvironments()
})

describe('values through the shared tier', () => {
  test('a Buffer a loader returns reaches another environment as a Buffer: its toString() is the text, not "104,101,..."', async () => {
    const env = environments()
    const a = createCache({ name: 'files', load: () => Buffer.from('hello'), ttl: '1m', l2: env.store() })
    const b = createCache({ name: 'files', load: () => Buffer.from('not from L2'), ttl: '1m', l2: env.store() })
    expect(String(await a.get('k'))).toBe('hello')
    const read = await b.lookup('k')
    expect(read.tier).toBe(Tier.L2)
    expect(Buffer.isBuffer(read.value)).toBe(true)
    expect(String(read.value)).toBe('hello')
  })
})

describe('clear() racing other operations in the same environment (concurrent invocations of a Managed Instance)', () => {
  test('a get made while the namespace version moves on does not keep the cleared value in memory once clear() has resolved', async () => {
    const env = environments()
    let generation = 0
    const cache = createCache({ name: 'cleared', load: () => `v${++generation}`, ttl: '1m', l2: env.store({ versionCheck: '1h' }) })
    expect(await cache.get('k')).toBe('v1')
    const cleared = cache.clear()
    const during = cache.get('k')
    await cleared
    await during
    // clear() has resolved: what memory serves from now on must not be the value it cleared.
    expect(await cache.lookup('k')).toMatchObject({ value: 'v2' })
  })

  test('a set made while the namespace version moves on reaches the other environments (written under the new version)', async () => {
    const env = environments()
    const writer = createCache({ name: 'set-during-clear', load: () => 'loaded', ttl: '1m', l2: env.store({ versionCheck: '1h' }) })
    await writer.get('warm-up')
    const cleared = writer.clear()
    await writer.set('k', 'set after clear() began')
    await cleared
    const reader = createCache({ name: 'set-during-clear', load: () => 'not from L2', ttl: '1m', l2: env.store() })
    expect(await reader.lookup('k')).toMatchObject({ value: 'set after clear() began', tier: Tier.L2 })
  })
})

describe('a private redis-server that stalls (SIGSTOP), with concurrent invocations in one environment', () => {
  // Met only while the server is stopped: the warm-up before must not meet it on a busy machine.
  const timeoutMs = 1_000
  let redis: RedisHandle
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    if (redis.paused) redis.resume()
    await redis.stop()
  })

  test.each([
    ['a get', false],
    ['a getMany through loadMany', true],
  ] as const)('an invocation that joined %s another invocation started, which met the L2 timeout, meets no second timeout of its own', async (_case, batched) => {
    const store = redisStore({ url: redis.url, timeout: `${timeoutMs}ms`, versionCheck: '1h' })
    try {
      const name = `joined-${String(batched)}`
      const cache = createCache({
        name,
        load: (key: string) => `value of ${key}`,
        loadMany: (keys: readonly string[]) => Promise.resolve(keys.map((key) => `value of ${key}`)),
        ttl: '1m',
        l2: store,
      })
      await cache.get('warm-up')
      redis.pause()
      const [first, second] = [createScope(), createScope()]
      const join = (scope: ReturnType<typeof createScope>) => (batched ? cache.getMany(['a', 'b'], { scope }) : cache.get('a', { scope }))
      const firstInvocation = join(first)
      const secondInvocation = (async () => {
        await join(second)
        // Its own get: the store already kept it waiting one timeout in this invocation.
        expect(await cache.get('c', { scope: second })).toBe('value of c')
      })()
      await Promise.all([firstInvocation, secondInvocation])
      expect(cache.stats().l2Circuit).toBe('closed')
      expect(first.countersFor(name)).toMatchObject({ l2Errors: 1, l2Operations: 1 })
      // It shared the first invocation's read, and its own get skipped the store: no operation of its own, so no timeout of its own.
      expect(second.countersFor(name)).toMatchObject({ l2Errors: 0, l2Operations: 0 })
    } finally {
      redis.resume()
      await store.close()
    }
  })

  test('an invocation whose get waited for a clear() another invocation made, which met the L2 timeout, meets no second timeout of its own', async () => {
    const store = redisStore({ url: redis.url, timeout: `${timeoutMs}ms`, versionCheck: '1h' })
    try {
      const cache = createCache({ name: 'clear-stalled', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store })
      await cache.get('warm-up')
      redis.pause()
      const [clearing, reading] = [createScope(), createScope()]
      const cleared = cache.clear({ scope: clearing })
      const readingInvocation = (async () => {
        expect(await cache.get('a', { scope: reading })).toBe('value of a')
        expect(await cache.get('b', { scope: reading })).toBe('value of b')
      })()
      await Promise.all([cleared, readingInvocation])
      expect(clearing.countersFor('clear-stalled')).toMatchObject({ l2Errors: 1, l2Operations: 1 })
      // Neither get reached the stopped server (nor did a read of the version in doubt): no timeout of its own.
      expect(reading.countersFor('clear-stalled')).toMatchObject({ l2Errors: 0, l2Operations: 0, loads: 2 })
    } finally {
      redis.resume()
      await store.close()
    }
  })
})

describe('DynamoDB: a lease taken by an attempt that then failed with an answer', () => {
  const table = uniqueName('lease-throttle')
  const opened: L2Store[] = []
  const clientConfig = () => ({ endpoint: process.env.AWS_ENDPOINT_URL ?? '', region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
  beforeAll(async () => {
    await createTable(table, 'pk', { ttlAttribute: 'expiresAt' })
  })
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()))
    destroySeedClients()
  })

  test('is given back: the next environment to miss the key does not wait out lease.wait for a holder that never learnt it held it', async () => {
    const prefix = `${uniqueName('t')}:`
    // Environment A's client: the consistent read that follows the lease's conditional put is throttled once.
    const client = new DynamoDBClient({ ...clientConfig(), maxAttempts: 1 })
    const send = client.send.bind(client) as (command: unknown, options: unknown) => Promise<unknown>
    let throttleNextRead = false
    jest.spyOn(client, 'send').mockImplementation(((command: unknown, options: unknown) => {
      if (throttleNextRead && command instanceof GetItemCommand && command.input.ConsistentRead === true) {
        throttleNextRead = false
        return Promise.reject(new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput', $metadata: {} }))
      }
      return send(command, options)
    }) as never)
    const storeA = dynamoStore({ table, prefix, client, timeout: '1s', versionCheck: '1h', lease: { ttl: '10s', wait: '2s' } })
    const storeB = dynamoStore({ table, prefix, clientConfig: clientConfig(), timeout: '1s', versionCheck: '1h', lease: { ttl: '10s', wait: '2s' } })
    opened.push(storeA, storeB)
    const a = createCache({ name: 'leased', load: (key: string) => `a: ${key}`, ttl: '1m', l2: storeA })
    const b = createCache({ name: 'leased', load: (key: string) => `b: ${key}`, ttl: '1m', l2: storeB })
    await a.get('warm-up')
    await b.get('warm-up')

    throttleNextRead = true
    const scopeA = createScope()
    expect(await a.get('k', { scope: scopeA })).toBe('a: k')
    expect(scopeA.countersFor('leased')).toMatchObject({ l2Errors: 1, loads: 1 })

    const attemptsOfB = leaseAttempts(storeB)
    expect(await b.lookup('k')).toMatchObject({ value: 'b: k', outcome: Outcome.Miss, tier: Tier.Source })
    // Taken at B's first attempt: A had given it back before its get returned, so B waited on nobody.
    expect(attemptsOfB).toEqual([true])
  })
})

describe('DynamoDB: a conditional put DynamoDB refused', () => {
  test('takes no lease, so nothing is deleted after it: a throttled table is not sent a second request', async () => {
    const client = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL ?? '', region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 })
    const sent: string[] = []
    jest.spyOn(client, 'send').mockImplementation(((command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name)
      return Promise.reject(new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput', $metadata: {} }))
    }) as never)
    const store = dynamoStore({ table: 'never-reached', client })
    await expect(store.acquireLease('k', 'token', 60_000, new AbortController().signal)).rejects.toThrow(ProvisionedThroughputExceededException)
    expect(sent).toEqual(['PutItemCommand'])
    client.destroy()
  })
})

describe('DynamoDB: a lease taken by an attempt the engine stopped waiting for', () => {
  const table = uniqueName('lease-abort')
  const opened: L2Store[] = []
  const clientConfig = (endpoint = process.env.AWS_ENDPOINT_URL ?? '') => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
  beforeAll(async () => {
    await createTable(table, 'pk', { ttlAttribute: 'expiresAt' })
  })
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()))
    destroySeedClients()
  })

  // Every chunk is held 400 ms each way: the conditional puts reach moto after 400 ms and their answers
  // come back no sooner than 800 ms, the read that follows them no sooner than 1,600 ms.
  const attempts: [string, readonly string[], (store: L2Store, signal: AbortSignal) => Promise<unknown>][] = [
    ['a lease', ['k'], (store, signal) => store.acquireLease('k', 'abandoned', 60_000, signal)],
    ["a batch's leases", ['k', 'l', 'm'], (store, signal) => store.acquireLeases!(['k', 'l', 'm'], 'abandoned', 60_000, signal)],
  ]
  const abandoned = [
    ['while the answer to its conditional put was on its way', 700],
    ['while the read that follows the put was on its way', 1_100],
  ] as const
  test.each(abandoned.flatMap(([when, abortAfterMs]) => attempts.map(([what, keys, attempt]) => [what, when, abortAfterMs, keys, attempt] as const)))('%s taken by an attempt abandoned %s: given back, so that another environment takes each at once, not after its 60 s', async (_what, _when, abortAfterMs, keys, attempt) => {
    const target = new URL(process.env.AWS_ENDPOINT_URL ?? '')
    const proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port) }, latencyMs: 400 })
    try {
      const prefix = `${uniqueName('t')}:`
      const slow = dynamoStore({ table, prefix, clientConfig: clientConfig(proxy.url('http')), timeout: '5s' })
      const other = dynamoStore({ table, prefix, clientConfig: clientConfig(), timeout: '5s' })
      opened.push(slow, other)
      const release = jest.spyOn(slow, 'releaseLease')
      await expect(attempt(slow, AbortSignal.timeout(abortAfterMs))).rejects.toThrow()
      // Given back under its own token as the attempt was abandoned, in the background: once that is answered, another environment takes it.
      expect(release.mock.calls.map(([key, token]) => [key, token]).sort()).toEqual(keys.map((key) => [key, 'abandoned']))
      await Promise.all(release.mock.results.map(({ value }) => value as Promise<void>))
      for (const key of keys) expect(await other.acquireLease(key, 'next', 60_000, new AbortController().signal)).toMatchObject({ acquired: true })
    } finally {
      await proxy.close()
    }
  })
})
