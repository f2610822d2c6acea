import { setTimeout as sleep } from 'node:timers/promises'
import {
  BatchGetItemCommand,
  DynamoDBClient,
  GetItemCommand,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type DynamoDBClientConfig,
  type KeysAndAttributes,
} from '@aws-sdk/client-dynamodb'
import { isTableNameOrArn, tableNameOrArnRule } from '../cache/aws-names.js'
import { chunksOf } from '../cache/chunks.js'
import { CacheError, CacheOptionsError, mustBe, printable } from '../cache/errors.js'
import { checkClientOrConfig, isRecord, isSdkClient, rejectUnknownOptions, requireRecord, type BatchLoader, type Loader } from '../cache/options.js'
import { canBeKey, fromAttributes, isKeyValue, toKeyAttribute, type KeyValue } from './attribute-values.js'

export interface DynamoItemOptions {
  readonly table: string
  /**
   * The partition key's attribute name, whose string value is the cache key; or, for other keys
   * (a sort key, a number), a function from the cache key to the item's key.
   */
  readonly key: string | ((cacheKey: string) => Readonly<Record<string, KeyValue>>)
  /** Only these attributes are read (the key attributes always are). Default: all. */
  readonly attributes?: readonly string[]
  readonly consistentRead?: boolean
  /** A client you made; or `clientConfig` for the one the loader makes at its first call. */
  readonly client?: DynamoDBClient
  readonly clientConfig?: DynamoDBClientConfig
}

/** A loader that can also load many keys in one call; `dataCache` uses its `loadMany` for `getMany`. */
export interface ReadyLoader<V> extends Loader<V | undefined> {
  readonly loadMany: BatchLoader<V | undefined>
}

const optionNames = ['table', 'key', 'attributes', 'consistentRead', 'client', 'clientConfig'] as const
const batchGetLimit = 100
const unprocessedRetries = 3

/**
 * A key attribute the same way whether sent or answered: DynamoDB answers a number in its own form
 * (1e21 as 1000000000000000000000), and bytes as a Uint8Array whatever was sent (a Buffer, say).
 */
const attributeIdentity = (value: AttributeValue | undefined): unknown => {
  if (value?.N !== undefined) return { N: String(Number(value.N)) }
  if (value?.B !== undefined) return { B: Buffer.from(value.B).toString('base64') }
  return value
}

/** One string per item key, whatever the order of its attributes. */
const canonical = (key: Readonly<Record<string, AttributeValue>>): string =>
  JSON.stringify(Object.keys(key).sort().map((name) => [name, attributeIdentity(key[name])]))

/**
 * The attribute names every item key of a batch has: one table has one key schema, and an item an
 * answer holds is matched to its cache keys by those names. A key function that names others for
 * some cache keys is a clear error rather than items matched by the wrong attributes.
 */
const sameKeyNames = (table: string, requests: Iterable<{ readonly itemKey: Record<string, AttributeValue>; readonly cacheKeys: readonly string[] }>): string[] => {
  let first: { readonly names: string[]; readonly cacheKey: string | undefined } | undefined
  for (const { itemKey, cacheKeys } of requests) {
    const names = Object.keys(itemKey).sort()
    if (first === undefined) first = { names, cacheKey: cacheKeys[0] }
    else if (names.join('\0') !== first.names.join('\0')) {
      throw new CacheError(
        `middy-cache: the key function of dynamoItem for table "${table}" gave cache key ${JSON.stringify(first.cacheKey)} the attributes [${first.names.join(', ')}] and ${JSON.stringify(cacheKeys[0])} the attributes [${names.join(', ')}]; the items of one table have one key schema`,
      )
    }
  }
  return first?.names ?? []
}

/** Each name once, and none empty: DynamoDB refuses an empty one at the first load, and a name given twice is most likely another misspelt. */
const checkAttributes = (attributes: unknown): void => {
  if (!Array.isArray(attributes)) throw mustBe('attributes', "an array of attribute names, such as ['name', 'price']", attributes)
  attributes.forEach((name: unknown, index) => {
    if (typeof name !== 'string' || name === '') throw mustBe(`attributes[${index}]`, 'an attribute name (a string of 1 character or more)', name)
    if (attributes.indexOf(name) !== index) throw new CacheOptionsError(`attributes[${index}]`, `names "${name}" again; each attribute is named once`)
  })
}

const validate = (options: DynamoItemOptions): void => {
  const raw = requireRecord('options', options, "{ table: 'products', key: 'id' }")
  rejectUnknownOptions(raw, optionNames)
  if (!isTableNameOrArn(options.table)) throw mustBe('table', tableNameOrArnRule, options.table)
  if (typeof options.key !== 'function' && (typeof options.key !== 'string' || options.key === '')) {
    throw mustBe('key', "the partition key's attribute name, or a function from the cache key to the item's key", options.key)
  }
  if (options.attributes !== undefined) checkAttributes(options.attributes)
  if (options.consistentRead !== undefined && typeof options.consistentRead !== 'boolean') {
    throw mustBe('consistentRead', 'true or false', options.consistentRead)
  }
  checkClientOrConfig(raw, { isClient: (client) => isSdkClient(client, 'DynamoDB'), client: 'a DynamoDBClient', config: 'DynamoDB client options', maker: 'the loader' })
}

