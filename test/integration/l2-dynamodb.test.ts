import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { dynamoStore, type L2Store } from '../../entrypoints/dynamodb.js'
import { createCache, createScope, Outcome, Tier } from '../../src/index.js'
import { createTable, destroySeedClients, seedClients, uniqueName } from '../harness/index.js'

const table = uniqueName('cache')
const opened: L2Store[] = []

const clientConfig = () => ({
  endpoint: process.env.AWS_ENDPOINT_URL ?? '',
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
})

/** One simulated environment's store: its own client, the shared table, a prefix unique to the test. */
const storeFor = (prefix: string, options: { compressAbove?: number; lease?: { ttl: `${number}s`; wait: `${number}s` } } = {}): L2Store => {
  const store = dynamoStore({ table, prefix, timeout: '2s', clientConfig: clientConfig(), ...options })
  opened.push(store)
  return store
}

const rawItem = async (pk: string) => (await seedClients().dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item

beforeAll(async () => {
  await createTable(table, 'pk', { ttlAttribute: 'expiresAt' })
})

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()))
  destroySeedClients()
})

describe('the DynamoDB store', () => {
  test('a second environment gets an L2 hit; the item carries the native TTL attribute at the last usable moment', async () => {
    const prefix = `${uniqueName('t')}:`
    const load = jest.fn((id: string) => ({ id }))
    const a = createCache({ name: 'products', load, ttl: '1m', staleIfError: '1h', l2: storeFor(prefix) })
    const b = createCache({ name: 'products', load, ttl: '1m', staleIfError: '1h', l2: storeFor(prefix) })
    await a.get('42')
    expect(await b.lookup('42')).toMatchObject({ value: { id: '42' }, outcome: Outcome.Hit, tier: Tier.L2 })
    expect(load).toHaveBeenCalledTimes(1)
    const item = await rawItem(`${prefix}products:0:k:42`)
    const expiresAt = Number(item?.expiresAt?.N)
    const lastUsable = (Date.now() + 60_000 + 3_600_000) / 1_000
    expect(expiresAt).toBeGreaterThan(lastUsable - 10)
    expect(expiresAt).toBeLessThanOrEqual(lastUsable + 1)
    expect(Buffer.from(item?.payload?.B ?? []).subarray(0, 3).toString()).toBe('mc1')
  })

  test('a value over the item limit stays in memory only, counted', async () => {
    const prefix = `${uniqueName('t')}:`
    const huge = randomBytes(450_000).toString('base64')
    const a = createCache({ name: 'huge', load: () => huge, ttl: '1m', l2: storeFor(prefix, { compressAbove: 10_000_000 }) })
    const scope = createScope()
    expect(await a.get('k', { scope })).toBe(huge)
    expect(scope.countersFor('huge')).toMatchObject({ l2Skipped: 1, l2Errors: 0 })
    expect(await a.lookup('k')).toMatchObject({ outcome: Outcome.Hit, tier: Tier.L1 })
    expect(await rawItem(`${prefix}huge:0:k:k`)).toBeUndefined()
  })

  test('an item past its TTL that DynamoDB has not deleted yet is a miss', async () => {
    const prefix = `${uniqueName('t')}:`
    const envelope = Buffer.from(`mc1j{"c":${Date.now()},"t":600000,"w":0,"e":0,"v":"stale"}`)
    await seedClients().dynamodb.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: `${prefix}late:0:k:k` }, payload: { B: envelope }, expiresAt: { N: String(Math.floor(Date.now() / 1_000) - 5) } } }),
    )
    const cache = createCache({ name: 'late', load: () => 'fresh', ttl: '1m', l2: storeFor(prefix) })
    expect(await cache.lookup('k')).toMatchObject({ value: 'fresh', tier: Tier.Source })
  })

  test('an item whose attributes have other types is a miss, not an outage, and the write replaces it', async () => {
    const prefix = `${uniqueName('t')}:`
    const pk = `${prefix}foreign:0:k:k`
    await seedClients().dynamodb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, payload: { S: 'another program' }, expiresAt: { S: 'never' } } }))
    const cache = createCache({ name: 'foreign', load: () => 'fresh', ttl: '1m', l2: storeFor(prefix) })
    const scope = createScope()
    expect(await cache.lookup('k', { scope })).toMatchObject({ value: 'fresh', outcome: Outcome.Miss, tier: Tier.Source })
    expect(scope.countersFor('foreign')).toMatchObject({ l2Misses: 1, l2Errors: 0, loads: 1 })
    expect(cache.stats().l2Circuit).toBe('closed')
    expect((await rawItem(pk))?.payload?.B).toBeDefined()
  })

  test.each<[string, Record<string, AttributeValue>]>([
    ['a lease time of another type', { leaseToken: { S: 'another program' }, leaseUntil: { S: 'never' } }],
    ['no lease time', { leaseToken: { S: 'another program' } }],
  ])('a lease item with %s is held by no environment: a miss loads without waiting out lease.wait', async (_what, attributes) => {
    const prefix = `${uniqueName('t')}:`
    await seedClients().dynamodb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: `${prefix}#lease#stuck-lease:0:k:k` }, ...attributes } }))
    const load = jest.fn(() => 'from source')
    // Waiting out this lease.wait would outlast the test's own timeout.
    const cache = createCache({ name: 'stuck-lease', load, ttl: '1m', l2: storeFor(prefix, { lease: { ttl: '5s', wait: '3600s' } }) })
    expect(await cache.lookup('k')).toMatchObject({ value: 'from source', tier: Tier.Source })
    expect(load).toHaveBeenCalledTimes(1)
  })

  test('a namespace version whose counter is of another type is skipped with one warning, not read as version 0', async () => {
    const prefix = `${uniqueName('t')}:`
    await seedClients().dynamodb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: `${prefix}foreign-version:version` }, counter: { S: '3' } } }))
    const messages: string[] = []
    const load = jest.fn((key: string) => `loaded ${key}`)
    const cache = createCache({ name: 'foreign-version', load, ttl: '1m', l2: storeFor(prefix), logger: { warn: (message) => { messages.push(message) } } })
    const scope = createScope()
    expect(await cache.get('a', { scope })).toBe('loaded a')
    expect(await cache.get('b', { scope })).toBe('loaded b')
    expect(scope.countersFor('foreign-version')).toMatchObject({ l2Errors: 0, loads: 2 })
    expect(messages).toEqual([expect.stringContaining('holds no number, not a counter')])
    expect(await rawItem(`${prefix}foreign-version:0:k:a`)).toBeUndefined()
  })

  test('clear() replaces a namespace version whose counter is of another type by a counter beyond every earlier version', async () => {
    const prefix = `${uniqueName('t')}:`
    await seedClients().dynamodb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: `${prefix}restarted:version` }, counter: { S: '3' } } }))
    const before = Date.now()
    const cache = createCache({ name: 'restarted', load: (key: string) => `loaded ${key}`, ttl: '1m', l2: storeFor(prefix), logger: { warn: () => undefined } })
    const scope = createScope()
    await cache.clear({ scope })
    expect(scope.countersFor('restarted')).toMatchObject({ l2Errors: 0 })
    expect(Number((await rawItem(`${prefix}restarted:version`))?.counter?.N)).toBeGreaterThanOrEqual(before)
    await cache.get('a')
    const other = createCache({ name: 'restarted', load: () => 'not from L2', ttl: '1m', l2: storeFor(prefix) })
    expect(await other.lookup('a')).toMatchObject({ value: 'loaded a', tier: Tier.L2 })
  })

  test('the lease keeps 5 environments x 20 concurrent misses to one load', async () => {
    const prefix = `${uniqueName('t')}:`
    let loads = 0
    const load = async (key: string) => {
      loads++
      await sleep(100)
      return `value of ${key}`
    }
    const caches = Array.from({ length: 5 }, () => createCache({ name: 'stampede', load, ttl: '1m', l2: storeFor(prefix, { lease: { ttl: '10s', wait: '10s' } }) }))
    const values = await Promise.all(caches.flatMap((cache) => Array.from({ length: 20 }, () => cache.get('hot'))))
    expect(new Set(values)).toEqual(new Set(['value of hot']))
    expect(loads).toBe(1)
  })

  test('getMany reads with BatchGetItem; clear() moves the version on for every environment', async () => {
    const prefix = `${uniqueName('t')}:`
    let generation = 1
    const load = (id: string) => `${id}@${generation}`
    const a = createCache({ name: 'many', load, ttl: '1h', l2: storeFor(prefix) })
    const b = createCache({ name: 'many', load, ttl: '1h', l2: storeFor(prefix) })
    await a.getMany(['1', '2', '3'])
    const scope = createScope()
    expect(await b.getMany(['1', '2', '3'], { scope })).toEqual(['1@1', '2@1', '3@1'])
    expect(scope.countersFor('many')).toMatchObject({ l2Hits: 3, loads: 0 })
    generation = 2
    await b.clear()
    const c = createCache({ name: 'many', load, ttl: '1h', l2: storeFor(prefix) })
    expect(await c.getMany(['1', '2'])).toEqual(['1@2', '2@2'])
    expect(Number((await rawItem(`${prefix}many:version`))?.counter?.N)).toBe(1)
  })
})
