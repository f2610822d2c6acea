import middy from '@middy/core'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3'
import { mockClient } from 'aws-sdk-client-mock'
import { dataCache } from '../../middlewares/data-cache.js'
import { dynamoItem } from '../../entrypoints/dynamodb.js'
import { s3Object } from '../../entrypoints/s3.js'
import { CacheLoadError } from '../../src/index.js'
import { createBucket, createTable, destroySeedClients, putItems, putObject, uniqueName } from '../harness/index.js'
import { countCommands } from '../support/aws-commands.js'
import { invoke } from '../support/invoke.js'
import { anotherCopyOf } from '../support/sdk-copy.js'
import { testClients } from '../support/sdk-clients.js'

const clientConfig = () => ({
  endpoint: process.env.AWS_ENDPOINT_URL ?? '',
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
})

const clients = testClients()

afterEach(() => {
  clients.destroyAll()
})

afterAll(() => {
  destroySeedClients()
})

describe('dynamoItem', () => {
  const products = uniqueName('products')
  const counters = uniqueName('counters')
  const blobs = uniqueName('blobs')

  beforeAll(async () => {
    await createTable(products, 'id')
    await createTable(counters, 'n', { keyType: 'N' })
    await createTable(blobs, 'b', { keyType: 'B' })
    await putItems(products, [
      { id: 'p1', name: 'Lamp', price: 12.5, stock: 3, active: true, discontinued: null, tags: ['desk', 'light'], size: { w: 10, h: 30 } },
      ...Array.from({ length: 150 }, (_, index) => ({ id: `bulk-${index}`, name: `Bulk ${index}`, price: index })),
    ])
    // Written as DynamoDB answers it: 10^21 in full, where JavaScript writes 1e+21.
    await putItems(counters, [{ n: 7, label: 'seven' }, { n: 10n ** 21n, label: 'sextillion' }])
    await putItems(blobs, [{ b: Buffer.from('a'), label: 'a' }])
  })

  test('eagerly loads an item by its string partition key, as plain values; a missing item is undefined', async () => {
    const handler = middy<{ id: string }>()
      .use(dataCache({ name: 'product', key: (event: { id: string }) => event.id, load: dynamoItem({ table: products, key: 'id', clientConfig: clientConfig() }), ttl: '1m' }))
      .handler((_event, context) => Promise.resolve(context.product))
    expect(await invoke(handler, { id: 'p1' })).toEqual({
      id: 'p1', name: 'Lamp', price: 12.5, stock: 3, active: true, discontinued: null, tags: ['desk', 'light'], size: { w: 10, h: 30 },
    })
    expect(await invoke(handler, { id: 'nope' })).toBeUndefined()
  })

  test('getMany reads 150 keys with BatchGetItem (100 a call) in one batch; projection keeps the key attribute', async () => {
    const client = new DynamoDBClient(clientConfig())
    const sent = countCommands(client)
    const ids = Array.from({ length: 150 }, (_, index) => `bulk-${index}`)
    const handler = middy()
      .use(dataCache({ name: 'bulk', load: dynamoItem<{ id: string; name?: string }>({ table: products, key: 'id', attributes: ['name'], client }), ttl: '1m' }))
      .handler((_event, context) => context.caches.bulk.getMany([...ids, 'missing']))
    const items = (await invoke(handler)) as ({ id: string; name?: string } | undefined)[]
    expect(items.slice(0, 150)).toEqual(ids.map((id, index) => ({ id, name: `Bulk ${index}` })))
    expect(items[150]).toBeUndefined()
    expect(Object.fromEntries(sent)).toEqual({ BatchGetItemCommand: 2 })
    client.destroy()
  })

  test('a key function reaches items with other keys (here a number)', async () => {
    const handler = middy()
      .use(dataCache({ name: 'counter', load: dynamoItem({ table: counters, key: (id) => ({ n: Number(id) }), clientConfig: clientConfig() }), ttl: '1m' }))
      .handler(async (_event, context) => ({ one: await context.caches.counter.get('7'), many: await context.caches.counter.getMany(['7', '8']) }))
    expect(await invoke(handler)).toEqual({ one: { n: 7, label: 'seven' }, many: [{ n: 7, label: 'seven' }, undefined] })
  })

  test('cache keys that name one item each get it; the item is asked for once, as BatchGetItem refuses a key named twice', async () => {
    const client = new DynamoDBClient(clientConfig())
    const sent = countCommands(client)
    const handler = middy()
      .use(dataCache({ name: 'counterAliases', load: dynamoItem({ table: counters, key: (id) => ({ n: Number(id) }), client }), ttl: '1m' }))
      .handler((_event, context) => context.caches.counterAliases.getMany(['7', '7.0', '07', '8']))
    const seven = { n: 7, label: 'seven' }
    expect(await invoke(handler)).toEqual([seven, seven, seven, undefined])
    expect(Object.fromEntries(sent)).toEqual({ BatchGetItemCommand: 1 })
    client.destroy()
  })

  test('getMany finds an item whatever form DynamoDB answers its key in: a number in full, bytes sent as a Buffer', async () => {
    const handler = middy()
      .use(dataCache({ name: 'bigCounter', load: dynamoItem({ table: counters, key: (id) => ({ n: Number(id) }), clientConfig: clientConfig() }), ttl: '1m' }))
      .use(dataCache({ name: 'blob', load: dynamoItem({ table: blobs, key: (id) => ({ b: Buffer.from(id) }), clientConfig: clientConfig() }), ttl: '1m' }))
      .handler(async (_event, context) => ({
        counters: await context.caches.bigCounter.getMany(['1e21', '7']),
        blobs: await context.caches.blob.getMany(['a', 'z']),
      }))
    expect(await invoke(handler)).toEqual({
      counters: [{ n: 1e21, label: 'sextillion' }, { n: 7, label: 'seven' }],
      blobs: [{ b: new Uint8Array(Buffer.from('a')), label: 'a' }, undefined],
    })
  })

  test('a key function naming other attributes for some cache keys fails the batch with an error naming both, never matching items by the wrong attributes', async () => {
    const client = new DynamoDBClient(clientConfig())
    const sent = countCommands(client)
    const byKind = (id: string) => (id.startsWith('sku-') ? { sku: id } : { id })
    const handler = middy()
      .use(dataCache({ name: 'mixedKeys', load: dynamoItem({ table: products, key: byKind, client }), ttl: '1m' }))
      .handler((_event, context) => context.caches.mixedKeys.getMany(['p1', 'sku-1']))
    await expect(invoke(handler)).rejects.toThrow(
      'the key function of dynamoItem for table "' + products + '" gave cache key "p1" the attributes [id] and "sku-1" the attributes [sku]',
    )
    expect(Object.fromEntries(sent)).toEqual({})
    client.destroy()
  })

  test('a key no item can have (an empty id, a number that is none) is not found, without asking: DynamoDB would fail every key of its batch', async () => {
    const client = new DynamoDBClient(clientConfig())
    const sent: unknown[] = []
    client.middlewareStack.add((next) => (args) => {
      sent.push(args.input)
      return next(args)
    }, { step: 'initialize', name: 'sentInputs' })
    const handler = middy()
      .use(dataCache({ name: 'productById', load: dynamoItem({ table: products, key: 'id', client }), ttl: '1m' }))
      .use(dataCache({ name: 'counterById', load: dynamoItem({ table: counters, key: (id) => ({ n: Number(id) }), client }), ttl: '1m' }))
      .handler(async (_event, context) => ({
        emptyId: await context.caches.productById.get(''),
        products: await context.caches.productById.getMany(['p1', '']),
        notANumber: await context.caches.counterById.get('seven'),
        counters: await context.caches.counterById.getMany(['7', 'seven', 'Infinity']),
      }))
    expect(await invoke(handler)).toMatchObject({
      emptyId: undefined,
      products: [{ id: 'p1', name: 'Lamp' }, undefined],
      notANumber: undefined,
      counters: [{ n: 7, label: 'seven' }, undefined, undefined],
    })
    expect(sent).toEqual([
      { RequestItems: { [products]: { Keys: [{ id: { S: 'p1' } }] } } },
      { RequestItems: { [counters]: { Keys: [{ n: { N: '7' } }] } } },
    ])
    client.destroy()
  })

  test('a key function that answers no key, or a key attribute of another type, fails with an error naming the table, the cache key and the attribute', async () => {
    const client = new DynamoDBClient(clientConfig())
    const sent = countCommands(client)
    const noKey = dynamoItem({ table: products, key: () => undefined as unknown as Record<string, string>, client })
    const flag = dynamoItem({ table: products, key: (id) => ({ id: id === 'p1' }) as unknown as Record<string, string>, client })
    const handler = middy()
      .use(dataCache({ name: 'noKey', load: noKey, ttl: '1m' }))
      .use(dataCache({ name: 'flagKey', load: flag, ttl: '1m' }))
      .handler(async (_event, context) => Promise.all([
        context.caches.noKey.get('p1').catch((error: unknown) => error),
        context.caches.flagKey.get('p1').catch((error: unknown) => error),
        context.caches.flagKey.getMany(['p1', 'p2']).catch((error: unknown) => error),
      ]))
    const [noKeyError, flagError, flagBatchError] = (await invoke(handler)) as Error[]
    expect(noKeyError?.message).toContain(`the key function of dynamoItem for table "${products}" must return the item's key, such as { id: '1' }; got undefined for cache key "p1"`)
    expect(flagError?.message).toContain(`the key function of dynamoItem for table "${products}" gave cache key "p1" the attribute "id" true; a key attribute is a string, a number or bytes`)
    expect(flagBatchError?.message).toContain('gave cache key "p1" the attribute "id" true')
    expect(Object.fromEntries(sent)).toEqual({})
    client.destroy()
  })

  test('a cache key no item can have (empty, or past the 2,048 bytes of a key) is not found without a request, so it never fails the keys of its batch', async () => {
    // DynamoDB refuses a whole GetItem or BatchGetItem naming such a key (moto checks only GetItem's empty key):
    // one order with an empty SKU in an SQS batch would fail the batch's every lookup.
    const client = new DynamoDBClient(clientConfig())
    const sent = countCommands(client)
    const keysSent: string[] = []
    client.middlewareStack.add(
      (next) => (args) => {
        const input = args.input as { Key?: { id?: { S?: string } }; RequestItems?: Record<string, { Keys?: { id?: { S?: string } }[] }> }
        const keys = input.Key === undefined ? Object.values(input.RequestItems ?? {}).flatMap((request) => request.Keys ?? []) : [input.Key]
        keysSent.push(...keys.map((key) => key.id?.S ?? '?'))
        return next(args)
      },
      { step: 'initialize', name: 'testKeysSent' },
    )
    const tooLong = 'é'.repeat(1_025)
    const handler = middy()
      .use(dataCache({ name: 'impossibleKeys', load: dynamoItem({ table: products, key: 'id', client }), ttl: '1m' }))
      .handler(async (_event, context) => ({
        one: await context.caches.impossibleKeys.get(''),
        many: await context.caches.impossibleKeys.getMany(['p1', '', tooLong, 'x'.repeat(2_048)]),
      }))
    const { one, many } = (await invoke(handler)) as { one: unknown; many: unknown[] }
    expect(one).toBeUndefined()
    expect(many.map((item) => (item as { name?: string } | undefined)?.name)).toEqual(['Lamp', undefined, undefined, undefined])
    expect(keysSent).toEqual(['p1', 'x'.repeat(2_048)])
    expect(Object.fromEntries(sent)).toEqual({ BatchGetItemCommand: 1 })
    client.destroy()
  })

  test('options are checked at construction', () => {
    expect(() => dynamoItem({ table: products, key: '' })).toThrow(/option "key" must be the partition key's attribute name/)
    expect(() => dynamoItem({ table: products, key: 'id', consistent: true } as unknown as Parameters<typeof dynamoItem>[0])).toThrow(/option "consistent" is not an option \(did you mean "consistentRead"\?\)/)
    // Not at the first load: a config that is no object, or one beside a client, which would be ignored.
    expect(() => dynamoItem({ table: products, key: 'id', clientConfig: 'us-east-1' })).toThrow(/option "clientConfig" must be DynamoDB client options such as \{ region: 'eu-west-1' \}; got "us-east-1"/)
    const client = new DynamoDBClient(clientConfig())
    expect(() => dynamoItem({ table: products, key: 'id', client, clientConfig: { region: 'eu-west-1' } })).toThrow(/option "clientConfig" applies to a client the loader makes, not to a 'client' you pass/)
    client.destroy()
  })

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['a table name too short', { table: 'ab' }, /option "table" must be a DynamoDB table name \(3-255 letters, digits, '_', '.' or '-'\) or a table ARN; got "ab"/],
    ['a table name with a space', { table: 'my products' }, /option "table" must be a DynamoDB table name.*got "my products"/],
    ['a table name past 255 characters', { table: 't'.repeat(256) }, /option "table" must be a DynamoDB table name/],
    ['an ARN of something else than a table', { table: 'arn:aws:s3:::products' }, /option "table" must be a DynamoDB table name/],
    ['attributes not an array', { attributes: 'name' }, /option "attributes" must be an array of attribute names, such as \['name', 'price'\]; got "name"/],
    ['an empty attribute name', { attributes: ['name', ''] }, /option "attributes\[1\]" must be an attribute name \(a string of 1 character or more\); got ""/],
    ['an attribute name that is no string', { attributes: [7] }, /option "attributes\[0\]" must be an attribute name.*got 7/],
    ['an attribute named twice', { attributes: ['name', 'price', 'name'] }, /option "attributes\[2\]" names "name" again; each attribute is named once/],
  ])('a table or attributes DynamoDB could never accept are refused at construction, naming the option: %s', (_case, options, message) => {
    expect(() => dynamoItem({ table: products, key: 'id', ...options })).toThrow(message)
  })

  test('a client of another copy of the SDK (a second version in the bundle) is taken, and loads as a client of its own does', async () => {
    const sdk = anotherCopyOf('@aws-sdk/client-dynamodb')
    const client = clients.made(new sdk.DynamoDBClient(clientConfig()))
    expect(client).not.toBeInstanceOf(DynamoDBClient)
    const handler = middy()
      .use(dataCache({ name: 'byCopy', load: dynamoItem({ table: products, key: 'id', attributes: ['name'], client: client }), ttl: '1m' }))
      .handler(async (_event, context) => ({ one: await context.caches.byCopy.get('p1'), many: await context.caches.byCopy.getMany(['bulk-1', 'missing']) }))
    expect(await invoke(handler)).toEqual({ one: { id: 'p1', name: 'Lamp' }, many: [{ id: 'bulk-1', name: 'Bulk 1' }, undefined] })
    // A client of another service is refused still, as DynamoDB would refuse its every request.
    expect(() => dynamoItem({ table: products, key: 'id', client: clients.made(new S3Client(clientConfig())) as unknown as DynamoDBClient })).toThrow(/option "client" must be a DynamoDBClient/)
  })

  test('a table ARN loads as its name does, as the SDK takes one wherever it takes a name', async () => {
    const load = dynamoItem({ table: `arn:aws:dynamodb:us-east-1:123456789012:table/${products}`, key: 'id', attributes: ['name'], clientConfig: clientConfig() })
    const handler = middy()
      .use(dataCache({ name: 'byArn', load, ttl: '1m' }))
      .handler(async (_event, context) => ({ one: await context.caches.byArn.get('p1'), many: await context.caches.byArn.getMany(['bulk-1', 'bulk-2']) }))
    expect(await invoke(handler)).toEqual({ one: { id: 'p1', name: 'Lamp' }, many: [{ id: 'bulk-1', name: 'Bulk 1' }, { id: 'bulk-2', name: 'Bulk 2' }] })
    expect(() => dynamoItem({ table: 'arn:aws-cn:dynamodb:cn-north-1:123456789012:table/Products_2024.v1', key: 'id' })).not.toThrow()
  })
})

