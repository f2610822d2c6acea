import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { dynamoStore, type L2Store } from '../../entrypoints/dynamodb.js'
import { createCache, createScope, Outcome, Tier } from '../../src/index.js'
import { awsJsonError, createTable, destroySeedClients, seedClients, startHttpFaultProxy, startTcpProxy, uniqueName } from '../harness/index.js'
import { deferred } from '../support/deferred.js'
import { movableTime } from '../support/clock.js'
import { within } from '../support/within.js'
import { waiterTakesHoldersValue } from '../support/lease-waiter.js'

const table = uniqueName('cache')
const opened: L2Store[] = []

const clientConfig = (endpoint = process.env.AWS_ENDPOINT_URL ?? '') => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
})

/** One simulated environment's store: its own client, the shared table, a prefix unique to the test. */
const storeFor = (prefix: string, options: { compressAbove?: number; lease?: { ttl: `${number}s`; wait: `${number}s` } } = {}): L2Store => {
  const store = dynamoStore({ table, prefix, timeout: '2s', clientConfig: clientConfig(), ...options })
  opened.push(store)
  return store
}

/** The AccessDeniedException message of a role that may not call `action`, as AWS words it. */
const deniedTo = (action: string): string =>
  `User: arn:aws:sts::123456789012:assumed-role/shop/fn is not authorized to perform: dynamodb:${action} on resource: arn:aws:dynamodb:us-east-1:123456789012:table/cache`

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

  test('a value JSON would change (-0 deep inside) is not written: another environment loads its own rather than serve 0', async () => {
    const prefix = `${uniqueName('t')}:`
    const messages: string[] = []
    const logger = { warn: (message: string) => { messages.push(message) } }
    const made = () => ({ id: '42', prices: [{ amount: 10 }, { amount: -0 }] })
    const loaded = made()
    const a = createCache<unknown>({ name: 'signed', load: () => loaded, ttl: '1m', l2: storeFor(prefix), logger })
    const loadB = jest.fn(made)
    const b = createCache<unknown>({ name: 'signed', load: loadB, ttl: '1m', l2: storeFor(prefix) })
    const scope = createScope()
    expect(await a.get('42', { scope })).toBe(loaded)
    expect(scope.countersFor('signed')).toMatchObject({ l2Skipped: 1, l2Errors: 0 })
    expect(await rawItem(`${prefix}signed:0:k:42`)).toBeUndefined()
    const read = await b.lookup('42')
    expect(read.tier).toBe(Tier.Source)
    expect(read.value).toBe(loadB.mock.results[0]?.value)
    expect(messages).toEqual([expect.stringContaining('cache "signed"')])
    expect(messages[0]).toContain('key "42": value.prices[1].amount is -0')
  })

  test('a value whose UTF-8 is over the item limit, though its characters are not, stays in memory only, counted', async () => {
    const prefix = `${uniqueName('t')}:`
    // 140,000 characters, 420,000 bytes: a limit counted in characters would send it, and DynamoDB refuse it.
    const wide = '€'.repeat(140_000)
    const a = createCache({ name: 'wide', load: () => wide, ttl: '1m', l2: storeFor(prefix, { compressAbove: 10_000_000 }) })
    const scope = createScope()
    expect(await a.get('k', { scope })).toBe(wide)
    expect(scope.countersFor('wide')).toMatchObject({ l2Skipped: 1, l2Errors: 0 })
    expect(await rawItem(`${prefix}wide:0:k:k`)).toBeUndefined()
  })

  test("the longest keys written as they are (250 three-byte characters, a 64-character name, under a prefix of 64 three-byte characters) fit DynamoDB's 2,048-byte key with room to spare, leases too; longer ones go hashed", async () => {
    const prefix = `${'€'.repeat(63)}:`
    const name = `n${'x'.repeat(63)}`
    const longest = '€'.repeat(250)
    const load = jest.fn((key: string) => `value of ${key.length}`)
    const a = createCache({ name, load, ttl: '1m', l2: storeFor(prefix) })
    const b = createCache({ name, load, ttl: '1m', l2: storeFor(prefix) })
    const scope = createScope()
    for (const key of [longest, `${longest}€`]) {
      await a.get(key, { scope })
      expect(await b.lookup(key)).toMatchObject({ value: `value of ${key.length}`, tier: Tier.L2 })
    }
    expect(scope.countersFor(name)).toMatchObject({ l2Errors: 0, loads: 2 })
    const pk = `${prefix}${name}:0:k:${longest}`
    expect(Buffer.byteLength(pk)).toBeLessThan(1_100)
    expect((await rawItem(pk))?.payload?.B).toBeDefined()
  })

  test('an item past its TTL that DynamoDB has not deleted yet is a miss, read alone (GetItem) or in a batch (BatchGetItem)', async () => {
    const prefix = `${uniqueName('t')}:`
    const envelope = Buffer.from(`mc1j{"c":${Date.now()},"t":600000,"w":0,"e":0,"v":"stale"}`)
    for (const key of ['k', 'batched']) {
      await seedClients().dynamodb.send(
        new PutItemCommand({ TableName: table, Item: { pk: { S: `${prefix}late:0:k:${key}` }, payload: { B: envelope }, expiresAt: { N: String(Math.floor(Date.now() / 1_000) - 5) } } }),
      )
    }
    const cache = createCache({ name: 'late', load: () => 'fresh', ttl: '1m', l2: storeFor(prefix) })
    expect(await cache.lookup('k')).toMatchObject({ value: 'fresh', tier: Tier.Source })
    const scope = createScope()
    expect(await cache.getMany(['batched'], { scope })).toEqual(['fresh'])
    expect(scope.countersFor('late')).toMatchObject({ l2Hits: 0, l2Misses: 1, loads: 1 })
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

  test('a role that may read the table but not put items (AccessDeniedException): writes and leases cost an environment one refused request each, then are skipped while reads go on; all is back once it may put', async () => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    try {
      const prefix = `${uniqueName('t')}:`
      const readOnly = dynamoStore({ table, prefix, timeout: '2s', versionCheck: '1h', breaker: { coolDown: '300ms' }, clientConfig: { ...clientConfig(), endpoint: faults.url } })
      opened.push(readOnly)
      const messages: string[] = []
      const cache = createCache({ name: 'read-only', load: (key: string) => `loaded ${key}`, ttl: '1m', l2: readOnly, logger: { warn: (message) => { messages.push(message) } } })
      const writer = createCache({ name: 'read-only', load: (key: string) => `written ${key}`, ttl: '1m', l2: storeFor(prefix) })
      await writer.get('before')
      const putItem = 'DynamoDB_20120810.PutItem'
      faults.inject({ target: putItem, ...awsJsonError('AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/reader/fn is not authorized to perform: dynamodb:PutItem') })

      const first = createScope()
      expect(await cache.get('a', { scope: first })).toBe('loaded a')
      expect(await cache.get('b', { scope: first })).toBe('loaded b')
      expect(first.countersFor('read-only')).toMatchObject({ l2Errors: 2, l2Misses: 2, loads: 2 })
      expect(messages).toEqual([
        expect.stringContaining('refuses to take leases ("User: arn:aws:sts::123456789012:assumed-role/reader/fn is not authorized'),
        expect.stringContaining('refuses writes ("User: arn:aws:sts::123456789012:assumed-role/reader/fn is not authorized'),
      ])
      const next = createScope()
      expect(await cache.get('c', { scope: next })).toBe('loaded c')
      expect(next.countersFor('read-only')).toMatchObject({ l2Errors: 0, l2Misses: 1, l2Operations: 1 })
      expect(faults.requests(putItem)).toEqual({ seen: 2, answered: 2 })
      expect(await cache.lookup('before')).toMatchObject({ value: 'written before', tier: Tier.L2 })
      expect(cache.stats().l2Circuit).toBe('closed')

      faults.clearFaults()
      await sleep(350)
      const back = createScope()
      expect(await cache.get('d', { scope: back })).toBe('loaded d')
      expect(back.countersFor('read-only')).toMatchObject({ l2Errors: 0 })
      expect((await rawItem(`${prefix}read-only:0:k:d`))?.payload?.B).toBeDefined()
    } finally {
      await faults.close()
    }
  })

  // moto answers one request at a time, a few ms each: a timeout that leaves it room, since its speed is not the subject here.
  const hundredMisses = [
    ['through loadMany (one loader call)', true],
    ['without loadMany (the loader called per key)', false],
  ] as const
  test.each(hundredMisses)('a getMany of 100 misses %s reads them, takes their leases and reads what is beside them as a batch: a BatchGetItem, 100 lease puts, a consistent BatchGetItem, the values in 4 BatchWriteItem of 25 and the 100 leases given back; no L2 error, and a second environment then gets all 100 from L2', async (_how, batchLoader) => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    try {
      const prefix = `${uniqueName('t')}:`
      const name = batchLoader ? 'hundred-many' : 'hundred-each'
      const environment = () => {
        const store = dynamoStore({ table, prefix, timeout: '20s', clientConfig: clientConfig(faults.url) })
        opened.push(store)
        const load = jest.fn((key: string) => `value of ${key}`)
        const loadMany = jest.fn((keys: readonly string[]) => Promise.resolve(keys.map((key) => `value of ${key}`)))
        return { cache: createCache({ name, load, ...(batchLoader ? { loadMany } : {}), ttl: '1h', l2: store }), load, loadMany }
      }
      const keys = Array.from({ length: 100 }, (_, index) => `k${index}`)
      const a = environment()
      const first = createScope()
      expect(await a.cache.getMany(keys, { scope: first })).toEqual(keys.map((key) => `value of ${key}`))
      expect(first.countersFor(name)).toMatchObject({ l2Misses: 100, l2Errors: 0, loads: batchLoader ? 1 : 100 })
      expect({ load: a.load.mock.calls.length, loadMany: a.loadMany.mock.calls.length }).toEqual(batchLoader ? { load: 0, loadMany: 1 } : { load: 100, loadMany: 0 })
      const requests = (operation: string) => faults.requests(`DynamoDB_20120810.${operation}`).seen
      // The namespace version (GetItem); the values (BatchGetItem); 100 leases (PutItem), the values beside them (BatchGetItem); 100 values written (BatchWriteItem) and 100 leases given back (DeleteItem).
      expect(Object.fromEntries(['GetItem', 'BatchGetItem', 'PutItem', 'BatchWriteItem', 'DeleteItem'].map((operation) => [operation, requests(operation)]))).toEqual({
        GetItem: 1,
        BatchGetItem: 2,
        PutItem: 100,
        BatchWriteItem: 4,
        DeleteItem: 100,
      })

      const b = environment()
      const second = createScope()
      expect(await b.cache.getMany(keys, { scope: second })).toEqual(keys.map((key) => `value of ${key}`))
      expect(second.countersFor(name)).toMatchObject({ l2Hits: 100, l2Errors: 0, loads: 0 })
      expect(b.load).not.toHaveBeenCalled()
      expect(b.loadMany).not.toHaveBeenCalled()
      for (const key of ['k0', 'k99']) expect(await rawItem(`${prefix}#lease#${name}:0:k:${key}`)).toBeUndefined()
    } finally {
      await faults.close()
    }
  })

  test.each(hundredMisses)("a batch %s whose writes outlast the L2 timeout meets one L2 error, not one per value, and counts one failure toward the breaker; its leases are left to expire rather than meet a second timeout", async (_how, batchLoader) => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    try {
      const name = batchLoader ? 'unwritten-many' : 'unwritten-each'
      const store = dynamoStore({ table, prefix: `${uniqueName('t')}:`, timeout: '2s', versionCheck: '1h', breaker: { failures: 2, coolDown: '1h' }, clientConfig: clientConfig(faults.url) })
      opened.push(store)
      // From the first load on, DynamoDB answers nothing: the leases are taken, the values' writes hang.
      const hangFromNowOn = () => {
        faults.inject({ hang: true })
      }
      const load = jest.fn((key: string) => {
        hangFromNowOn()
        return `value of ${key}`
      })
      const loadMany = jest.fn((keys: readonly string[]) => {
        hangFromNowOn()
        return Promise.resolve(keys.map((key) => `value of ${key}`))
      })
      const cache = createCache({ name, load, ...(batchLoader ? { loadMany } : {}), ttl: '1m', l2: store })
      const keys = Array.from({ length: 30 }, (_, index) => `k${index}`)
      const scope = createScope()
      expect(await cache.getMany(keys, { scope })).toEqual(keys.map((key) => `value of ${key}`))
      expect(scope.countersFor(name)).toMatchObject({ l2Misses: 30, l2Errors: 1, loads: batchLoader ? 1 : 30 })
      expect(cache.stats().l2Circuit).toBe('closed')
      expect(faults.requests('DynamoDB_20120810.BatchWriteItem').seen).toBe(2)
      expect(faults.requests('DynamoDB_20120810.DeleteItem').seen).toBe(0)
    } finally {
      await faults.close()
    }
  })

  test('a batch without loadMany holds no key for another whose loader is slow: each is written and its lease given back once loaded, and another environment reads it meanwhile', async () => {
    const prefix = `${uniqueName('t')}:`
    const slow = deferred<string>()
    const load = jest.fn((key: string) => (key === 'slow' ? slow.promise : `value of ${key}`))
    const a = createCache({ name: 'uneven', load, ttl: '1m', l2: storeFor(prefix, { lease: { ttl: '60s', wait: '10s' } }) })
    const batch = a.getMany(['slow', 'quick-1', 'quick-2'])
    expect(await within(a.getMany(['quick-1', 'quick-2']), 'the quick keys were not served while the slow one loads')).toEqual(['value of quick-1', 'value of quick-2'])
    expect(await rawItem(`${prefix}#lease#uneven:0:k:quick-1`)).toBeUndefined()
    expect(await rawItem(`${prefix}#lease#uneven:0:k:slow`)).toBeDefined()
    const b = createCache({ name: 'uneven', load: () => 'not from L2', ttl: '1m', l2: storeFor(prefix) })
    expect(await b.lookup('quick-2')).toMatchObject({ value: 'value of quick-2', tier: Tier.L2 })
    slow.resolve('value of slow')
    expect(await batch).toEqual(['value of slow', 'value of quick-1', 'value of quick-2'])
    expect(await rawItem(`${prefix}#lease#uneven:0:k:slow`)).toBeUndefined()
    expect(await b.lookup('slow')).toMatchObject({ value: 'value of slow', tier: Tier.L2 })
    expect(load.mock.calls.map(([key]) => key).sort()).toEqual(['quick-1', 'quick-2', 'slow'])
  })

  test("a role granted only the actions the store called before BatchWriteItem (AccessDeniedException on it): one warning that names dynamodb:BatchWriteItem; then a batch's values go one PutItem each, from then on, and reach another environment; a lone get's write goes on as before", async () => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    try {
      const prefix = `${uniqueName('t')}:`
      faults.inject({ target: 'DynamoDB_20120810.BatchWriteItem', ...awsJsonError('AccessDeniedException', deniedTo('BatchWriteItem')) })
      const store = dynamoStore({ table, prefix, timeout: '2s', versionCheck: '1h', breaker: { coolDown: '1h' }, clientConfig: clientConfig(faults.url) })
      opened.push(store)
      const messages: string[] = []
      const cache = createCache({ name: 'no-batch-write', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store, logger: { warn: (message) => { messages.push(message) } } })
      const requests = () => Object.fromEntries(['BatchWriteItem', 'PutItem', 'DeleteItem'].map((operation) => [operation, faults.requests(`DynamoDB_20120810.${operation}`).seen]))

      const first = createScope()
      expect(await cache.getMany(['a', 'b', 'c'], { scope: first })).toEqual(['value of a', 'value of b', 'value of c'])
      // The refused BatchWriteItem is the one error; the values went one by one within the same invocation.
      expect(first.countersFor('no-batch-write')).toMatchObject({ l2Errors: 1, l2Skipped: 0, loads: 3 })
      // 3 lease puts, the refused BatchWriteItem, 3 value puts, 3 leases given back.
      expect(requests()).toEqual({ BatchWriteItem: 1, PutItem: 6, DeleteItem: 3 })
      expect(messages).toHaveLength(1)
      expect(messages[0]).toContain('refuses to write many values in one request')
      expect(messages[0]).toContain('writes now go one item per request until it is granted')
      expect(messages[0]).toContain(`the function's role may not call dynamodb:BatchWriteItem on DynamoDB table "${table}" (AccessDeniedException): allow it`)

      // No BatchWriteItem tried again within the back-off: straight to a PutItem each.
      const next = createScope()
      expect(await cache.getMany(['d', 'e', 'f'], { scope: next })).toEqual(['value of d', 'value of e', 'value of f'])
      expect(next.countersFor('no-batch-write')).toMatchObject({ l2Errors: 0, l2Skipped: 0, loads: 3 })
      expect(requests()).toEqual({ BatchWriteItem: 1, PutItem: 12, DeleteItem: 6 })
      const lone = createScope()
      expect(await cache.get('g', { scope: lone })).toBe('value of g')
      expect(lone.countersFor('no-batch-write')).toMatchObject({ l2Errors: 0, l2Skipped: 0 })
      expect(requests()).toEqual({ BatchWriteItem: 1, PutItem: 14, DeleteItem: 7 })
      expect(messages).toHaveLength(1)

      const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g']
      const load = jest.fn((key: string) => `loaded again ${key}`)
      const other = createCache({ name: 'no-batch-write', load, ttl: '1m', l2: storeFor(prefix) })
      const elsewhere = createScope()
      expect(await other.getMany(keys, { scope: elsewhere })).toEqual(keys.map((key) => `value of ${key}`))
      expect(elsewhere.countersFor('no-batch-write')).toMatchObject({ l2Hits: 7, loads: 0 })
      expect(load).not.toHaveBeenCalled()
      for (const key of keys) expect(await rawItem(`${prefix}#lease#no-batch-write:0:k:${key}`)).toBeUndefined()
    } finally {
      await faults.close()
    }
  })

  test.each([
    ['with leases, whose puts are refused first: the warning about leases, then one about writes', {}, { errors: 3, leasePuts: 3, warnings: 2 }],
    ['without leases: one warning', { lease: false }, { errors: 2, leasePuts: 0, warnings: 1 }],
  ] as const)("a role that may call neither dynamodb:BatchWriteItem nor dynamodb:PutItem, %s, that names both actions and says the values stay in memory; later batches send no write within the back-off, and no environment is served what was not written", async (_how, options, expected) => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    try {
      const prefix = `${uniqueName('t')}:`
      for (const action of ['BatchWriteItem', 'PutItem']) faults.inject({ target: `DynamoDB_20120810.${action}`, ...awsJsonError('AccessDeniedException', deniedTo(action)) })
      const store = dynamoStore({ table, prefix, timeout: '2s', versionCheck: '1h', breaker: { coolDown: '1h' }, clientConfig: clientConfig(faults.url), ...options })
      opened.push(store)
      const messages: string[] = []
      const cache = createCache({ name: 'no-write', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store, logger: { warn: (message) => { messages.push(message) } } })
      const requests = () => Object.fromEntries(['BatchWriteItem', 'PutItem', 'DeleteItem'].map((operation) => [operation, faults.requests(`DynamoDB_20120810.${operation}`).seen]))

      const first = createScope()
      expect(await cache.getMany(['a', 'b', 'c'], { scope: first })).toEqual(['value of a', 'value of b', 'value of c'])
      // Each refusal is one error: the leases' (when taken), the BatchWriteItem, the PutItem each it fell back to.
      expect(first.countersFor('no-write')).toMatchObject({ l2Errors: expected.errors, loads: 3 })
      expect(requests()).toEqual({ BatchWriteItem: 1, PutItem: expected.leasePuts + 3, DeleteItem: 0 })
      expect(messages).toHaveLength(expected.warnings)
      const writes = messages.at(-1) ?? ''
      expect(writes).toContain('refuses writes, of many values in one request and of one value per request')
      expect(writes).toContain('is not authorized to perform: dynamodb:BatchWriteItem')
      expect(writes).toContain('is not authorized to perform: dynamodb:PutItem')
      expect(writes).toContain("values stay in this environment's memory only (counted in l2Skipped)")
      expect(writes).toContain(`the function's role may not call dynamodb:BatchWriteItem on DynamoDB table "${table}"`)
      expect(writes).not.toContain('one item per request until it is granted')
      // The advice to allow PutItem comes once per store: with the leases' warning when they were refused first, else here.
      expect(messages.filter((message) => message.includes(`the function's role may not call dynamodb:PutItem on DynamoDB table "${table}"`))).toHaveLength(1)

      const next = createScope()
      expect(await cache.getMany(['d', 'e', 'f'], { scope: next })).toEqual(['value of d', 'value of e', 'value of f'])
      expect(next.countersFor('no-write')).toMatchObject({ l2Errors: 0, l2Skipped: 3, loads: 3 })
      expect(requests()).toEqual({ BatchWriteItem: 1, PutItem: expected.leasePuts + 3, DeleteItem: 0 })
      expect(messages).toHaveLength(expected.warnings)

      const keys = ['a', 'b', 'c', 'd', 'e', 'f']
      for (const key of keys) expect(await cache.lookup(key)).toMatchObject({ value: `value of ${key}`, tier: Tier.L1 })
      const other = createCache({ name: 'no-write', load: (key: string) => `loaded elsewhere ${key}`, ttl: '1m', l2: storeFor(prefix) })
      const elsewhere = createScope()
      expect(await other.getMany(keys, { scope: elsewhere })).toEqual(keys.map((key) => `loaded elsewhere ${key}`))
      expect(elsewhere.countersFor('no-write')).toMatchObject({ l2Hits: 0, loads: 6 })
    } finally {
      await faults.close()
    }
  })

  test("a role refused dynamodb:BatchWriteItem after its writes (PutItem) were refused: the warning about BatchWriteItem says the values stay in memory, not that they go one per request, and none is sent one per request", async () => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    try {
      for (const action of ['BatchWriteItem', 'PutItem']) faults.inject({ target: `DynamoDB_20120810.${action}`, ...awsJsonError('AccessDeniedException', deniedTo(action)) })
      const store = dynamoStore({ table, prefix: `${uniqueName('t')}:`, timeout: '2s', versionCheck: '1h', breaker: { coolDown: '1h' }, lease: false, clientConfig: clientConfig(faults.url) })
      opened.push(store)
      const messages: string[] = []
      const cache = createCache({ name: 'writes-first', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store, logger: { warn: (message) => { messages.push(message) } } })
      expect(await cache.get('lone')).toBe('value of lone')
      expect(messages).toEqual([expect.stringContaining('refuses writes ("User: arn:aws:sts::123456789012:assumed-role/shop/fn is not authorized to perform: dynamodb:PutItem')])

      const scope = createScope()
      expect(await cache.getMany(['a', 'b'], { scope })).toEqual(['value of a', 'value of b'])
      expect(scope.countersFor('writes-first')).toMatchObject({ l2Errors: 1, l2Skipped: 2 })
      expect(faults.requests('DynamoDB_20120810.PutItem').seen).toBe(1)
      expect(faults.requests('DynamoDB_20120810.BatchWriteItem').seen).toBe(1)
      expect(messages).toHaveLength(2)
      expect(messages[1]).toContain('refuses to write many values in one request ("User: arn:aws:sts::123456789012:assumed-role/shop/fn is not authorized to perform: dynamodb:BatchWriteItem')
      expect(messages[1]).toContain("values stay in this environment's memory only (counted in l2Skipped)")
      expect(messages[1]).not.toContain('one item per request until it is granted')
    } finally {
      await faults.close()
    }
  })

  test('a role granted dynamodb:BatchWriteItem once it was refused: batches within the back-off write one PutItem each; the first batch after it asks with BatchWriteItem again and, answered, writes with it, as every batch after does', async () => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    const time = movableTime()
    try {
      const prefix = `${uniqueName('t')}:`
      faults.inject({ target: 'DynamoDB_20120810.BatchWriteItem', times: 1, ...awsJsonError('AccessDeniedException', deniedTo('BatchWriteItem')) })
      const store = dynamoStore({ table, prefix, timeout: '2s', versionCheck: '1h', breaker: { coolDown: '1m' }, clientConfig: clientConfig(faults.url) })
      opened.push(store)
      const messages: string[] = []
      const cache = createCache({ name: 'granted', load: (key: string) => `value of ${key}`, ttl: '1h', l2: store, logger: { warn: (message) => { messages.push(message) } } })
      const requests = () => Object.fromEntries(['BatchWriteItem', 'PutItem'].map((operation) => [operation, faults.requests(`DynamoDB_20120810.${operation}`).seen]))
      const batch = async (keys: readonly string[]) => {
        const scope = createScope()
        expect(await cache.getMany(keys, { scope })).toEqual(keys.map((key) => `value of ${key}`))
        return scope.countersFor('granted')
      }

      // Refused: 3 lease puts, the BatchWriteItem, 3 value puts.
      expect(await batch(['a', 'b', 'c'])).toMatchObject({ l2Errors: 1 })
      expect(requests()).toEqual({ BatchWriteItem: 1, PutItem: 6 })
      time.advance(59_000)
      expect(await batch(['d', 'e', 'f'])).toMatchObject({ l2Errors: 0 })
      expect(requests()).toEqual({ BatchWriteItem: 1, PutItem: 12 })

      time.advance(1_000)
      // The back-off has passed: BatchWriteItem asked again, answered; only the 3 lease puts went one by one.
      expect(await batch(['g', 'h', 'i'])).toMatchObject({ l2Errors: 0 })
      expect(requests()).toEqual({ BatchWriteItem: 2, PutItem: 15 })
      expect(await batch(['j', 'k', 'l'])).toMatchObject({ l2Errors: 0 })
      expect(requests()).toEqual({ BatchWriteItem: 3, PutItem: 18 })
      expect(messages).toEqual([expect.stringContaining('refuses to write many values in one request')])

      const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l']
      const other = createCache({ name: 'granted', load: (key: string) => `loaded elsewhere ${key}`, ttl: '1h', l2: storeFor(prefix) })
      const elsewhere = createScope()
      expect(await other.getMany(keys, { scope: elsewhere })).toEqual(keys.map((key) => `value of ${key}`))
      expect(elsewhere.countersFor('granted')).toMatchObject({ l2Hits: 12, loads: 0 })
    } finally {
      jest.restoreAllMocks()
      await faults.close()
    }
  })

  test("a batch one of whose lease puts DynamoDB throttles meets one L2 error, loads its keys at once in one loadMany call, and leaves none of the leases it took held", async () => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    try {
      const prefix = `${uniqueName('t')}:`
      const store = dynamoStore({ table, prefix, timeout: '20s', versionCheck: '1h', lease: { ttl: '60s', wait: '2s' }, clientConfig: clientConfig(faults.url) })
      opened.push(store)
      const loadMany = jest.fn((keys: readonly string[]) => Promise.resolve(keys.map((key) => `value of ${key}`)))
      const cache = createCache({ name: 'throttled-batch', load: (key: string) => `value of ${key}`, loadMany, ttl: '1m', l2: store })
      await cache.get('warm')
      faults.inject({ target: 'DynamoDB_20120810.PutItem', times: 1, ...awsJsonError('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.') })
      const keys = Array.from({ length: 40 }, (_, index) => `k${index}`)
      const scope = createScope()
      expect(await cache.getMany(keys, { scope })).toEqual(keys.map((key) => `value of ${key}`))
      expect(scope.countersFor('throttled-batch')).toMatchObject({ l2Misses: 40, l2Errors: 1, loads: 1 })
      expect(loadMany).toHaveBeenCalledTimes(1)
      const other = storeFor(prefix)
      const attempts = await other.acquireLeases!(keys.map((key) => `throttled-batch:0:k:${key}`), 'next', 60_000, new AbortController().signal)
      expect(attempts.filter(({ acquired }) => !acquired)).toEqual([])
    } finally {
      await faults.close()
    }
  })

  test('a role that may not delete items (AccessDeniedException on DeleteItem): one warning that names dynamodb:DeleteItem; the lease taken before is expired in place with a put under its token, not left until its ttl; then misses load without a lease', async () => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    try {
      const prefix = `${uniqueName('t')}:`
      const denied = 'User: arn:aws:sts::123456789012:assumed-role/shop/fn is not authorized to perform: dynamodb:DeleteItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/cache because no identity-based policy allows the dynamodb:DeleteItem action'
      faults.inject({ target: 'DynamoDB_20120810.DeleteItem', ...awsJsonError('AccessDeniedException', denied) })
      const store = dynamoStore({ table, prefix, timeout: '2s', versionCheck: '1h', lease: { ttl: '60s', wait: '2s' }, clientConfig: clientConfig(faults.url) })
      opened.push(store)
      const messages: string[] = []
      const cache = createCache({ name: 'no-delete', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store, logger: { warn: (message) => { messages.push(message) } } })

      const first = createScope()
      expect(await cache.get('a', { scope: first })).toBe('value of a')
      expect(first.countersFor('no-delete')).toMatchObject({ l2Errors: 1, loads: 1 })
      // Another environment takes the key's lease at once, not after its 60 s.
      expect((await storeFor(prefix).acquireLease('no-delete:0:k:a', 'next', 60_000, new AbortController().signal)).acquired).toBe(true)
      expect(messages).toHaveLength(1)
      expect(messages[0]).toContain('refuses to give leases back')
      expect(messages[0]).toContain(`the function's role may not call dynamodb:DeleteItem on DynamoDB table "${table}" (AccessDeniedException): allow it`)

      const next = createScope()
      expect(await cache.get('b', { scope: next })).toBe('value of b')
      expect(next.countersFor('no-delete')).toMatchObject({ l2Errors: 0, loads: 1 })
      expect(faults.requests('DynamoDB_20120810.DeleteItem')).toEqual({ seen: 1, answered: 1 })
      expect(await rawItem(`${prefix}#lease#no-delete:0:k:b`)).toBeUndefined()
      expect(messages).toHaveLength(1)
    } finally {
      await faults.close()
    }
  })

  test("a miss waiting for another environment's load polls with one consistent read of the value and the lease (BatchGetItem), no conditional put: its one PutItem is its first try at the lease, and it gets the value once written", async () => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    const client = new DynamoDBClient(clientConfig(faults.url))
    try {
      const prefix = `${uniqueName('t')}:`
      const lease = { ttl: '60s', wait: '10s' } as const
      const loading = deferred<string>()
      const started = deferred<undefined>()
      const holder = createCache({ name: 'polled', load: () => { started.resolve(undefined); return loading.promise }, ttl: '1m', l2: storeFor(prefix, { lease }) })
      const held = holder.get('k')
      await within(started.promise, 'the holder did not load')
      // The waiter's requests: its version, its value, its try at the lease and the value beside it, then its polls.
      const polled = deferred<undefined>()
      let sent = 0
      client.middlewareStack.add(
        (next) => (args) => {
          if (++sent === 12) polled.resolve(undefined)
          return next(args)
        },
        { step: 'initialize', name: 'countRequests' },
      )
      const waitingStore = dynamoStore({ table, prefix, timeout: '2s', lease, client })
      opened.push(waitingStore)
      await waiterTakesHoldersValue(waitingStore, { held, loading, polled: polled.promise })
      expect(faults.requests('DynamoDB_20120810.PutItem').seen).toBe(1)
      expect(faults.requests('DynamoDB_20120810.BatchGetItem').seen).toBeGreaterThanOrEqual(8)
    } finally {
      client.destroy()
      await faults.close()
    }
  })

  test('a waiter whose holder gives the lease back without a value (its load failed) sees the lease gone and takes it at once', async () => {
    const prefix = `${uniqueName('t')}:`
    const lease = { ttl: '60s', wait: '10s' } as const
    const failing = deferred<string>()
    const started = deferred<undefined>()
    const holder = createCache({ name: 'handed-over', load: () => { started.resolve(undefined); return failing.promise }, ttl: '1m', l2: storeFor(prefix, { lease }) })
    const held = holder.get('k').catch((error: unknown) => error)
    await within(started.promise, 'the holder did not load')
    const waiterStore = storeFor(prefix, { lease })
    const triedLease = deferred<boolean>()
    const acquireLease = waiterStore.acquireLease.bind(waiterStore)
    jest.spyOn(waiterStore, 'acquireLease').mockImplementationOnce(async (...request) => {
      const attempt = await acquireLease(...request)
      triedLease.resolve(attempt.acquired)
      return attempt
    })
    const waiting = createCache({ name: 'handed-over', load: () => 'loaded by the waiter', ttl: '1m', l2: waiterStore })
    const waited = waiting.lookup('k')
    expect(await within(triedLease.promise, 'the waiter did not try the lease')).toBe(false)
    failing.reject(new Error('source down for the holder'))
    expect(await held).toMatchObject({ name: 'CacheLoadError' })
    // Without the handover the waiter would wait out the 10 s lease wait.
    expect(await within(waited, 'the waiter did not take over', 5_000)).toMatchObject({ value: 'loaded by the waiter', tier: Tier.Source })
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

  test('the lease keeps 5 environments batching the same 3 keys without loadMany to one load of each', async () => {
    const prefix = `${uniqueName('t')}:`
    const loaded: string[] = []
    const load = async (key: string) => {
      loaded.push(key)
      await sleep(100)
      return `value of ${key}`
    }
    const caches = Array.from({ length: 5 }, () => createCache({ name: 'batch-stampede', load, ttl: '1m', l2: storeFor(prefix, { lease: { ttl: '10s', wait: '10s' } }) }))
    const answers = await Promise.all(caches.map((cache) => cache.getMany(['a', 'b', 'c'])))
    expect(answers).toEqual(Array.from({ length: 5 }, () => ['value of a', 'value of b', 'value of c']))
    expect(loaded.sort()).toEqual(['a', 'b', 'c'])
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

describe('a slow or throttled DynamoDB', () => {
  test('slower than the timeout: an invocation that gets from two caches on the store, sets, deletes and clears meets one L2 timeout in all, and loads', async () => {
    const target = new URL(process.env.AWS_ENDPOINT_URL ?? '')
    const proxy = await startTcpProxy({ target: { host: target.hostname, port: Number(target.port) } })
    try {
      // A timeout the warm-up's round trips to moto do not meet on a busy machine; the latency below is
      // past it, with a second to spare for a late timer.
      const store = dynamoStore({ table, prefix: `${uniqueName('t')}:`, timeout: '1s', versionCheck: '1h', clientConfig: clientConfig(proxy.url('http')) })
      opened.push(store)
      const load = (key: string) => `value of ${key}`
      const products = createCache({ name: 'products', load, ttl: '1m', l2: store })
      const prices = createCache({ name: 'prices', load, ttl: '1m', l2: store })
      await products.get('warm')
      await prices.get('warm')
      proxy.setLatency(1_000)

      const scope = createScope()
      expect(await products.get('a', { scope })).toBe('value of a')
      expect(await prices.get('b', { scope })).toBe('value of b')
      expect(await products.getMany(['c', 'd'], { scope })).toEqual(['value of c', 'value of d'])
      await products.set('e', 'set', { scope })
      await prices.delete('b', { scope })
      await products.clear({ scope })
      const [ofProducts, ofPrices] = [scope.countersFor('products'), scope.countersFor('prices')]
      expect({ operations: ofProducts.l2Operations + ofPrices.l2Operations, errors: ofProducts.l2Errors + ofPrices.l2Errors }).toEqual({ operations: 1, errors: 1 })
      expect(ofProducts.loads + ofPrices.loads).toBe(4)
      expect(products.stats().l2Circuit).toBe('closed')
    } finally {
      await proxy.close()
    }
  })

  test("throttled (the store's own client makes one attempt): breaker.failures invocations each meet one refusal, then the open circuit keeps requests off the table until a probe after coolDown closes it", async () => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    try {
      const store = dynamoStore({ table, prefix: `${uniqueName('t')}:`, timeout: '2s', versionCheck: '1h', breaker: { failures: 3, coolDown: '300ms' }, clientConfig: clientConfig(faults.url) })
      opened.push(store)
      const cache = createCache({ name: 'throttled-breaker', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store })
      await cache.get('warm')
      const getItem = 'DynamoDB_20120810.GetItem'
      const before = faults.requests(getItem).seen
      faults.inject({ target: getItem, ...awsJsonError('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.') })
      const errors: number[] = []
      for (const key of ['a', 'b', 'c', 'd', 'e']) {
        const scope = createScope()
        expect(await cache.get(key, { scope })).toBe(`value of ${key}`)
        errors.push(scope.countersFor('throttled-breaker').l2Errors)
      }
      expect(errors).toEqual([1, 1, 1, 0, 0])
      expect(faults.requests(getItem).seen - before).toBe(3)
      expect(cache.stats().l2Circuit).toBe('open')

      faults.clearFaults()
      await sleep(350)
      const probe = createScope()
      expect(await cache.get('f', { scope: probe })).toBe('value of f')
      expect(probe.countersFor('throttled-breaker')).toMatchObject({ l2Errors: 0, l2Misses: 1 })
      expect(cache.stats().l2Circuit).toBe('closed')
    } finally {
      await faults.close()
    }
  })
})

describe('a misconfigured table: one warning that says what to fix, the values loaded as without L2', () => {
  /** Two caches on one store, read by invocations of their own; a key and a value a log must never see. */
  const readThrough = async (store: L2Store) => {
    opened.push(store)
    const messages: string[] = []
    const logger = { warn: (message: string) => { messages.push(message) } }
    const load = (key: string) => `value of ${key}`
    const caches = ['profiles', 'carts'].map((name) => createCache({ name, load, ttl: '1m', l2: store, logger }))
    const values: string[] = []
    const errors: number[] = []
    for (const cache of caches) {
      for (const key of ['user-7a1c@example.com', 'user-7a1c@example.com', 'user-9f2e@example.com']) {
        const scope = createScope()
        values.push(await cache.get(key, { scope }))
        errors.push(scope.countersFor(cache.name).l2Errors)
      }
    }
    expect(values).toEqual([1, 2].flatMap(() => ['value of user-7a1c@example.com', 'value of user-7a1c@example.com', 'value of user-9f2e@example.com']))
    // Still counted: the warning comes beside the metric, not instead of it.
    expect(errors.some((count) => count > 0)).toBe(true)
    expect(messages).toHaveLength(1)
    expect(messages[0]).not.toContain('user-')
    return messages[0] ?? ''
  }
  const storeOn = (tableName: string, options: { keyAttribute?: string; endpoint?: string } = {}) =>
    dynamoStore({ table: tableName, prefix: `${uniqueName('t')}:`, timeout: '2s', clientConfig: clientConfig(options.endpoint), ...(options.keyAttribute === undefined ? {} : { keyAttribute: options.keyAttribute }) })

  test('a table that does not exist (ResourceNotFoundException): named, with the schema to create it', async () => {
    const absent = uniqueName('absent')
    const message = await readThrough(storeOn(absent))
    expect(message).toContain(`cache "profiles" cannot use its shared tier: DynamoDB table "${absent}" does not exist`)
    expect(message).toContain('ResourceNotFoundException')
    expect(message).toContain('create it, with a string partition key named "pk", no sort key and TTL on "expiresAt"')
  })

  test('a table whose partition key is not keyAttribute (ValidationException): named, with the option to set', async () => {
    const other = uniqueName('by-id')
    await createTable(other, 'id', { ttlAttribute: 'expiresAt' })
    const message = await readThrough(storeOn(other))
    expect(message).toContain(`DynamoDB table "${other}" refuses the store's items (ValidationException)`)
    expect(message).toContain('set dynamoStore\'s keyAttribute to the table\'s partition key')
  })

  test('a table with a sort key (ValidationException): named, as a schema the store cannot use', async () => {
    const sorted = uniqueName('sorted')
    await createTable(sorted, 'pk', { sortKey: 'sk', ttlAttribute: 'expiresAt' })
    const message = await readThrough(storeOn(sorted))
    expect(message).toContain(`DynamoDB table "${sorted}" refuses the store's items (ValidationException): its key schema must be a string partition key named "pk", no sort key`)
  })

  test('a role without a permission (AccessDeniedException, as DynamoDB answers it): the action AWS names, with every action the store calls', async () => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    try {
      const denied = 'User: arn:aws:sts::123456789012:assumed-role/shop/fn is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/cache'
      faults.inject({ target: 'DynamoDB_20120810.GetItem', ...awsJsonError('AccessDeniedException', denied) })
      const message = await readThrough(storeOn(table, { endpoint: faults.url }))
      expect(message).toContain(`the function's role may not call dynamodb:GetItem on DynamoDB table "${table}" (AccessDeniedException): allow it (the store calls dynamodb:GetItem, dynamodb:BatchGetItem`)
    } finally {
      await faults.close()
    }
  })

  test('each kind is warned of once: permissions granted later, the table still missing, warns again; a refusal that names no action asks for them all', async () => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    try {
      faults.inject({ target: 'DynamoDB_20120810.GetItem', times: 1, ...awsJsonError('AccessDeniedException', 'not authorized') })
      const store = storeOn(uniqueName('absent'), { endpoint: faults.url })
      opened.push(store)
      const messages: string[] = []
      const cache = createCache({ name: 'kinds', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store, logger: { warn: (message) => { messages.push(message) } } })
      for (const key of ['a', 'b']) expect(await cache.get(key, { scope: createScope() })).toBe(`value of ${key}`)
      expect(messages.map((message) => /\((\w+Exception)\)/.exec(message)?.[1])).toEqual(['AccessDeniedException', 'ResourceNotFoundException'])
      expect(messages[0]).toContain('(AccessDeniedException): allow its role dynamodb:GetItem, dynamodb:BatchGetItem, dynamodb:PutItem, dynamodb:BatchWriteItem, dynamodb:UpdateItem and dynamodb:DeleteItem on the table')
    } finally {
      await faults.close()
    }
  })

  test("an item refused as too large (ValidationException, as moto answers past its 405,000 bytes) is the value's fault, not the key schema's: no warning, and a schema refused later is still warned of", async () => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    try {
      const store = dynamoStore({ table, prefix: `${uniqueName('t')}:`, timeout: '2s', lease: false, clientConfig: clientConfig(faults.url) })
      opened.push(store)
      const messages: string[] = []
      const cache = createCache({ name: 'too-large', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store, logger: { warn: (message) => { messages.push(message) } } })
      faults.inject({ target: 'DynamoDB_20120810.PutItem', times: 1, ...awsJsonError('ValidationException', 'Item size has exceeded the maximum allowed size') })
      const refused = createScope()
      expect(await cache.get('a', { scope: refused })).toBe('value of a')
      expect(refused.countersFor('too-large').l2Errors).toBe(1)
      expect(faults.requests('DynamoDB_20120810.PutItem')).toEqual({ seen: 1, answered: 1 })
      expect(messages).toEqual([])

      faults.inject({ target: 'DynamoDB_20120810.GetItem', ...awsJsonError('ValidationException', 'The provided key element does not match the schema') })
      expect(await cache.get('b', { scope: createScope() })).toBe('value of b')
      expect(messages).toEqual([expect.stringContaining("refuses the store's items (ValidationException): its key schema must be")])
    } finally {
      await faults.close()
    }
  })

  test('a failure of the moment (throttled) is counted, with no warning', async () => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    try {
      faults.inject({ target: 'DynamoDB_20120810.GetItem', ...awsJsonError('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.') })
      const store = storeOn(table, { endpoint: faults.url })
      opened.push(store)
      const messages: string[] = []
      const cache = createCache({ name: 'throttled', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store, logger: { warn: (message) => { messages.push(message) } } })
      const scope = createScope()
      expect(await cache.get('a', { scope })).toBe('value of a')
      expect(scope.countersFor('throttled').l2Errors).toBe(1)
      expect(messages).toEqual([])
    } finally {
      await faults.close()
    }
  })
})
