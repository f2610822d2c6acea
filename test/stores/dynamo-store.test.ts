import { PutItemCommand } from '@aws-sdk/client-dynamodb'
import { dynamoStore, type DynamoStoreOptions, type L2Store } from '../../entrypoints/dynamodb.js'
import { createTable, destroySeedClients, seedClients, uniqueName } from '../harness/index.js'
import { l2StoreContract } from '../support/l2-store-contract.js'

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
    ['client options that are no object', { table: 'cache', clientConfig: 'eu-west-1' }, /option "clientConfig" must be DynamoDB client options such as \{ region: 'eu-west-1' \}; got "eu-west-1"/],
    // Only undefined is left out: null is refused, as it is for every other option.
    ['a null prefix', { table: 'cache', prefix: null }, /option "prefix" must be a string of up to 64 characters; got null/],
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
  l2StoreContract(() => storeWith())

  test('a lease past its time is taken over: a crashed holder never blocks the key', async () => {
    const prefix = `${uniqueName('p')}:`
    const store = storeWith(prefix)
    await seedClients().dynamodb.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: `${prefix}#lease#old` }, leaseToken: { S: 'crashed' }, leaseUntil: { N: String(Date.now() - 1) } } }),
    )
    expect((await store.acquireLease('old', 'successor', 60_000, signal)).acquired).toBe(true)
    expect((await store.acquireLease('old', 'third', 60_000, signal)).acquired).toBe(false)
  })

  test('once closed, an operation (a lease given back late, say) fails with a clear error rather than make a client nobody destroys', async () => {
    const store = storeWith()
    await store.set('k', new Uint8Array([1]), 60_000, signal)
    await store.close()
    await expect(store.get('k', signal)).rejects.toThrow('middy-cache: this dynamoStore was closed')
    await expect(store.releaseLease('k', 'token', signal)).rejects.toThrow('middy-cache: this dynamoStore was closed')
  })

  test('an aborted operation rejects', async () => {
    const store = storeWith()
    const controller = new AbortController()
    controller.abort()
    await expect(store.get('k', controller.signal)).rejects.toThrow()
  })
})
