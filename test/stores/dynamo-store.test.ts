import { PutItemCommand } from '@aws-sdk/client-dynamodb'
import { dynamoStore, type DynamoStoreOptions, type L2Store } from '../../entrypoints/dynamodb.js'
import { createTable, destroySeedClients, seedClients, uniqueName } from '../harness/index.js'

const signal = new AbortController().signal
const table = uniqueName('store')
const opened: L2Store[] = []
const clientConfig = () => ({
  endpoint: process.env.AWS_ENDPOINT_URL ?? '',
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
})
const storeWith = (prefix = `${uniqueName('p')}:`): L2Store => {
  const store = dynamoStore({ table, prefix, clientConfig: clientConfig(), timeout: '2s' })
  opened.push(store)
  return store
}

beforeAll(async () => {
  await createTable(table, 'pk', { ttlAttribute: 'expiresAt' })
})

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()))
  destroySeedClients()
})

describe('dynamoStore options, checked at construction', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no table', {}, /option "table" must be a DynamoDB table name/],
    ['a key attribute the store uses itself', { table: 'cache', keyAttribute: 'payload' }, /option "keyAttribute" must be an attribute name other than payload/],
    ['the same key and TTL attribute', { table: 'cache', keyAttribute: 'id', ttlAttribute: 'id' }, /option "ttlAttribute" must differ from keyAttribute/],
    ['a client and client options', { table: 'cache', client: {}, clientConfig: {} }, /option "client" must be a DynamoDBClient/],
    ['a misspelt option', { table: 'cache', consistentReads: true }, /option "consistentReads" is not an option \(did you mean "consistentRead"\?\)/],
  ]
  test.each(cases)('%s', (_, options, message) => {
    expect(() => dynamoStore(options as unknown as DynamoStoreOptions)).toThrow(message)
  })

  test('defaults: a 150 ms timeout and room for the item limit', () => {
    expect(dynamoStore({ table: 'cache' }).settings).toMatchObject({ timeoutMs: 150, maxPayloadBytes: 400 * 1024 - 2_048 })
  })
})

describe('the DynamoDB store on moto', () => {
  test('set, get, getMany and delete', async () => {
    const store = storeWith()
    await store.set('a', Buffer.from('1'), 60_000, signal)
    await store.set('b', Buffer.from('2'), 60_000, signal)
    expect(Buffer.from((await store.get('a', signal)) ?? []).toString()).toBe('1')
    const many = await store.getMany(['b', 'missing', 'a', 'b'], signal)
    expect(many.map((payload) => (payload === undefined ? undefined : Buffer.from(payload).toString()))).toEqual(['2', undefined, '1', '2'])
    await store.delete('a', signal)
    expect(await store.get('a', signal)).toBeUndefined()
  })

  test('a lease is taken once, released only with its token, and taken over once past its time', async () => {
    const prefix = `${uniqueName('p')}:`
    const store = storeWith(prefix)
    expect(await store.acquireLease('k', 'first', 60_000, signal)).toEqual({ acquired: true, payload: undefined })
    await store.set('k', Buffer.from('written'), 60_000, signal)
    const second = await store.acquireLease('k', 'second', 60_000, signal)
    expect(second.acquired).toBe(false)
    expect(Buffer.from(second.payload ?? []).toString()).toBe('written')
    await store.releaseLease('k', 'second', signal)
    expect((await store.acquireLease('k', 'third', 60_000, signal)).acquired).toBe(false)
    await store.releaseLease('k', 'first', signal)
    expect((await store.acquireLease('k', 'third', 60_000, signal)).acquired).toBe(true)

    await seedClients().dynamodb.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: `${prefix}#lease#old` }, leaseToken: { S: 'crashed' }, leaseUntil: { N: String(Date.now() - 1) } } }),
    )
    expect((await store.acquireLease('old', 'successor', 60_000, signal)).acquired).toBe(true)
  })

  test('counters start at 0 and increment', async () => {
    const store = storeWith()
    expect(await store.readCounter('c', signal)).toBe(0)
    expect(await store.incrementCounter('c', signal)).toBe(1)
    expect(await store.incrementCounter('c', signal)).toBe(2)
    expect(await store.readCounter('c', signal)).toBe(2)
  })

  test('an aborted operation rejects', async () => {
    const store = storeWith()
    const controller = new AbortController()
    controller.abort()
    await expect(store.get('k', controller.signal)).rejects.toThrow()
  })
})
