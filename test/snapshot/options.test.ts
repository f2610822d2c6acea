import middy from '@middy/core'
import { S3Client } from '@aws-sdk/client-s3'
import { coldStartSnapshot, type ColdStartSnapshotOptions } from '../../entrypoints/snapshot.js'
import { CacheKind, CacheOptionsError, createCache, registerCache } from '../../src/index.js'
import { setEnv } from '../support/env.js'
import { invoke } from '../support/invoke.js'

const valid: ColdStartSnapshotOptions = { bucket: 'snapshots', caches: ['config', 'products'] }

let restoreEnv: () => void
beforeEach(() => {
  // Off Lambda: a valid middleware reads nothing.
  restoreEnv = setEnv({ AWS_LAMBDA_FUNCTION_NAME: undefined, AWS_LAMBDA_FUNCTION_VERSION: undefined })
})
afterEach(() => {
  restoreEnv()
})

const thrownBy = (options: unknown): unknown => {
  try {
    coldStartSnapshot(options as ColdStartSnapshotOptions)
  } catch (error) {
    return error
  }
  return undefined
}

describe('coldStartSnapshot options are checked at construction, each error naming its option', () => {
  test.each<[string, unknown, RegExp]>([
    ['no options', undefined, /option "options" must be an object/],
    ['a misspelt option', { ...valid, maxage: '1h' }, /option "maxage" is not an option \(did you mean "maxAge"\?\)/],
    ['no bucket', { caches: ['config'] }, /option "bucket" is required: an S3 bucket name/],
    ['a bucket name S3 refuses', { ...valid, bucket: 'My_Bucket' }, /option "bucket" must be an S3 bucket name .*got "My_Bucket"/],
    ['no caches', { bucket: 'snapshots' }, /option "caches" is required: the names of the caches to snapshot/],
    ['caches not an array', { bucket: 'snapshots', caches: 'config' }, /option "caches" must be the names of the caches to snapshot, .*got "config"/],
    ['an empty list of caches', { ...valid, caches: [] }, /option "caches" must name at least one cache.*got an empty array/],
    ['a cache name that is no string', { ...valid, caches: ['config', 42] }, /option "caches\[1\]" must be a cache's name \(1 to 64 letters.*\); got 42/],
    ['a name no cache can have', { ...valid, caches: ['config', 'shop/products'] }, /option "caches\[1\]" must be a cache's name .*got "shop\/products"/],
    ['so many caches that their names make too long an S3 key', { ...valid, caches: Array.from({ length: 5 }, (_, index) => `${'c'.repeat(63)}${index}`) }, /option "caches" names caches whose names, joined, pass 256 characters/],
    ['a cache named twice', { ...valid, caches: ['config', 'config'] }, /option "caches\[1\]" names "config" twice/],
    ['a prefix with a leading slash', { ...valid, prefix: '/snapshots' }, /option "prefix" must be .*no leading or trailing '\/'/],
    ['a prefix with a trailing slash', { ...valid, prefix: 'snapshots/' }, /option "prefix"/],
    ['a prefix with a space', { ...valid, prefix: 'my snapshots' }, /option "prefix"/],
    ['a version with a slash', { ...valid, version: 'v1/2' }, /option "version" must be 1 to 64 letters/],
    ['a maxAge that is no duration', { ...valid, maxAge: 'a day' }, /option "maxAge" must be a number of seconds or a string such as/],
    ['a maxAge under a second', { ...valid, maxAge: '500ms' }, /option "maxAge" must be 1 s or more/],
    // Only undefined is left out: null is refused, as it is for every other option.
    ['a null maxAge', { ...valid, maxAge: null }, /option "maxAge" must be a number of seconds or a string such as .*; got null/],
    ['a timeout of zero', { ...valid, timeout: 0 }, /option "timeout" must be from 1 ms to 10000 ms/],
    ['a timeout in seconds by mistake', { ...valid, timeout: 200 }, /option "timeout" must be from 1 ms to 10000 ms; got 200 \(a number is seconds\)/],
    ['a writeTimeout over a minute', { ...valid, writeTimeout: '2m' }, /option "writeTimeout" must be from 1 ms to 60000 ms/],
    ['a client that is no S3Client', { ...valid, client: {} }, /option "client" must be an S3Client/],
    ['a client and a clientConfig', { ...valid, client: new S3Client({}), clientConfig: { region: 'eu-west-1' } }, /option "clientConfig" applies to a client the snapshot makes/],
    ['a clientConfig that is no object', { ...valid, clientConfig: 'eu-west-1' }, /option "clientConfig" must be S3 client options/],
    ['a logger without warn', { ...valid, logger: { info: () => undefined } }, /option "logger" must be an object with a warn\(message\) method/],
  ])('%s', (_, options, message) => {
    const error = thrownBy(options)
    expect(error).toBeInstanceOf(CacheOptionsError)
    expect((error as Error).message).toMatch(message)
  })

  test('a secrets cache that already exists is refused: secrets never leave memory', () => {
    const unregister = registerCache({ cache: createCache({ name: 'vault', load: () => 'secret', ttl: '1m' }), kind: CacheKind.Secrets, secret: true })
    try {
      expect(thrownBy({ ...valid, caches: ['config', 'vault'] })).toMatchObject({ option: 'caches[1]', message: expect.stringMatching(/names the secrets cache "vault": secrets never leave memory/) as string })
    } finally {
      unregister()
    }
  })

  test('valid options with every default; off Lambda the middleware does nothing, and Middy takes it', async () => {
    const middleware = coldStartSnapshot(valid)
    const handler = middy().use(middleware).handler(() => Promise.resolve('answered'))
    expect(await invoke(handler)).toBe('answered')
    expect(() => coldStartSnapshot({ ...valid, prefix: 'snapshots/shop', maxAge: '12h', timeout: '150ms', writeTimeout: 1, version: 'v2.1', clientConfig: { region: 'eu-west-1' }, logger: console })).not.toThrow()
  })
})
