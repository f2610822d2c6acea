import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClientConfig,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb'
import { isAwsError, mayHaveBeenApplied } from '../../cache/aws-errors.js'
import { isTableName, tableNameRule } from '../../cache/aws-names.js'
import { chunksOf } from '../../cache/chunks.js'
import { isRejected, settleAtMost } from '../../cache/concurrency.js'
import { CacheError, CacheOptionsError, mustBe, printable } from '../../cache/errors.js'
import { checkClientOrConfig, isRecord, isSdkClient, rejectUnknownOptions } from '../../cache/options.js'
import { l2OptionNames, resolveL2Settings, resolvePrefix, type L2Options } from '../l2-options.js'
import { SharedTier, type TierHost, type TieredStore } from '../../cache/shared-tier.js'
import type { L2Settings, L2Store, L2Write, LeaseAttempt, LeaseState, StoreMisconfiguration } from '../l2-store.js'

export interface DynamoStoreOptions extends L2Options {
  /** A table whose partition key is a string attribute (`keyAttribute`), with native TTL on `ttlAttribute`. */
  readonly table: string
  /** A client you made; never destroyed by the store. */
  readonly client?: DynamoDBClient
  /** Options for the client the store makes (region, endpoint...). It makes one attempt per call: the tier's timeout leaves no room for retries. */
  readonly clientConfig?: DynamoDBClientConfig
  /** The table's partition key: any name of 1 to 255 bytes but the store's own attributes (payload, leaseToken, leaseUntil, counter). Default 'pk'. */
  readonly keyAttribute?: string
  /** The attribute the table's TTL reads (epoch seconds), named as keyAttribute may be. Default 'expiresAt'. */
  readonly ttlAttribute?: string
  /** Put before every key, so that several applications can share one table. Default 'middy-cache:'. */
  readonly prefix?: string
  /** Strongly consistent reads of values (twice the read cost). Leases and versions are always read consistently. Default false. */
  readonly consistentRead?: boolean
}

const optionNames = [...l2OptionNames, 'table', 'client', 'clientConfig', 'keyAttribute', 'ttlAttribute', 'prefix', 'consistentRead'] as const
const defaultTimeoutMs = 150
/** DynamoDB's item limit (400 KB) less room for the key and the other attributes. */
const maxItemBytes = 400 * 1024
const maxPayloadBytes = maxItemBytes - 2_048
const batchGetLimit = 100
/** DynamoDB's limit on the writes of one BatchWriteItem. */
const batchWriteLimit = 25
/**
 * The most BatchWriteItem requests a batch's values have in flight: 100 values in one round trip
 * rather than a request each at once (each request at most 10 MB: 25 items at the item limit).
 */
const batchWritesAtOnce = 4
/**
 * The most requests of one item a batch has in flight: lease puts, lease deletes, and its values'
 * puts while BatchWriteItem is refused. A batch of misses would otherwise send one per key at once,
 * a burst for the table and beyond the SDK's 50 sockets; 25 make 100 in about four round trips,
 * well within the tier's timeout. Leases' are conditional, which no BatchWriteItem can be.
 */
const itemRequestsAtOnce = 25
/** The store's own attributes; the table's key and TTL attributes must be named otherwise. */
const Attribute = { Payload: 'payload', LeaseToken: 'leaseToken', LeaseUntil: 'leaseUntil', Counter: 'counter' } as const
const ownAttributes: readonly string[] = Object.values(Attribute)
/** DynamoDB's limit on the name of a key attribute (and of the TTL's): any text that fits, a space or an accent included. */
const longestAttributeNameBytes = 255
/** Leases sit beside the values under a marker no value key can start with (cache names start with a letter or digit). */
const leaseMarker = '#lease#'
const ignore = (): void => undefined
/** What the store asks of DynamoDB, for the policy of a function that may not. */
const actionsUsed = 'dynamodb:GetItem, dynamodb:BatchGetItem, dynamodb:PutItem, dynamodb:BatchWriteItem, dynamodb:UpdateItem and dynamodb:DeleteItem'
/** The action AWS names in an AccessDeniedException: "User: ... is not authorized to perform: dynamodb:DeleteItem on resource: ...". */
const deniedAction = /\bnot authorized to perform: (dynamodb:[A-Za-z]+)/
/** A key written twice gets its last write: DynamoDB refuses a BatchWriteItem that names an item twice. */
const lastWriteOfEachKey = (writes: readonly L2Write[]): L2Write[] => [...new Map(writes.map((write) => [write.key, write])).values()]