/**
 * Loads DynamoDB items by cache key: `load: dynamoItem({ table: 'products', key: 'id' })`. A missing
 * item is "not found" (undefined), and so is a key no item may have, without a request; `getMany`
 * reads with BatchGetItem, 100 keys a call.
 */
export const dynamoItem = <T extends object = Record<string, unknown>>(options: DynamoItemOptions): ReadyLoader<T> => {
  validate(options)
  const { table, key, attributes, consistentRead } = options
  let made: DynamoDBClient | undefined
  const client = (): DynamoDBClient => options.client ?? (made ??= new DynamoDBClient(options.clientConfig ?? {}))
  /**
   * The item's key for `cacheKey`; undefined when no item can have it (an empty id, one past
   * DynamoDB's key size, or `Number(id)` of one that is no number), which DynamoDB would refuse,
   * failing every key of a batch: one order with an empty SKU, the whole SQS batch.
   */
  const keyOf = (cacheKey: string): Record<string, AttributeValue> | undefined => {
    const fields: unknown = typeof key === 'string' ? { [key]: cacheKey } : key(cacheKey)
    if (!isRecord(fields)) {
      throw new CacheError(`middy-cache: the key function of dynamoItem for table "${table}" must return the item's key, such as { id: '1' }; got ${printable(fields)} for cache key ${printable(cacheKey)}`)
    }
    const keyAttributes: [string, AttributeValue][] = []
    for (const [name, value] of Object.entries(fields)) {
      if (!isKeyValue(value)) {
        throw new CacheError(
          `middy-cache: the key function of dynamoItem for table "${table}" gave cache key ${printable(cacheKey)} the attribute "${name}" ${printable(value)}; a key attribute is a string, a number or bytes`,
        )
      }
      if (!canBeKey(value)) return undefined
      keyAttributes.push([name, toKeyAttribute(value)])
    }
    return Object.fromEntries(keyAttributes)
  }
  const projection = (keyNames: readonly string[]): Pick<KeysAndAttributes, 'ProjectionExpression' | 'ExpressionAttributeNames'> => {
    if (attributes === undefined) return {}
    const names = [...new Set([...keyNames, ...attributes])]
    return {
      ProjectionExpression: names.map((_, index) => `#a${index}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(names.map((name, index) => [`#a${index}`, name])),
    }
  }

  const load: Loader<T | undefined> = async (cacheKey, { signal }) => {
    const itemKey = keyOf(cacheKey)
    if (itemKey === undefined) return undefined
    const { Item } = await client().send(
      new GetItemCommand({ TableName: table, Key: itemKey, ConsistentRead: consistentRead, ...projection(Object.keys(itemKey)) }),
      { abortSignal: signal },
    )
    return Item === undefined ? undefined : (fromAttributes(Item) as T)
  }

  const loadChunk = async (keys: readonly Record<string, AttributeValue>[], signal: AbortSignal): Promise<Record<string, AttributeValue>[]> => {
    const items: Record<string, AttributeValue>[] = []
    let pending: KeysAndAttributes | undefined = { Keys: [...keys], ConsistentRead: consistentRead, ...projection(Object.keys(keys[0] ?? {})) }
    for (let attempt = 0; pending !== undefined; attempt++) {
      if (attempt > unprocessedRetries) throw new CacheError(`middy-cache: DynamoDB left ${pending.Keys?.length ?? 0} keys of table "${table}" unprocessed`)
      // Referenced: an idle keep-alive socket would not keep the event loop, and so the invocation, alive.
      if (attempt > 0) await sleep(20 * 2 ** attempt, undefined, { signal })
      const answer: BatchGetItemCommandOutput = await client().send(new BatchGetItemCommand({ RequestItems: { [table]: pending } }), { abortSignal: signal })
      items.push(...(answer.Responses?.[table] ?? []))
      pending = answer.UnprocessedKeys?.[table]
    }
    return items
  }

  const loadMany: BatchLoader<T | undefined> = async (cacheKeys, { signal }) => {
    // Several cache keys may name one item (a key function that ignores case, say): each gets it,
    // and the item is asked for once, since BatchGetItem refuses a request that names a key twice.
    const requested = new Map<string, { readonly itemKey: Record<string, AttributeValue>; readonly cacheKeys: string[] }>()
    for (const cacheKey of cacheKeys) {
      const itemKey = keyOf(cacheKey)
      if (itemKey === undefined) continue
      const identity = canonical(itemKey)
      const request = requested.get(identity)
      if (request === undefined) requested.set(identity, { itemKey, cacheKeys: [cacheKey] })
      else request.cacheKeys.push(cacheKey)
    }
    const unique = [...requested.values()].map((request) => request.itemKey)
    const keyNames = sameKeyNames(table, requested.values())
    const found = new Map<string, T>()
    for (const items of await Promise.all(chunksOf(unique, batchGetLimit).map((chunk) => loadChunk(chunk, signal)))) {
      for (const item of items) {
        const itemKey = Object.fromEntries(keyNames.map((name) => [name, item[name] as AttributeValue]))
        const value = fromAttributes(item) as T
        for (const cacheKey of requested.get(canonical(itemKey))?.cacheKeys ?? []) found.set(cacheKey, value)
      }
    }
    return found
  }

  return Object.assign(load, { loadMany })
}
