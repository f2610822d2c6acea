import { randomBytes } from 'node:crypto'
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, DynamoDBServiceException, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { S3Client } from '@aws-sdk/client-s3'
import { mockClient } from 'aws-sdk-client-mock'
import { dynamoStore, type DynamoStoreOptions, type L2Store } from '../../entrypoints/dynamodb.js'
import { awsJsonError, createTable, destroySeedClients, seedClients, startHttpFaultProxy, uniqueName, type HttpFaultProxy } from '../harness/index.js'
import { l2StoreContract } from '../support/l2-store-contract.js'
import { anotherCopyOf } from '../support/sdk-copy.js'
import { testClients } from '../support/sdk-clients.js'

const signal = new AbortController().signal
const table = uniqueName('store')
const opened: L2Store[] = []
const clientConfig = (endpoint = process.env.AWS_ENDPOINT_URL ?? '') => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
})
const clients = testClients()
/** A store whose requests pass a fault proxy on their way to moto, handed to `run`; the proxy is closed after it. */
const throughFaults = async (run: (faulty: { readonly faults: HttpFaultProxy; readonly store: L2Store; readonly prefix: string }) => Promise<void>): Promise<void> => {
  const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
  try {
    const prefix = `${uniqueName('p')}:`
    const store = dynamoStore({ table, prefix, clientConfig: clientConfig(faults.url), timeout: '2s' })
    opened.push(store)
    await run({ faults, store, prefix })
  } finally {
    await faults.close()
  }
}

const storeWith = (prefix = `${uniqueName('p')}:`, client?: DynamoDBClient): L2Store => {
  const store = dynamoStore({ table, prefix, ...(client === undefined ? { clientConfig: clientConfig() } : { client }), timeout: '2s' })
  opened.push(store)
  return store
}

beforeAll(async () => {
  await createTable(table, 'pk', { ttlAttribute: 'expiresAt' })
})

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()))
  clients.destroyAll()
  destroySeedClients()
})