const epochSeconds = (ms: number): string => String(Math.ceil(ms / 1_000))
/** DynamoDB's ValidationException for an item too large ("Item size has exceeded...", "Item size to update has exceeded..."). */
const itemSizeRefusal = /\bitem size\b/i

/** The token of the lease a conditional put found in its way: DynamoDB sends the item with the refusal (`ReturnValuesOnConditionCheckFailure`). */
const leaseTokenFoundBy = (refusal: Error): unknown => {
  const { Item: item } = refusal as { readonly Item?: unknown }
  const token = isRecord(item) ? item[Attribute.LeaseToken] : undefined
  return isRecord(token) ? token.S : undefined
}

const attributeName = (option: string, value: unknown, fallback: string): string => {
  if (value === undefined) return fallback
  const fits = typeof value === 'string' && value.length > 0 && value.isWellFormed() && Buffer.byteLength(value) <= longestAttributeNameBytes
  if (!fits || ownAttributes.includes(value)) {
    throw mustBe(option, `an attribute name of 1 to ${longestAttributeNameBytes} bytes (UTF-8) other than ${ownAttributes.join(', ')}`, value)
  }
  return value
}

/** The shared tier on a DynamoDB table, expiry left to the table's native TTL (and checked on read, since TTL deletes late). */
class DynamoStore implements TieredStore {
  readonly kind = 'dynamodb'
  readonly settings: L2Settings
  readonly #table: string
  readonly #keyAttribute: string
  readonly #ttlAttribute: string
  readonly #prefix: string
  readonly #consistentRead: boolean
  readonly #given: DynamoDBClient | undefined
  readonly #clientConfig: DynamoDBClientConfig
  #made: DynamoDBClient | undefined
  #closed = false

  constructor(settings: L2Settings, options: DynamoStoreOptions & { keyAttribute: string; ttlAttribute: string; prefix: string }) {
    this.settings = settings
    this.#table = options.table
    this.#keyAttribute = options.keyAttribute
    this.#ttlAttribute = options.ttlAttribute
    this.#prefix = options.prefix
    this.#consistentRead = options.consistentRead ?? false
    this.#given = options.client
    this.#clientConfig = options.clientConfig ?? {}
  }

  /** The engine's shared-tier code comes with the store: a cache without L2 neither bundles nor loads it. */
  sharedTier<V>(host: TierHost<V>): SharedTier<V> {
    return new SharedTier(this, host)
  }

  async get(key: string, signal: AbortSignal): Promise<Uint8Array | undefined> {
    const { Item } = await this.#client().send(
      new GetItemCommand({ TableName: this.#table, Key: this.#keyOf(this.#prefix + key), ConsistentRead: this.#consistentRead }),
      { abortSignal: signal },
    )
    return this.#payloadOf(Item)
  }

  async getMany(keys: readonly string[], signal: AbortSignal): Promise<(Uint8Array | undefined)[]> {
    const found = await this.#readMany(keys, this.#consistentRead, signal)
    return keys.map((key) => found.get(key))
  }

  /** The values of `keys` found, by caller's key, in one BatchGetItem per `batchGetLimit` distinct keys. */
  async #readMany(keys: readonly string[], consistent: boolean, signal: AbortSignal): Promise<Map<string, Uint8Array>> {
    const items = await this.#readItems(keys.map((key) => this.#prefix + key), consistent, signal)
    const found = new Map<string, Uint8Array>()
    for (const key of keys) {
      const payload = this.#payloadOf(items.get(this.#prefix + key))
      if (payload !== undefined) found.set(key, payload)
    }
    return found
  }

