import { GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { isAwsError } from '../cache/aws-errors.js'
import { bucketNameOrArnRule, isBucketNameOrArn } from '../cache/aws-names.js'
import { CacheError, mustBe } from '../cache/errors.js'
import { checkClientOrConfig, isSdkClient, rejectUnknownOptions, requireRecord, type Loader } from '../cache/options.js'
import { decodeValue, Transform, utf8Text } from './transform.js'

/** How an object's body is returned: UTF-8 text, parsed JSON, or bytes. Text and JSON refuse bytes that are not UTF-8 rather than serve replacement characters. */
export const S3Format = { Text: 'text', Json: 'json', Bytes: 'bytes' } as const
export type S3Format = (typeof S3Format)[keyof typeof S3Format]

export interface S3ObjectOptions {
  readonly bucket: string
  /** The object key for a cache key. Default: the cache key itself. */
  readonly key?: (cacheKey: string) => string
  /** Default 'text'. */
  readonly format?: S3Format
  /** A client you made; or `clientConfig` for the one the loader makes at its first call. */
  readonly client?: S3Client
  readonly clientConfig?: S3ClientConfig
}

const optionNames = ['bucket', 'key', 'format', 'client', 'clientConfig'] as const
const formats: readonly string[] = Object.values(S3Format)
/** S3's longest object key, in UTF-8 bytes. */
const maxObjectKeyBytes = 1024

/**
 * Whether some object can have `objectKey`. Without one GetObject reads `GET /`, the bucket's
 * listing, which would be served as the value; one too long is refused, where no object is found.
 */
const canNameObject = (objectKey: string): boolean => objectKey !== '' && Buffer.byteLength(objectKey) <= maxObjectKeyBytes

/**
 * Loads S3 objects by cache key: `load: s3Object({ bucket: 'catalog', key: (id) => `products/${id}.json`, format: 'json' })`.
 * A missing object is "not found" (undefined), and so is a key no object can have (empty, or
 * longer than S3 allows), without a request.
 */
export function s3Object<T = unknown>(options: S3ObjectOptions & { readonly format: 'json' }): Loader<T | undefined>
export function s3Object(options: S3ObjectOptions & { readonly format: 'bytes' }): Loader<Uint8Array | undefined>
export function s3Object(options: S3ObjectOptions & { readonly format?: 'text' }): Loader<string | undefined>
export function s3Object(options: S3ObjectOptions): Loader<unknown> {
  const raw = requireRecord('options', options, "{ bucket: 'catalog' }")
  rejectUnknownOptions(raw, optionNames)
  const { bucket, key = (cacheKey: string) => cacheKey, format = S3Format.Text } = options
  if (!isBucketNameOrArn(bucket)) throw mustBe('bucket', bucketNameOrArnRule, bucket)
  if (typeof key !== 'function') throw mustBe('key', 'a function from the cache key to the object key', key)
  if (!formats.includes(format)) throw mustBe('format', "'text', 'json' or 'bytes'", format)
  checkClientOrConfig(raw, { isClient: (client) => isSdkClient(client, 'S3'), client: 'an S3Client', config: 'S3 client options', maker: 'the loader' })
  let made: S3Client | undefined
  const client = (): S3Client => options.client ?? (made ??= new S3Client(options.clientConfig ?? {}))

  return async (cacheKey, { signal }) => {
    const objectKey = key(cacheKey)
    if (!canNameObject(objectKey)) return undefined
    let body
    try {
      ;({ Body: body } = await client().send(new GetObjectCommand({ Bucket: bucket, Key: objectKey }), { abortSignal: signal }))
    } catch (error) {
      if (isAwsError(error, 'NoSuchKey')) return undefined
      throw error
    }
    if (body === undefined) return undefined
    const bytes = await body.transformToByteArray()
    if (format === S3Format.Bytes) return bytes
    const label = `S3 object "${bucket}/${objectKey}"`
    if (format === S3Format.Json) return decodeValue(bytes, Transform.Json, label)
    const text = utf8Text(bytes)
    if (text === undefined) throw new CacheError(`middy-cache: ${label} is not UTF-8 text: read it with format: 'bytes'`)
    return text
  }
}