describe('dynamoStore options, checked at construction', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no table', {}, /option "table" must be a DynamoDB table name/],
    ['a key attribute the store uses itself', { table: 'cache', keyAttribute: 'payload' }, /option "keyAttribute" must be an attribute name of 1 to 255 bytes \(UTF-8\) other than payload, leaseToken, leaseUntil, counter; got "payload"/],
    // DynamoDB takes no key attribute name past 255 bytes: the store would fail every request.
    ['a key attribute name past 255 bytes', { table: 'cache', keyAttribute: 'é'.repeat(128) }, /option "keyAttribute" must be an attribute name of 1 to 255 bytes \(UTF-8\)/],
    ['an empty TTL attribute name', { table: 'cache', ttlAttribute: '' }, /option "ttlAttribute" must be an attribute name of 1 to 255 bytes \(UTF-8\)/],
    ['a TTL attribute name with a lone surrogate (no UTF-8 form)', { table: 'cache', ttlAttribute: 'ttl\ud800' }, /option "ttlAttribute" must be an attribute name of 1 to 255 bytes \(UTF-8\)/],
    ['the same key and TTL attribute', { table: 'cache', keyAttribute: 'id', ttlAttribute: 'id' }, /option "ttlAttribute" must differ from keyAttribute/],
    ['a client and client options', { table: 'cache', client: {}, clientConfig: {} }, /option "client" must be a DynamoDBClient/],
    ['client options that are no object', { table: 'cache', clientConfig: 'eu-west-1' }, /option "clientConfig" must be DynamoDB client options such as \{ region: 'eu-west-1' \}; got "eu-west-1"/],
    // Only undefined is left out: null is refused, as it is for every other option.
    ['a null prefix', { table: 'cache', prefix: null }, /option "prefix" must be a string of up to 64 characters, without lone surrogates; got null/],
    // No UTF-8 form: every key made with it would fail, or meet the keys of another such prefix.
    ['a prefix with a lone surrogate', { table: 'cache', prefix: 'shop\ud800:' }, /option "prefix" must be a string of up to 64 characters, without lone surrogates; got "shop\\ud800:"/],
    ['a misspelt option', { table: 'cache', consistentReads: true }, /option "consistentReads" is not an option \(did you mean "consistentRead"\?\)/],
  ]
  test.each(cases)('%s', (_, options, message) => {
    expect(() => dynamoStore(options as unknown as DynamoStoreOptions)).toThrow(message)
  })

  test("a client of another AWS service is refused, as DynamoDB would refuse every one of its requests", () => {
    const s3 = clients.made(new S3Client(clientConfig()))
    expect(() => dynamoStore({ table: 'cache', client: s3 as unknown as DynamoDBClient })).toThrow(/option "client" must be a DynamoDBClient; got an object/)
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

  test("a lease put the SDK sent again after its first attempt was applied (the answer lost) is held: the retry's ConditionalCheckFailed finds the lease under its own token", async () => {
    // A client you made keeps the SDK's retries; its first conditional put reaches DynamoDB, then the answer is lost as a 500.
    const client = clients.made(new DynamoDBClient(clientConfig()))
    const leasePutAttempts: string[] = []
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const isLeasePut = context.commandName === 'PutItemCommand' && (args.input as { ConditionExpression?: string }).ConditionExpression !== undefined
        const result = await next(args)
        if (!isLeasePut) return result
        leasePutAttempts.push(leasePutAttempts.length === 0 ? 'applied, answer lost' : 'answered')
        if (leasePutAttempts.length > 1) return result
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } })
      },
      { step: 'deserialize', name: 'loseFirstLeaseAnswer' },
    )
    const store = storeWith(undefined, client)
    expect(await store.acquireLease('k', 'mine', 60_000, signal)).toEqual({ acquired: true, payload: undefined })
    // Whether the SDK sends it again depends on its retry strategy (the oldest clients the peer range allows do not here); what must hold is that the lease is ours.
    expect(leasePutAttempts[0]).toBe('applied, answer lost')
    expect((await store.acquireLease('k', 'another', 60_000, signal)).acquired).toBe(false)
    await store.releaseLease('k', 'mine', signal)
    expect((await store.acquireLease('k', 'another', 60_000, signal)).acquired).toBe(true)
  })

  test("a lease put whose last attempt was throttled after an earlier one was applied (its answer lost) is given back under its token: another environment takes the key at once, and a lease another holds is left", async () => {
    // A client you made keeps the SDK's retries: the first conditional put reaches DynamoDB and its answer is lost (a 500), the retry is throttled.
    const client = clients.made(new DynamoDBClient({ ...clientConfig(), maxAttempts: 2 }))
    const leasePutAttempts: string[] = []
    const retried = new WeakSet<object>()
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const isLeasePut = context.commandName === 'PutItemCommand' && (args.input as { ConditionExpression?: string }).ConditionExpression !== undefined
        if (!isLeasePut) return next(args)
        // Every attempt of one call runs with the call's context.
        const first = !retried.has(context)
        retried.add(context)
        leasePutAttempts.push(first ? 'sent, answer lost' : 'throttled')
        // Sent: taken, or refused as another holds it; either way the answer is lost.
        if (first) await next(args).catch(() => undefined)
        throw first
          ? Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } })
          : Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded.'), { name: 'ProvisionedThroughputExceededException', $fault: 'client', $metadata: { httpStatusCode: 400 } })
      },
      { step: 'deserialize', name: 'throttleAfterAppliedLeasePut' },
    )
    const prefix = `${uniqueName('p')}:`
    const store = storeWith(prefix, client)
    const other = storeWith(prefix)
    await expect(store.acquireLease('k', 'mine', 60_000, signal)).rejects.toThrow()
    // Whether the SDK sends it again depends on its retry strategy (the oldest clients the peer range allows may not); what must hold is that the lease is not left behind.
    expect(leasePutAttempts[0]).toBe('sent, answer lost')
    expect((await other.acquireLease('k', 'another', 60_000, signal)).acquired).toBe(true)

    await other.acquireLease('held', 'another', 60_000, signal)
    await expect(store.acquireLease('held', 'mine', 60_000, signal)).rejects.toThrow()
    expect((await other.acquireLease('held', 'third', 60_000, signal)).acquired).toBe(false)
  })

  /** A client that records each request it sends, and the most requests of `command` it had in flight at once. */
  /** A value for each of `keys`, a delete of 'gone', and two writes of 'twice', the last to win. */
  const writesOf = (keys: readonly string[]) => [
    ...keys.map((key) => ({ key, payload: Buffer.from(`value of ${key}`), ttlMs: 60_000 })),
    { key: 'gone', payload: undefined },
    { key: 'twice', payload: Buffer.from('first'), ttlMs: 60_000 },
    { key: 'twice', payload: Buffer.from('last'), ttlMs: 60_000 },
  ]

  const watchedClient = (command: string) => {
    const client = clients.made(new DynamoDBClient(clientConfig()))
    const sent: { readonly command: string; readonly input: Record<string, unknown> }[] = []
    const inFlight = { now: 0, most: 0 }
    client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push({ command: context.commandName ?? '', input: args.input as Record<string, unknown> })
        if (context.commandName !== command) return next(args)
        inFlight.most = Math.max(inFlight.most, ++inFlight.now)
        try {
          return await next(args)
        } finally {
          inFlight.now--
        }
      },
      { step: 'initialize', name: 'watchRequests' },
    )
    return { client, sent, inFlight }
  }

  test('acquireLeases takes the leases of a batch with at most 25 conditional puts in flight, then reads the values beside them in one consistent BatchGetItem per 100 keys', async () => {
    const { client, sent, inFlight } = watchedClient('PutItemCommand')
    const prefix = `${uniqueName('p')}:`
    const store = storeWith(prefix, client)
    const other = storeWith(prefix)
    await other.set('written', Buffer.from('beside'), 60_000, signal)
    await other.acquireLease('held', 'another', 60_000, signal)
    const keys = Array.from({ length: 148 }, (_, index) => `k${index}`).concat('written', 'held')

    const attempts = await store.acquireLeases!(keys, 'mine', 60_000, signal)
    expect(attempts.map(({ acquired }) => acquired)).toEqual(keys.map((key) => key !== 'held'))
    expect(attempts.map(({ payload }) => payload && Buffer.from(payload).toString())).toEqual(keys.map((key) => (key === 'written' ? 'beside' : undefined)))
    expect(sent.filter(({ command }) => command === 'PutItemCommand')).toHaveLength(150)
    const reads = sent.filter(({ command }) => command !== 'PutItemCommand')
    expect(reads.map(({ command, input }) => ({ command, consistent: Object.values(input.RequestItems as Record<string, { ConsistentRead?: boolean }>)[0]?.ConsistentRead }))).toEqual([
      { command: 'BatchGetItemCommand', consistent: true },
      { command: 'BatchGetItemCommand', consistent: true },
    ])
    expect(inFlight.most).toBe(25)
    // Held under the batch's token: another cannot take them, the token gives them back.
    expect((await other.acquireLease('k0', 'another', 60_000, signal)).acquired).toBe(false)
    await store.releaseLease('k0', 'mine', signal)
    expect((await other.acquireLease('k0', 'another', 60_000, signal)).acquired).toBe(true)
  })

  test('acquireLeases that meets a failure starts no more puts, gives back the leases it took and rejects: the engine, which loads the batch without leases, holds none', async () => {
    await throughFaults(async ({ faults, store, prefix }) => {
      const other = storeWith(prefix)
      faults.inject({ target: 'DynamoDB_20120810.PutItem', times: 1, ...awsJsonError('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.') })
      const keys = Array.from({ length: 60 }, (_, index) => `k${index}`)
      await expect(store.acquireLeases!(keys, 'mine', 60_000, signal)).rejects.toThrow('The level of configured provisioned throughput for the table was exceeded.')
      // The first 25 went out together; the throttled one (not applied) needs no give-back, the 24 others do.
      expect(faults.requests('DynamoDB_20120810.PutItem')).toEqual({ seen: 25, answered: 1 })
      expect(faults.requests('DynamoDB_20120810.DeleteItem')).toEqual({ seen: 24, answered: 0 })
      expect((await other.acquireLeases!(keys, 'next', 60_000, signal)).every(({ acquired }) => acquired)).toBe(true)
    })
  })

  test('writeMany puts and deletes in BatchWriteItem requests of 25, at most 4 in flight, each value with its TTL; a key written twice gets its last write', async () => {
    const { client, sent, inFlight } = watchedClient('BatchWriteItemCommand')
    const prefix = `${uniqueName('p')}:`
    const store = storeWith(prefix, client)
    await store.set('gone', Buffer.from('before'), 60_000, signal)
    const keys = Array.from({ length: 130 }, (_, index) => `k${index}`)
    await store.writeMany!(
      writesOf(keys),
      signal,
    )
    const batches = sent.filter(({ command }) => command === 'BatchWriteItemCommand').map(({ input }) => Object.values(input.RequestItems as Record<string, unknown[]>)[0]?.length)
    expect(batches).toEqual([25, 25, 25, 25, 25, 7])
    expect(sent.filter(({ command }) => command !== 'BatchWriteItemCommand').map(({ command }) => command)).toEqual(['PutItemCommand'])
    expect(inFlight.most).toBe(4)
    expect((await store.getMany([...keys, 'gone', 'twice'], signal)).map((payload) => payload && Buffer.from(payload).toString())).toEqual([...keys.map((key) => `value of ${key}`), undefined, 'last'])
    const expiresAt = Number((await seedClients().dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `${prefix}k0` } }, ConsistentRead: true }))).Item?.expiresAt?.N)
    expect(Math.abs(expiresAt - (Date.now() + 60_000) / 1_000)).toBeLessThan(10)
  })

  test('writeEach makes the writes one PutItem or DeleteItem each, at most 25 in flight, each value with its TTL; a key written twice gets its last write', async () => {
    const { client, sent, inFlight } = watchedClient('PutItemCommand')
    const prefix = `${uniqueName('p')}:`
    const store = storeWith(prefix, client)
    await store.set('gone', Buffer.from('before'), 60_000, signal)
    const keys = Array.from({ length: 60 }, (_, index) => `k${index}`)
    sent.length = 0
    await store.writeEach!(
      writesOf(keys),
      signal,
    )
    expect(sent.map(({ command }) => command).sort()).toEqual([...Array.from({ length: 61 }, () => 'PutItemCommand'), 'DeleteItemCommand'].sort())
    expect(inFlight.most).toBe(25)
    expect((await store.getMany([...keys, 'gone', 'twice'], signal)).map((payload) => payload && Buffer.from(payload).toString())).toEqual([...keys.map((key) => `value of ${key}`), undefined, 'last'])
    const expiresAt = Number((await seedClients().dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `${prefix}k0` } }, ConsistentRead: true }))).Item?.expiresAt?.N)
    expect(Math.abs(expiresAt - (Date.now() + 60_000) / 1_000)).toBeLessThan(10)
  })

  test('writeEach that meets a failure starts no more requests and rejects with it', async () => {
    await throughFaults(async ({ faults, store }) => {
      faults.inject({ target: 'DynamoDB_20120810.PutItem', ...awsJsonError('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.') })
      const writes = Array.from({ length: 60 }, (_, index) => ({ key: `k${index}`, payload: Buffer.from('value'), ttlMs: 60_000 }))
      await expect(store.writeEach!(writes, signal)).rejects.toThrow('The level of configured provisioned throughput for the table was exceeded.')
      // The 25 sent at once, each refused: none started after them.
      expect(faults.requests('DynamoDB_20120810.PutItem').seen).toBe(25)
    })
  })

  test('peekLease reads the value and the lease in one consistent BatchGetItem; a lease past its time, or whose time is no number, is held by no one', async () => {
    const { client, sent } = watchedClient('BatchGetItemCommand')
    const prefix = `${uniqueName('p')}:`
    const store = storeWith(prefix, client)
    await store.acquireLease('k', 'holder', 60_000, signal)
    sent.length = 0
    expect((await store.peekLease!('k', signal)).held).toBe(true)
    expect(sent.map(({ command, input }) => ({ command, keys: Object.values(input.RequestItems as Record<string, { Keys: unknown[]; ConsistentRead?: boolean }>)[0] }))).toEqual([
      { command: 'BatchGetItemCommand', keys: { Keys: [{ pk: { S: `${prefix}k` } }, { pk: { S: `${prefix}#lease#k` } }], ConsistentRead: true } },
    ])
    const lease = (leaseUntil: AttributeValue) => seedClients().dynamodb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: `${prefix}#lease#k` }, leaseToken: { S: 'gone' }, leaseUntil, expiresAt: { N: String(Math.ceil(Date.now() / 1_000) + 60) } } }))
    await lease({ N: String(Date.now() - 1_000) })
    expect((await store.peekLease!('k', signal)).held).toBe(false)
    await lease({ S: 'another program' })
    expect((await store.peekLease!('k', signal)).held).toBe(false)
  })

  test('writeMany sends again the writes a BatchWriteItem answer left unprocessed, and rejects once an answer processes none rather than ask again', async () => {
    await throughFaults(async ({ faults, store, prefix }) => {
      const put = (key: string) => ({ PutRequest: { Item: { pk: { S: `${prefix}${key}` }, payload: { B: Buffer.from(`left ${key}`).toString('base64') }, expiresAt: { N: String(Math.ceil(Date.now() / 1_000) + 60) } } } })
      const answerLeaving = (keys: readonly string[]) => ({
        target: 'DynamoDB_20120810.BatchWriteItem',
        times: 1,
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: JSON.stringify({ UnprocessedItems: { [table]: keys.map(put) } }),
    })
    const writes = (...keys: string[]) => keys.map((key) => ({ key, payload: Buffer.from(`value of ${key}`), ttlMs: 60_000 }))

    faults.inject(answerLeaving(['b']))
    await store.writeMany!(writes('a', 'b'), signal)
    // The first answer (the proxy's) said a was made: only b went again, as the answer gave it.
    const sent = faults.calls().filter(({ target }) => target === 'DynamoDB_20120810.BatchWriteItem')
    expect(sent).toHaveLength(2)
    expect(sent[1]?.body).toContain(`"${prefix}b"`)
    expect(sent[1]?.body).not.toContain(`"${prefix}a"`)
    expect((await store.getMany(['a', 'b'], signal)).map((payload) => payload && Buffer.from(payload).toString())).toEqual([undefined, 'left b'])

    faults.inject(answerLeaving(['c', 'd']))
    await expect(store.writeMany!(writes('c', 'd'), signal)).rejects.toThrow(`DynamoDB table "${table}" left all 2 writes of a BatchWriteItem unprocessed`)
    expect(faults.requests('DynamoDB_20120810.BatchWriteItem')).toEqual({ seen: 3, answered: 2 })
    })
  })

  test('releaseLeases gives back, at most 25 conditional deletes in flight, the leases its token holds, and leaves one another holds', async () => {
    const { client, inFlight } = watchedClient('DeleteItemCommand')
    const prefix = `${uniqueName('p')}:`
    const store = storeWith(prefix, client)
    const other = storeWith(prefix)
    await other.acquireLease('held', 'another', 60_000, signal)
    const keys = Array.from({ length: 60 }, (_, index) => `k${index}`)
    await store.acquireLeases!(keys, 'mine', 60_000, signal)
    await store.releaseLeases!([...keys, 'held'], 'mine', signal)
    expect(inFlight.most).toBe(25)
    expect((await other.acquireLeases!(keys, 'next', 60_000, signal)).every(({ acquired }) => acquired)).toBe(true)
    expect((await other.acquireLease('held', 'third', 60_000, signal)).acquired).toBe(false)
  })

  test('releaseLeases tries every lease though one fails, then rejects with that failure', async () => {
    await throughFaults(async ({ faults, store, prefix }) => {
      const other = storeWith(prefix)
      const keys = Array.from({ length: 30 }, (_, index) => `k${index}`)
      await store.acquireLeases!(keys, 'mine', 60_000, signal)
      faults.inject({ target: 'DynamoDB_20120810.DeleteItem', times: 1, ...awsJsonError('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.') })
      await expect(store.releaseLeases!(keys, 'mine', signal)).rejects.toThrow('The level of configured provisioned throughput for the table was exceeded.')
      expect(faults.requests('DynamoDB_20120810.DeleteItem')).toEqual({ seen: 30, answered: 1 })
      // The throttled one is still held; every other was given back.
      expect((await other.acquireLeases!(keys, 'next', 60_000, signal)).filter(({ acquired }) => !acquired)).toHaveLength(1)
    })
  })

  test('once closed, an operation (a lease given back late, say) fails with a clear error rather than make a client nobody destroys', async () => {
    const store = storeWith()
    await store.set('k', new Uint8Array([1]), 60_000, signal)
    await store.close()
    await expect(store.get('k', signal)).rejects.toThrow('middy-cache: this dynamoStore was closed')
    await expect(store.releaseLease('k', 'token', signal)).rejects.toThrow('middy-cache: this dynamoStore was closed')
  })

  test('getMany reads every item it is asked for, past the 16 MB one BatchGetItem answer holds', async () => {
    const store = storeWith()
    // 45 items of 390 KB: about 17.5 MB, so the first answer leaves a few unprocessed.
    const keys = Array.from({ length: 45 }, (_, index) => `large-${index}`)
    const payloads = new Map(keys.map((key) => [key, randomBytes(390_000)]))
    for (const [key, payload] of payloads) await store.set(key, payload, 60_000, signal)
    const read = await store.getMany([...keys, 'missing'], signal)
    expect(read.map((payload) => payload?.length)).toEqual([...keys.map(() => 390_000), undefined])
    expect(keys.every((key, index) => Buffer.from(read[index] ?? []).equals(payloads.get(key) ?? Buffer.alloc(0)))).toBe(true)
  }, 60_000)

  test('getMany takes keys a BatchGetItem answer left unprocessed for want of capacity (no item returned) for misses, without asking again', async () => {
    await throughFaults(async ({ faults, store, prefix }) => {
      await store.set('a', Buffer.from('1'), 60_000, signal)
      const unprocessed = { [table]: { Keys: [{ pk: { S: `${prefix}a` } }, { pk: { S: `${prefix}b` } }] } }
      faults.inject({
        target: 'DynamoDB_20120810.BatchGetItem',
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: JSON.stringify({ Responses: { [table]: [] }, UnprocessedKeys: unprocessed }),
    })
    expect(await store.getMany(['a', 'b'], signal)).toEqual([undefined, undefined])
    expect(faults.requests('DynamoDB_20120810.BatchGetItem')).toEqual({ seen: 1, answered: 1 })
    })
  })

  test('an aborted operation rejects', async () => {
    const store = storeWith()
    const controller = new AbortController()
    controller.abort()
    await expect(store.get('k', controller.signal)).rejects.toThrow()
  })
})