  /** The items under the table keys `tableKeys` found, by table key, in one BatchGetItem per `batchGetLimit` distinct keys. */
  async #readItems(tableKeys: readonly string[], consistent: boolean, signal: AbortSignal): Promise<Map<string, Record<string, AttributeValue>>> {
    const found = new Map<string, Record<string, AttributeValue>>()
    await Promise.all(chunksOf([...new Set(tableKeys)], batchGetLimit).map((chunk) => this.#batchGet(chunk.map((key) => this.#keyOf(key)), consistent, found, signal)))
    return found
  }

  /**
   * Reads `keys` (at most `batchGetLimit`) into `found`, by table key. An answer stops at 16 MB
   * (about 40 items near the item limit) and leaves the rest unprocessed: those are asked again as
   * long as each answer brings items. An answer that brings none was refused for capacity
   * (throttling): the keys left are misses, which the loader fills, rather than requests that
   * would be refused again.
   */
  async #batchGet(keys: Record<string, AttributeValue>[], consistent: boolean, found: Map<string, Record<string, AttributeValue>>, signal: AbortSignal): Promise<void> {
    for (let pending = keys; pending.length > 0; ) {
      const { Responses, UnprocessedKeys } = await this.#client().send(
        new BatchGetItemCommand({ RequestItems: { [this.#table]: { Keys: pending, ConsistentRead: consistent } } }),
        { abortSignal: signal },
      )
      const items = Responses?.[this.#table] ?? []
      for (const item of items) {
        const key = item[this.#keyAttribute]?.S
        if (key !== undefined) found.set(key, item)
      }
      const left = UnprocessedKeys?.[this.#table]?.Keys ?? []
      // Each round asks for fewer keys, so the loop ends however an endpoint answers.
      if (items.length === 0 || left.length >= pending.length) return
      pending = left
    }
  }

  async set(key: string, payload: Uint8Array, ttlMs: number, signal: AbortSignal): Promise<void> {
    await this.#client().send(new PutItemCommand({ TableName: this.#table, Item: this.#valueItem(key, payload, ttlMs) }), { abortSignal: signal })
  }

  async delete(key: string, signal: AbortSignal): Promise<void> {
    await this.#client().send(new DeleteItemCommand({ TableName: this.#table, Key: this.#keyOf(this.#prefix + key) }), { abortSignal: signal })
  }

  /**
   * The writes in BatchWriteItem requests of `batchWriteLimit`, at most `batchWritesAtOnce` in
   * flight: a value's put, as a key's delete, is unconditional, all that BatchWriteItem makes. A key
   * written twice gets its last write. The first failure starts no more requests.
   */
  async writeMany(writes: readonly L2Write[], signal: AbortSignal): Promise<void> {
    const requests = lastWriteOfEachKey(writes).map(
      (write): WriteRequest =>
        write.payload === undefined ? { DeleteRequest: { Key: this.#keyOf(this.#prefix + write.key) } } : { PutRequest: { Item: this.#valueItem(write.key, write.payload, write.ttlMs) } },
    )
    await this.#sendUntilFailure(chunksOf(requests, batchWriteLimit), batchWritesAtOnce, signal, (chunk) => this.#batchWrite(chunk, signal))
  }

  /**
   * The writes as `set` and `delete` make each (PutItem, DeleteItem), at most `itemRequestsAtOnce` in
   * flight, for a role that may not call BatchWriteItem. A key written twice gets its last write.
   * The first failure starts no more requests.
   */
  async writeEach(writes: readonly L2Write[], signal: AbortSignal): Promise<void> {
    await this.#sendUntilFailure(lastWriteOfEachKey(writes), itemRequestsAtOnce, signal, (write) =>
      write.payload === undefined ? this.delete(write.key, signal) : this.set(write.key, write.payload, write.ttlMs, signal),
    )
  }

  /** `send` for each of `items`, at most `atOnce` in flight; after the first failure, or once `signal` aborts, none is started, and it rejects with that failure. */
  async #sendUntilFailure<T>(items: readonly T[], atOnce: number, signal: AbortSignal, send: (item: T) => Promise<void>): Promise<void> {
    let failed = false
    const sent = await settleAtMost(items, atOnce, async (item) => {
      if (failed) return
      signal.throwIfAborted()
      await send(item).catch((error: unknown) => {
        failed = true
        throw error
      })
    })
    const failure = sent.find(isRejected)
    if (failure !== undefined) throw failure.reason
  }

  /**
   * One BatchWriteItem, then again for the writes its answer left unprocessed (as a throttled
   * partition leaves them), as long as each answer makes some: one that makes none fails, rather
   * than ask again what would be refused again.
   */
  async #batchWrite(requests: WriteRequest[], signal: AbortSignal): Promise<void> {
    for (let pending = requests; pending.length > 0; ) {
      const { UnprocessedItems } = await this.#client().send(new BatchWriteItemCommand({ RequestItems: { [this.#table]: pending } }), { abortSignal: signal })
      const left = UnprocessedItems?.[this.#table] ?? []
      if (left.length >= pending.length) throw new CacheError(`middy-cache: DynamoDB table ${JSON.stringify(this.#table)} left all ${pending.length} writes of a BatchWriteItem unprocessed (throttled)`)
      pending = left
    }
  }

  /** The lease's conditional put, then a consistent read of the value: a holder writes before it releases. */
  async acquireLease(key: string, token: string, ttlMs: number, signal: AbortSignal): Promise<LeaseAttempt> {
    const acquired = await this.#putLease(key, token, ttlMs, signal).catch(async (error: unknown) => {
      if (mayHaveBeenApplied(error)) await this.#giveBack([key], token, ttlMs, signal)
      throw error
    })
    try {
      const { Item } = await this.#client().send(
        new GetItemCommand({ TableName: this.#table, Key: this.#keyOf(this.#prefix + key), ConsistentRead: true }),
        { abortSignal: signal },
      )
      return { acquired, payload: this.#payloadOf(Item) }
    } catch (error) {
      // The lease was taken but the attempt fails (a throttled read, say): the engine never learns it
      // holds it, so it neither writes nor releases, and every other environment would wait out
      // `lease.wait` for a value that never comes. Given back within the same operation.
      if (acquired) await this.#giveBack([key], token, ttlMs, signal)
      throw error
    }
  }

  /**
   * The leases of a batch's keys, each put as `acquireLease` puts it, at most `itemRequestsAtOnce` in
   * flight; then the values beside them in one consistent BatchGetItem per `batchGetLimit` keys,
   * rather than a read each. Should any of it fail, the leases taken are given back, as for one key.
   */
  async acquireLeases(keys: readonly string[], token: string, ttlMs: number, signal: AbortSignal): Promise<LeaseAttempt[]> {
    const acquired = await this.#putLeases(keys, token, ttlMs, signal)
    try {
      const found = await this.#readMany(keys, true, signal)
      return keys.map((key, index) => ({ acquired: acquired[index] === true, payload: found.get(key) }))
    } catch (error) {
      await this.#giveBack(keys.filter((_, index) => acquired[index]), token, ttlMs, signal)
      throw error
    }
  }

  /**
   * Whether each of the leases of `keys` was taken, at most `itemRequestsAtOnce` puts in flight. The
   * first failure starts no more: it rejects with it, once the leases taken, and those a put that
   * failed may have taken, are given back.
   */
  async #putLeases(keys: readonly string[], token: string, ttlMs: number, signal: AbortSignal): Promise<boolean[]> {
    let failed = false
    const puts = await settleAtMost(keys, itemRequestsAtOnce, async (key) => {
      // Not sent once one failed or the engine stopped waiting: it would take a lease only to give it back.
      if (failed || signal.aborted) return false
      return this.#putLease(key, token, ttlMs, signal).catch((error: unknown) => {
        failed = true
        throw error
      })
    })
    const failure = puts.find(isRejected)
    const acquired = puts.map((put) => put.status === 'fulfilled' && put.value)
    if (failure === undefined) return acquired
    const mayHold = puts.map((put, index) => acquired[index] === true || (isRejected(put) && mayHaveBeenApplied(put.reason)))
    await this.#giveBack(keys.filter((_, index) => mayHold[index]), token, ttlMs, signal)
    throw failure.reason
  }

  /**
   * A conditional put of the lease (no lease, or one past its time or without one): whether it took
   * it. One that fails otherwise may have been taken all the same (see `mayHaveBeenApplied`): a lease
   * no one knows it holds makes every other environment wait out `lease.wait`, so the caller gives
   * it back, under its token only.
   */
  async #putLease(key: string, token: string, ttlMs: number, signal: AbortSignal): Promise<boolean> {
    const now = Date.now()
    try {
      await this.#client().send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            ...this.#keyOf(this.#leaseKey(key)),
            [Attribute.LeaseToken]: { S: token },
            [Attribute.LeaseUntil]: { N: String(now + ttlMs) },
            [this.#ttlAttribute]: { N: epochSeconds(now + ttlMs) },
          },
          // A lease item whose time is no number (missing, or another program's string) is held by no
          // environment: takeable, or every miss on this key would wait out `lease.wait`.
          ConditionExpression: 'attribute_not_exists(#key) OR NOT attribute_type(#until, :number) OR #until < :now',
          ExpressionAttributeNames: { '#key': this.#keyAttribute, '#until': Attribute.LeaseUntil },
          ExpressionAttributeValues: { ':now': { N: String(now) }, ':number': { S: 'N' } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        { abortSignal: signal },
      )
      return true
    } catch (error) {
      if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error
      // A client you made retries a put whose answer was lost (a 500, a reset connection) though it
      // was applied: the retry then meets the lease it took itself, which it holds and must give back.
      return leaseTokenFoundBy(error) === token
    }
  }

  /**
   * The lease's item and the value's, read together in one consistent BatchGetItem. The lease is
   * held while its time is a number not yet past, as the conditional put that takes it reads it.
   */
  async peekLease(key: string, signal: AbortSignal): Promise<LeaseState> {
    const [valueKey, leaseKey] = [this.#prefix + key, this.#leaseKey(key)]
    const items = await this.#readItems([valueKey, leaseKey], true, signal)
    const until = items.get(leaseKey)?.[Attribute.LeaseUntil]?.N
    return { held: until !== undefined && Number(until) >= Date.now(), payload: this.#payloadOf(items.get(valueKey)) }
  }

  /**
   * Deletes the lease if `token` holds it. A role that may not delete items (AccessDeniedException)
   * may put them, as it took the lease with a put: the lease is then expired in place by a put under
   * the same condition, and the refusal still rejects, for the engine to warn of it and take no more
   * leases, each of which would cost a refused delete and a put to give back.
   */
  async releaseLease(key: string, token: string, signal: AbortSignal): Promise<void> {
    const holdsToken = { ConditionExpression: '#token = :token', ExpressionAttributeNames: { '#token': Attribute.LeaseToken }, ExpressionAttributeValues: { ':token': { S: token } } }
    try {
      await this.#client().send(new DeleteItemCommand({ TableName: this.#table, Key: this.#keyOf(this.#leaseKey(key)), ...holdsToken }), { abortSignal: signal })
    } catch (error) {
      // Another holder took over a lease that outlived its time: it is theirs to release.
      if (isAwsError(error, 'ConditionalCheckFailedException')) return
      if (isAwsError(error, 'AccessDeniedException')) {
        // A lease whose time has passed is anyone's to take; the table's TTL removes the item.
        const expired = { ...this.#keyOf(this.#leaseKey(key)), [Attribute.LeaseUntil]: { N: '0' }, [this.#ttlAttribute]: { N: epochSeconds(Date.now()) } }
        await this.#client().send(new PutItemCommand({ TableName: this.#table, Item: expired, ...holdsToken }), { abortSignal: signal }).catch(ignore)
      }
      throw error
    }
  }

  /**
   * The leases of `keys` given back as `releaseLease` gives back each, at most `itemRequestsAtOnce`
   * at a time: each a conditional delete, which no BatchWriteItem makes. Once `signal` aborts, the
   * ones not sent yet are not.
   */
  async releaseLeases(keys: readonly string[], token: string, signal: AbortSignal): Promise<void> {
    const released = await settleAtMost(keys, itemRequestsAtOnce, (key) => {
      signal.throwIfAborted()
      return this.releaseLease(key, token, signal)
    })
    const failure = released.find(isRejected)
    if (failure !== undefined) throw failure.reason
  }

  /**
   * Releases leases an attempt that failed may hold: within the attempt while its signal holds; once
   * aborted (the engine stopped waiting), in the background, for no longer than the leases would
   * last anyway. Never rejects.
   */
  async #giveBack(keys: readonly string[], token: string, ttlMs: number, signal: AbortSignal): Promise<void> {
    if (!signal.aborted) await this.releaseLeases(keys, token, signal).catch(ignore)
    else this.releaseLeases(keys, token, AbortSignal.timeout(ttlMs)).catch(ignore)
  }

  async readCounter(key: string, signal: AbortSignal): Promise<number> {
    const { Item } = await this.#client().send(
      new GetItemCommand({ TableName: this.#table, Key: this.#keyOf(this.#prefix + key), ConsistentRead: true }),
      { abortSignal: signal },
    )
    const counter = Item?.[Attribute.Counter]
    // A counter of another type (a string another program wrote) reads as NaN, which is no counter, rather than as 0.
    return counter === undefined ? 0 : Number(counter.N)
  }

  async incrementCounter(key: string, restartAt: number, signal: AbortSignal): Promise<number> {
    try {
      const { Attributes } = await this.#client().send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: this.#keyOf(this.#prefix + key),
          UpdateExpression: 'ADD #counter :one',
          ExpressionAttributeNames: { '#counter': Attribute.Counter },
          ExpressionAttributeValues: { ':one': { N: '1' } },
          ReturnValues: 'UPDATED_NEW',
        }),
        { abortSignal: signal },
      )
      return Number(Attributes?.[Attribute.Counter]?.N ?? 0)
    } catch (error) {
      // ADD to an attribute of another type (another program's string) is refused with this.
      if (!(isAwsError(error, 'ValidationException') && error.message.includes('incorrect data type'))) throw error
      await this.#client().send(
        new PutItemCommand({ TableName: this.#table, Item: { ...this.#keyOf(this.#prefix + key), [Attribute.Counter]: { N: String(restartAt) } } }),
        { abortSignal: signal },
      )
      return restartAt
    }
  }

  /**
   * DynamoDB's answers that no retry mends. Only their names are quoted, and the action an
   * AccessDeniedException names: a message may echo a request, which holds keys. Every request the store makes has one shape, within DynamoDB's limits, so a
   * ValidationException (its own "incorrect data type" is handled where it arises) means the table's
   * key schema is not the one the store writes: "The provided key element does not match the
   * schema", or "Missing the key ... in the item". All but "Item size has exceeded the maximum
   * allowed size": an endpoint that holds less than DynamoDB (moto: 405,000 bytes) refuses a value,
   * which says nothing of the table.
   */
  misconfiguration(error: unknown): StoreMisconfiguration | undefined {
    const table = JSON.stringify(this.#table)
    const schema = `a string partition key named "${this.#keyAttribute}", no sort key`
    if (isAwsError(error, 'ResourceNotFoundException')) {
      return {
        kind: error.name,
        advice: `DynamoDB table ${table} does not exist, or is not active yet (ResourceNotFoundException), in the account and region the store's client reaches: create it, with ${schema} and TTL on "${this.#ttlAttribute}", or correct dynamoStore's table (or the client's region)`,
      }
    }
    if (isAwsError(error, 'ValidationException') && !itemSizeRefusal.test(error.message)) {
      return {
        kind: error.name,
        advice: `DynamoDB table ${table} refuses the store's items (ValidationException): its key schema must be ${schema}; set dynamoStore's keyAttribute to the table's partition key, or use a table of that schema (a table with a sort key cannot serve)`,
      }
    }
    if (isAwsError(error, 'AccessDeniedException')) {
      const action = deniedAction.exec(error.message)?.[1]
      // Told once for each action AWS names: each is a permission to add.
      return action === undefined
        ? { kind: error.name, advice: `the function may not use DynamoDB table ${table} (AccessDeniedException): allow its role ${actionsUsed} on the table` }
        : {
            kind: `${error.name} ${action}`,
            advice: `the function's role may not call ${action} on DynamoDB table ${table} (AccessDeniedException): allow it (the store calls ${actionsUsed} on the table)`,
          }
    }
    return undefined
  }

  /** An operation the caller's IAM policy does not allow (a role that may read the table, not write it): the others go on. */
  refusal(error: unknown): string | undefined {
    return isAwsError(error, 'AccessDeniedException') ? error.message : undefined
  }

  close(): Promise<void> {
    this.#closed = true
    this.#made?.destroy()
    this.#made = undefined
    return Promise.resolve()
  }

  /**
   * Made at first use, so that a function that never reaches L2 never builds a client. Once the
   * store is closed, an operation fails (a lease given back late, say) rather than make a client
   * nobody would destroy.
   */
  #client(): DynamoDBClient {
    if (this.#given !== undefined) return this.#given
    if (this.#closed) throw new CacheError('middy-cache: this dynamoStore was closed')
    this.#made ??= new DynamoDBClient({ maxAttempts: 1, ...this.#clientConfig })
    return this.#made
  }

  #keyOf(key: string): Record<string, AttributeValue> {
    return { [this.#keyAttribute]: { S: key } }
  }

  /** A value's item, gone once the table's TTL passes `ttlMs` from now. */
  #valueItem(key: string, payload: Uint8Array, ttlMs: number): Record<string, AttributeValue> {
    return { ...this.#keyOf(this.#prefix + key), [Attribute.Payload]: { B: payload }, [this.#ttlAttribute]: { N: epochSeconds(Date.now() + ttlMs) } }
  }

  #leaseKey(key: string): string {
    return `${this.#prefix}${leaseMarker}${key}`
  }

  /** The payload of an item not yet past its TTL (DynamoDB deletes expired items up to days later). */
  #payloadOf(item: Record<string, AttributeValue> | undefined): Uint8Array | undefined {
    if (item === undefined) return undefined
    const expiresAt = Number(item[this.#ttlAttribute]?.N ?? Number.POSITIVE_INFINITY)
    if (expiresAt * 1_000 <= Date.now()) return undefined
    return item[Attribute.Payload]?.B
  }
}

/**
 * A shared tier on a DynamoDB table: `dynamoStore({ table })`. Make it once, at module scope. Values
 * whose stored form exceeds what an item holds stay in memory only, counted as `l2Skipped`.
 */
export const dynamoStore = (options: DynamoStoreOptions): L2Store => {
  if (!isRecord(options)) throw mustBe('options', "an object such as { table: 'cache' }", options)
  rejectUnknownOptions(options, optionNames)
  if (!isTableName(options.table)) throw mustBe('table', tableNameRule, options.table)
  checkClientOrConfig(options, { isClient: (client) => isSdkClient(client, 'DynamoDB'), client: 'a DynamoDBClient', config: 'DynamoDB client options', maker: 'the store' })
  if (options.consistentRead !== undefined && typeof options.consistentRead !== 'boolean') {
    throw mustBe('consistentRead', 'true or false', options.consistentRead)
  }
  const keyAttribute = attributeName('keyAttribute', options.keyAttribute, 'pk')
  const ttlAttribute = attributeName('ttlAttribute', options.ttlAttribute, 'expiresAt')
  if (keyAttribute === ttlAttribute) throw new CacheOptionsError('ttlAttribute', `must differ from keyAttribute; both are ${printable(keyAttribute)}`)
  const prefix = resolvePrefix(options.prefix)
  const settings = resolveL2Settings(options, { timeoutMs: defaultTimeoutMs, maxPayloadBytes })
  return new DynamoStore(settings, { ...options, keyAttribute, ttlAttribute, prefix })
}
