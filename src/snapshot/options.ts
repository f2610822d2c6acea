import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3'
import { bucketNameRule, isBucketName } from '../cache/aws-names.js'
import { boundedDuration, parseDuration, type Duration } from '../cache/duration.js'
import { CacheOptionsError, mustBe, printable } from '../cache/errors.js'
import { cacheNameRule, checkClientOrConfig, isCacheName, isRecord, isSdkClient, rejectUnknownOptions, resolveLogger, type Logger } from '../cache/options.js'
import { registeredCaches } from '../cache/registry.js'

export interface SnapshotOptions {
  /** The bucket the snapshots live in. */
  readonly bucket: string
  /** The folder of the snapshots in the bucket, without a leading or trailing '/'. Default 'middy-cache'. */
  readonly prefix?: string
  /** The names of the caches the snapshot holds, such as ['config', 'products']; never a secrets cache. */
  readonly caches: readonly string[]
  /** A snapshot older than this is ignored, and refreshed by environments that find it past half of it (each later by up to a tenth of it, at random). Default '24h'. */
  readonly maxAge?: Duration
  /** How long the first invocation waits for the snapshot, never past its end less 50 ms. Default '200ms'. */
  readonly timeout?: Duration
  /** How long writing a snapshot may take; an invocation with less time left leaves the write to a later one. Default '500ms'. */
  readonly writeTimeout?: Duration
  /** Part of the object's name; change it when the cached values change shape. Default 'v1'. */
  readonly version?: string
  /** An S3Client you made; never destroyed. */
  readonly client?: S3Client
  /** Options for the client the snapshot makes (region, endpoint...). It makes one attempt per call: the timeouts leave no room for retries. */
  readonly clientConfig?: S3ClientConfig
  /** Told when a snapshot cannot be read, is unusable, or cannot be written. Default: console. */
  readonly logger?: Logger
}

export interface ResolvedSnapshotOptions {
  readonly bucket: string
  readonly prefix: string
  readonly caches: readonly string[]
  readonly maxAgeMs: number
  readonly timeoutMs: number
  readonly writeTimeoutMs: number
  readonly version: string
  readonly client: S3Client | undefined
  readonly clientConfig: S3ClientConfig
  readonly logger: Logger
}

const snapshotOptionNames = ['bucket', 'prefix', 'caches', 'maxAge', 'timeout', 'writeTimeout', 'version', 'client', 'clientConfig', 'logger'] as const

/** S3's safe characters; '/' only between segments. */
const prefixPattern = /^[A-Za-z0-9!_.*'()-]+(?:\/[A-Za-z0-9!_.*'()-]+)*$/
const versionPattern = /^[A-Za-z0-9_.-]{1,64}$/
const maxPrefixLength = 512
const maxCachesKeyLength = 256
/** INIT may take 10 s at most on demand; a first invocation waiting longer is a mistake such as `timeout: 200` (seconds). */
const longestTimeoutMs = 10_000
const longestWriteTimeoutMs = 60_000

const resolveMaxAge = (value: unknown): number => {
  const ms = parseDuration('maxAge', value === undefined ? '24h' : value)
  if (ms < 1_000) throw new CacheOptionsError('maxAge', `must be 1 s or more, such as '24h'; got ${printable(value)} (a number is seconds)`)
  return ms
}

const resolveBucket = (value: unknown): string => {
  if (!isBucketName(value)) throw new CacheOptionsError('bucket', `${value === undefined ? 'is required:' : 'must be'} ${bucketNameRule}; got ${printable(value)}`)
  return value
}

const resolvePrefix = (value: unknown): string => {
  if (value === undefined) return 'middy-cache'
  if (typeof value !== 'string' || value.length > maxPrefixLength || !prefixPattern.test(value)) {
    throw mustBe('prefix', `up to ${maxPrefixLength} letters, digits, ! _ . * ' ( ) - and '/' between them (no leading or trailing '/'), such as 'snapshots/shop'`, value)
  }
  return value
}

const resolveVersion = (value: unknown): string => {
  if (value === undefined) return 'v1'
  if (typeof value !== 'string' || !versionPattern.test(value)) {
    throw mustBe('version', "1 to 64 letters, digits, '_', '.' or '-', such as 'v2'", value)
  }
  return value
}

/** Secrets never leave memory: a secrets cache already created is refused here; one created later is skipped at run time. */
const resolveCaches = (value: unknown): string[] => {
  if (!Array.isArray(value)) throw new CacheOptionsError('caches', `${value === undefined ? 'is required:' : 'must be'} the names of the caches to snapshot, such as ['config', 'products']; got ${printable(value)}`)
  if (value.length === 0) throw new CacheOptionsError('caches', "must name at least one cache, such as ['config', 'products']; got an empty array")
  const secretNames = new Set(registeredCaches().filter((registration) => registration.secret).map((registration) => registration.cache.name))
  const names: string[] = []
  value.forEach((name: unknown, index) => {
    const option = `caches[${index}]`
    if (!isCacheName(name)) throw mustBe(option, `a cache's name (${cacheNameRule})`, name)
    if (names.includes(name)) throw new CacheOptionsError(option, `names ${printable(name)} twice`)
    if (secretNames.has(name)) throw new CacheOptionsError(option, `names the secrets cache ${printable(name)}: secrets never leave memory, so no snapshot holds them`)
    names.push(name)
  })
  // The names make the last part of the snapshot's S3 key, which S3 holds to 1,024 bytes.
  if (names.join('+').length > maxCachesKeyLength) {
    throw new CacheOptionsError('caches', `names caches whose names, joined, pass ${maxCachesKeyLength} characters: they name the snapshot's S3 object; snapshot fewer caches per coldStartSnapshot`)
  }
  return names
}

const resolveClient = (raw: Record<string, unknown>): Pick<ResolvedSnapshotOptions, 'client' | 'clientConfig'> => {
  checkClientOrConfig(raw, { isClient: (client) => isSdkClient(client, 'S3'), client: 'an S3Client', config: 'S3 client options', maker: 'the snapshot' })
  const { client, clientConfig } = raw as Pick<SnapshotOptions, 'client' | 'clientConfig'>
  return { client, clientConfig: clientConfig ?? {} }
}

/** Validates every option once, at construction: a bad one throws a CacheOptionsError naming it. */
export const resolveSnapshotOptions = (options: unknown): ResolvedSnapshotOptions => {
  if (!isRecord(options)) throw new CacheOptionsError('options', "must be an object such as { bucket: 'my-bucket', caches: ['config'] }")
  rejectUnknownOptions(options, snapshotOptionNames)
  return {
    bucket: resolveBucket(options.bucket),
    prefix: resolvePrefix(options.prefix),
    caches: resolveCaches(options.caches),
    maxAgeMs: resolveMaxAge(options.maxAge),
    timeoutMs: boundedDuration('timeout', options.timeout, 200, 1, longestTimeoutMs),
    writeTimeoutMs: boundedDuration('writeTimeout', options.writeTimeout, 500, 1, longestWriteTimeoutMs),
    version: resolveVersion(options.version),
    ...resolveClient(options),
    logger: resolveLogger(options.logger),
  }
}