describe('a table whose key and TTL attributes have names DynamoDB takes beyond letters and digits ("user id", "expires at")', () => {
  const spaced = uniqueName('spaced')
  beforeAll(async () => {
    await createTable(spaced, 'user id', { ttlAttribute: 'expires at' })
  })
  const spacedStore = (): L2Store => {
    const store = dynamoStore({ table: spaced, keyAttribute: 'user id', ttlAttribute: 'expires at', prefix: `${uniqueName('p')}:`, clientConfig: clientConfig(), timeout: '2s' })
    opened.push(store)
    return store
  }

  l2StoreContract(spacedStore)

  test('values carry the TTL under its name', async () => {
    const prefix = `${uniqueName('p')}:`
    const store = dynamoStore({ table: spaced, keyAttribute: 'user id', ttlAttribute: 'expires at', prefix, clientConfig: clientConfig(), timeout: '2s' })
    opened.push(store)
    await store.set('k', Buffer.from('v'), 60_000, signal)
    const { Item } = await seedClients().dynamodb.send(new GetItemCommand({ TableName: spaced, Key: { 'user id': { S: `${prefix}k` } }, ConsistentRead: true }))
    expect(Number(Item?.['expires at']?.N)).toBeGreaterThan(Date.now() / 1_000)
  })
})