describe('s3Object', () => {
  const bucket = uniqueName('catalog')

  beforeAll(async () => {
    await createBucket(bucket)
    await putObject(bucket, 'products/1.json', JSON.stringify({ id: '1', name: 'Lamp' }))
    await putObject(bucket, 'notes/readme.txt', 'plain text')
    await putObject(bucket, 'broken.json', '{ not json')
    await putObject(bucket, 'blob.bin', new Uint8Array([0, 1, 2, 255]))
    // 'café' in Latin-1: its é (0xe9) is no UTF-8.
    await putObject(bucket, 'notes/latin-1.txt', new Uint8Array([...Buffer.from('caf'), 0xe9]))
    await putObject(bucket, 'latin-1.json', new Uint8Array([...Buffer.from('{"name":"caf'), 0xe9, ...Buffer.from('"}')]))
    const byteOrderMark = [0xef, 0xbb, 0xbf]
    await putObject(bucket, 'notes/bom.txt', new Uint8Array([...byteOrderMark, ...Buffer.from('plain text')]))
    await putObject(bucket, 'bom.json', new Uint8Array([...byteOrderMark, ...Buffer.from('{"id":"bom"}')]))
  })

  test('json, text and bytes; a missing object is undefined', async () => {
    const json = s3Object<{ id: string; name: string }>({ bucket, key: (id) => `products/${id}.json`, format: 'json', clientConfig: clientConfig() })
    const text = s3Object({ bucket, clientConfig: clientConfig() })
    const bytes = s3Object({ bucket, format: 'bytes', clientConfig: clientConfig() })
    const handler = middy()
      .use(dataCache({ name: 'json', load: json, ttl: '1m' }))
      .use(dataCache({ name: 'text', load: text, ttl: '1m' }))
      .use(dataCache({ name: 'bytes', load: bytes, ttl: '1m' }))
      .handler(async (_event, context) => ({
        product: await context.caches.json.get('1'),
        missing: await context.caches.json.get('2'),
        note: await context.caches.text.get('notes/readme.txt'),
        blob: [...((await context.caches.bytes.get('blob.bin')) ?? [])],
      }))
    expect(await invoke(handler)).toEqual({ product: { id: '1', name: 'Lamp' }, missing: undefined, note: 'plain text', blob: [0, 1, 2, 255] })
  })

  test("a key no object can have is not found, without a request: an empty key would read the bucket's listing", async () => {
    const client = new S3Client({ ...clientConfig(), forcePathStyle: true })
    const sent = countCommands(client)
    const handler = middy<{ queryStringParameters: { file: string } }>()
      .use(dataCache({ name: 'file', key: (event: { queryStringParameters: { file: string } }) => event.queryStringParameters.file, load: s3Object({ bucket, client }), ttl: '1m' }))
      .handler((_event, context) => Promise.resolve(context.file))
    expect(await invoke(handler, { queryStringParameters: { file: '' } })).toBeUndefined()
    expect(await invoke(handler, { queryStringParameters: { file: 'é'.repeat(513) } })).toBeUndefined()
    expect(Object.fromEntries(sent)).toEqual({})
    expect(await invoke(handler, { queryStringParameters: { file: 'notes/readme.txt' } })).toBe('plain text')
    client.destroy()
  })

  test('a client of another copy of the SDK (a second version in the bundle) is taken: an object loads, a missing one (its copy\'s NoSuchKey) is undefined', async () => {
    const sdk = anotherCopyOf('@aws-sdk/client-s3')
    const client = clients.made(new sdk.S3Client(clientConfig()))
    expect(client).not.toBeInstanceOf(S3Client)
    const load = s3Object<{ id: string }>({ bucket, key: (id) => `products/${id}.json`, format: 'json', client: client })
    const handler = middy()
      .use(dataCache({ name: 'jsonByCopy', load, ttl: '1m' }))
      .handler(async (_event, context) => ({ product: await context.caches.jsonByCopy.get('1'), missing: await context.caches.jsonByCopy.get('2') }))
    expect(await invoke(handler)).toEqual({ product: { id: '1', name: 'Lamp' }, missing: undefined })
    expect(() => s3Object({ bucket, client: clients.made(new DynamoDBClient(clientConfig())) as unknown as S3Client })).toThrow(/option "client" must be an S3Client/)
  })

  test("a missing object is told by the error's name (NoSuchKey), not its class, which another copy of the SDK has its own of", async () => {
    const client = clients.made(new S3Client(clientConfig()))
    const mock = mockClient(client)
    const missing = Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' })
    expect(missing).not.toBeInstanceOf(NoSuchKey)
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' })
    mock.on(GetObjectCommand, { Key: 'gone.txt' }).rejects(missing).on(GetObjectCommand, { Key: 'locked.txt' }).rejects(denied)
    const handler = middy()
      .use(dataCache({ name: 'textByName', load: s3Object({ bucket, client }), ttl: '1m' }))
      .handler(async (_event, context) => ({ gone: await context.caches.textByName.get('gone.txt'), locked: await context.caches.textByName.get('locked.txt').catch((error: unknown) => error) }))
    const { gone, locked } = (await invoke(handler)) as { gone: unknown; locked: unknown }
    expect(gone).toBeUndefined()
    expect(locked).toBeInstanceOf(CacheLoadError)
    expect((locked as Error).cause).toBe(denied)
  })

  test('an object that is not JSON fails the load with a clear cause', async () => {
    const handler = middy()
      .use(dataCache({ name: 'broken', load: s3Object({ bucket, format: 'json', clientConfig: clientConfig() }), ttl: '1m' }))
      .handler((_event, context) => context.caches.broken.get('broken.json'))
    const error: unknown = await invoke(handler).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(CacheLoadError)
    expect((error as Error).message).toMatch(new RegExp(`S3 object "${bucket}/broken.json" is not valid JSON`))
  })

  test('text or JSON in bytes that are not UTF-8 fails the load with an error naming bucket and key, never text with replacement characters', async () => {
    const handler = middy()
      .use(dataCache({ name: 'latinText', load: s3Object({ bucket, clientConfig: clientConfig() }), ttl: '1m' }))
      .use(dataCache({ name: 'latinJson', load: s3Object({ bucket, format: 'json', clientConfig: clientConfig() }), ttl: '1m' }))
      .handler(async (_event, context) => {
        const failure = (load: Promise<unknown>) => load.then(() => undefined, (error: unknown) => error)
        return { text: await failure(context.caches.latinText.get('notes/latin-1.txt')), json: await failure(context.caches.latinJson.get('latin-1.json')) }
      })
    const { text, json } = (await invoke(handler)) as { text: unknown; json: unknown }
    expect(text).toBeInstanceOf(CacheLoadError)
    expect(json).toBeInstanceOf(CacheLoadError)
    expect((text as Error).message).toContain(`S3 object "${bucket}/notes/latin-1.txt" is not UTF-8 text: read it with format: 'bytes'`)
    expect((json as Error).message).toContain(`S3 object "${bucket}/latin-1.json" is not valid JSON: its bytes are not UTF-8 text`)
    for (const error of [text, json]) expect(`${(error as Error).message} ${String((error as Error).cause)}`).not.toContain('caf')
  })

  test('a byte order mark before text or JSON is not part of the value', async () => {
    const handler = middy()
      .use(dataCache({ name: 'bomText', load: s3Object({ bucket, clientConfig: clientConfig() }), ttl: '1m' }))
      .use(dataCache({ name: 'bomJson', load: s3Object<{ id: string }>({ bucket, format: 'json', clientConfig: clientConfig() }), ttl: '1m' }))
      .handler(async (_event, context) => [await context.caches.bomText.get('notes/bom.txt'), await context.caches.bomJson.get('bom.json')])
    expect(await invoke(handler)).toEqual(['plain text', { id: 'bom' }])
  })

  test('options are checked at construction', () => {
    expect(() => s3Object({ bucket, format: 'yaml' } as unknown as Parameters<typeof s3Object>[0])).toThrow(/option "format" must be 'text', 'json' or 'bytes'/)
    expect(() => s3Object({ bucket: '' })).toThrow(/option "bucket"/)
    for (const refused of ['ab', 'My_Bucket', 's3://catalog', 'catalog/products', 'catalog..v2', '-catalog', '192.168.1.10', 'c'.repeat(64)]) {
      expect(() => s3Object({ bucket: refused })).toThrow(/option "bucket" must be an S3 bucket name \(3 to 63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit\) or an access point ARN; got /)
    }
    for (const accepted of [
      'my.catalog-2024',
      'arn:aws:s3:us-east-1:123456789012:accesspoint/catalog-ap',
      'arn:aws:s3-object-lambda:us-east-1:123456789012:accesspoint/resizer',
      'arn:aws:s3-outposts:us-east-1:123456789012:outpost/op-01ac5d28a6a232904/accesspoint/catalog',
      'arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap',
    ]) {
      expect(() => s3Object({ bucket: accepted })).not.toThrow()
    }
    // Not at the first load: a config that is no object, or one beside a client, which would be ignored.
    expect(() => s3Object({ bucket, clientConfig: 'us-east-1' } as unknown as Parameters<typeof s3Object>[0])).toThrow(/option "clientConfig" must be S3 client options such as \{ region: 'eu-west-1' \}; got "us-east-1"/)
    const client = new S3Client(clientConfig())
    expect(() => s3Object({ bucket, client, clientConfig: { region: 'eu-west-1' } })).toThrow(/option "clientConfig" applies to a client the loader makes, not to a 'client' you pass/)
    client.destroy()
  })
})
