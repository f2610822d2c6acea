import { randomBytes } from 'node:crypto'
import { CreateTableCommand, DynamoDBClient, PutItemCommand, UpdateTimeToLiveCommand, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { PutParameterCommand, SSMClient, type ParameterType } from '@aws-sdk/client-ssm'

/**
 * Names are unique per call, so tests never see each other's data on the
 * shared moto and never depend on what an earlier test left behind.
 * Lowercase letters, digits and '-': valid for S3 buckets, tables, secrets
 * and parameters alike (give a prefix that is valid for the target).
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
}

export interface SeedOptions {
  /** Moto endpoint; default process.env.AWS_ENDPOINT_URL (the global moto). */
  readonly endpoint?: string
}

export interface SeedClients {
  readonly ssm: SSMClient
  readonly secrets: SecretsManagerClient
  readonly dynamodb: DynamoDBClient
  readonly s3: S3Client
}

const clientsByEndpoint = new Map<string, SeedClients>()

/**
 * SDK v3 clients aimed at moto, one set per endpoint. Refuses to run without
 * an endpoint, so a seed can never reach a real AWS account.
 */
export function seedClients(options: SeedOptions = {}): SeedClients {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL
  if (endpoint === undefined || endpoint === '') {
    throw new Error('AWS_ENDPOINT_URL is not set: seed helpers only talk to a local moto (test/harness/global-setup.ts sets it)')
  }
  const existing = clientsByEndpoint.get(endpoint)
  if (existing !== undefined) return existing
  const config = {
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    // Explicit, so the SDK never walks the default chain (profiles, IMDS) against a local endpoint.
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    },
  }
  const clients: SeedClients = {
    ssm: new SSMClient(config),
    secrets: new SecretsManagerClient(config),
    dynamodb: new DynamoDBClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
  }
  clientsByEndpoint.set(endpoint, clients)
  return clients
}

/** Closes every cached client's sockets; call in afterAll of files that seed. */
export function destroySeedClients(): void {
  for (const clients of clientsByEndpoint.values()) {
    clients.ssm.destroy()
    clients.secrets.destroy()
    clients.dynamodb.destroy()
    clients.s3.destroy()
  }
  clientsByEndpoint.clear()
}

export type ParameterSeed =
  | string
  | readonly string[]
  | { readonly value: string | readonly string[]; readonly type?: ParameterType }

/**
 * Puts (overwrites) SSM parameters. A string is a String parameter, an array a
 * StringList; `{ value, type: 'SecureString' }` for an encrypted one.
 */
export async function putParameters(parameters: Readonly<Record<string, ParameterSeed>>, options: SeedOptions = {}): Promise<void> {
  const { ssm } = seedClients(options)
  await Promise.all(
    Object.entries(parameters).map(async ([name, seed]) => {
      const { value, type } = typeof seed === 'string' || Array.isArray(seed) ? { value: seed, type: undefined } : (seed as Exclude<ParameterSeed, string | readonly string[]>)
      const isList = typeof value !== 'string'
      await ssm.send(
        new PutParameterCommand({
          Name: name,
          Value: isList ? value.join(',') : value,
          Type: type ?? (isList ? 'StringList' : 'String'),
          Overwrite: true,
        }),
      )
    }),
  )
}

/** A string is stored as is, bytes as SecretBinary, anything else as JSON. */
export type SecretSeed = string | Uint8Array | object

const secretValue = (value: SecretSeed): { SecretString: string } | { SecretBinary: Uint8Array } => {
  if (typeof value === 'string') return { SecretString: value }
  if (value instanceof Uint8Array) return { SecretBinary: value }
  return { SecretString: JSON.stringify(value) }
}

/** Creates a secret and returns its ARN. */
export async function createSecret(name: string, value: SecretSeed, options: SeedOptions = {}): Promise<string> {
  const { secrets } = seedClients(options)
  const created = await secrets.send(new CreateSecretCommand({ Name: name, ...secretValue(value) }))
  if (created.ARN === undefined) throw new Error(`moto returned no ARN for secret ${name}`)
  return created.ARN
}

/** Stores a new version of an existing secret (a rotation, as far as a cache can tell). */
export async function updateSecret(name: string, value: SecretSeed, options: SeedOptions = {}): Promise<void> {
  const { secrets } = seedClients(options)
  await secrets.send(new PutSecretValueCommand({ SecretId: name, ...secretValue(value) }))
}

export interface TableOptions extends SeedOptions {
  /** Type of the partition key; default 'S'. */
  readonly keyType?: 'S' | 'N' | 'B'
  /** Turns on native TTL on this attribute (epoch seconds). */
  readonly ttlAttribute?: string
  /** A string sort key of this name beside the partition key. */
  readonly sortKey?: string
}

/** Creates an on-demand table with a partition key (and a sort key when asked). Moto makes it ACTIVE at once. */
export async function createTable(name: string, keyName: string, options: TableOptions = {}): Promise<void> {
  const { dynamodb } = seedClients(options)
  await dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [
        { AttributeName: keyName, AttributeType: options.keyType ?? 'S' },
        ...(options.sortKey === undefined ? [] : [{ AttributeName: options.sortKey, AttributeType: 'S' as const }]),
      ],
      KeySchema: [{ AttributeName: keyName, KeyType: 'HASH' }, ...(options.sortKey === undefined ? [] : [{ AttributeName: options.sortKey, KeyType: 'RANGE' as const }])],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  )
  if (options.ttlAttribute !== undefined) {
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: options.ttlAttribute, Enabled: true },
      }),
    )
  }
}

/** Plain values the seed turns into DynamoDB attributes. */
export type ItemValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | readonly ItemValue[]
  | { readonly [key: string]: ItemValue }

export type Item = Readonly<Record<string, ItemValue>>

/** Marshals a plain value (strings S, numbers N, bytes B, arrays L, objects M). */
export function toAttributeValue(value: ItemValue): AttributeValue {
  if (value === null) return { NULL: true }
  if (typeof value === 'string') return { S: value }
  if (typeof value === 'number' || typeof value === 'bigint') return { N: value.toString() }
  if (typeof value === 'boolean') return { BOOL: value }
  if (value instanceof Uint8Array) return { B: value }
  if (Array.isArray(value)) return { L: value.map((entry: ItemValue) => toAttributeValue(entry)) }
  return { M: toAttributeMap(value as Item) }
}

export function toAttributeMap(item: Item): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(item).map(([key, value]) => [key, toAttributeValue(value)]))
}

/** Puts each item (PutItem, in parallel). */
export async function putItems(table: string, items: readonly Item[], options: SeedOptions = {}): Promise<void> {
  const { dynamodb } = seedClients(options)
  await Promise.all(items.map((item) => dynamodb.send(new PutItemCommand({ TableName: table, Item: toAttributeMap(item) }))))
}

/** Creates a bucket in us-east-1 (no location constraint). Bucket names must be lowercase. */
export async function createBucket(name: string, options: SeedOptions = {}): Promise<void> {
  const { s3 } = seedClients(options)
  await s3.send(new CreateBucketCommand({ Bucket: name }))
}

export async function putObject(
  bucket: string,
  key: string,
  body: string | Uint8Array,
  options: SeedOptions & { readonly contentType?: string } = {},
): Promise<void> {
  const { s3 } = seedClients(options)
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
    }),
  )
}