describe('the DynamoDB store with a client of another copy of the SDK (a second version in the bundle), on moto', () => {
  const sdk = anotherCopyOf('@aws-sdk/client-dynamodb')

  test('the copy is apart: its client is no instance of the DynamoDBClient the store imports', () => {
    expect(clients.made(new sdk.DynamoDBClient(clientConfig()))).not.toBeInstanceOf(DynamoDBClient)
  })

  l2StoreContract(() => storeWith(undefined, clients.made(new sdk.DynamoDBClient(clientConfig()))))
})

describe("DynamoDB's errors are told by their name, not their class: another copy of the SDK raises its own", () => {
  /** A store on a client whose every request the test answers; an item under the value's key holds `payload`. */
  const mockedStore = () => {
    const client = clients.made(new DynamoDBClient({ ...clientConfig(), maxAttempts: 1 }))
    const mock = mockClient(client)
    mock.on(GetItemCommand).resolves({ Item: { pk: { S: 'p:k' }, payload: { B: Buffer.from('beside') } } })
    return { store: dynamoStore({ table, prefix: 'p:', client }), mock }
  }
  /** An error DynamoDB answered, as another copy of the SDK (or a version without `Symbol.hasInstance` on its exceptions) raises it. */
  const answered = (name: string, fields: Record<string, unknown> = {}): Error => Object.assign(new Error(`${name} from another copy`), { name }, fields)
  const text = (payload: Uint8Array | undefined): string | undefined => (payload === undefined ? undefined : Buffer.from(payload).toString())

  test('a lease another environment holds (ConditionalCheckFailedException) is not taken, and the value beside it is reported', async () => {
    const { store, mock } = mockedStore()
    const conflict = answered('ConditionalCheckFailedException')
    expect(conflict).not.toBeInstanceOf(ConditionalCheckFailedException)
    mock.on(PutItemCommand).rejects(conflict)
    const attempt = await store.acquireLease('k', 'token', 60_000, signal)
    expect({ acquired: attempt.acquired, payload: text(attempt.payload) }).toEqual({ acquired: false, payload: 'beside' })
    // Not taken, so nothing to give back.
    expect(mock.commandCalls(DeleteItemCommand)).toHaveLength(0)
  })

  test('releasing a lease another holder took over (ConditionalCheckFailedException) is no error', async () => {
    const { store, mock } = mockedStore()
    mock.on(DeleteItemCommand).rejects(answered('ConditionalCheckFailedException'))
    await expect(store.releaseLease('k', 'token', signal)).resolves.toBeUndefined()
  })

  test("a lease put DynamoDB refused as the caller's fault (throttled) fails without a delete: it was not applied", async () => {
    const { store, mock } = mockedStore()
    const throttled = answered('ProvisionedThroughputExceededException', { $fault: 'client' })
    expect(throttled).not.toBeInstanceOf(DynamoDBServiceException)
    mock.on(PutItemCommand).rejects(throttled)
    await expect(store.acquireLease('k', 'token', 60_000, signal)).rejects.toBe(throttled)
    expect(mock.commandCalls(DeleteItemCommand)).toHaveLength(0)
  })

  test('a lease put that failed otherwise (a server fault) may have been applied: it is given back under its token', async () => {
    const { store, mock } = mockedStore()
    const failed = answered('InternalServerError', { $fault: 'server' })
    mock.on(PutItemCommand).rejects(failed)
    await expect(store.acquireLease('k', 'token', 60_000, signal)).rejects.toBe(failed)
    expect(mock.commandCalls(DeleteItemCommand).map((call) => call.args[0].input.ExpressionAttributeValues)).toEqual([{ ':token': { S: 'token' } }])
  })
})
