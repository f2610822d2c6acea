import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import type { Context } from 'aws-lambda'
import { gunzipSync } from 'node:zlib'
import type { ColdStartSnapshotOptions } from '../../entrypoints/snapshot.js'
import type { DataLoadContext } from '../../middlewares/data-cache.js'
import type { Duration } from '../../src/cache/duration.js'
import type { FreshnessOptions, L1Options } from '../../src/cache/options.js'
import type { RedisStoreOptions } from '../../src/stores/redis/index.js'
import { createBucket, destroySeedClients, seedClients, uniqueName } from '../harness/index.js'
import { captureOutput, type Captured } from '../support/emf.js'
import { countCommands } from '../support/aws-commands.js'
import { forgetProcessWideState } from '../support/process-state.js'
import { anotherCopyOf } from '../support/sdk-copy.js'
import { setEnv } from '../support/env.js'

export { movableTime } from '../support/clock.js'

export const namespace = 'Snapshots'
export const service = 'shop'
export const functionVersion = '7'

/** What every snapshot test file sets up: see `snapshotTests`. */
export interface SnapshotTests {
  /** Made once for the file. */
  readonly bucket: string
  /** The current test's function: one of its own, so that no test reads another's snapshot. */
  readonly functionName: string
  /** What the current test wrote to stdout, as EMF. */
  readonly output: Captured
}

/**
 * The set-up every snapshot test file shares: a bucket of its own, and for each test a function of
 * its own (AWS_LAMBDA_FUNCTION_NAME, version 7), Powertools in production mode, and stdout captured
 * as EMF. Call it once at the top of the file; read the fields within tests.
 */
export const snapshotTests = (bucketPrefix: string): SnapshotTests => {
  const bucket = uniqueName(bucketPrefix)
  let current: { functionName: string; output: Captured; restoreEnv: () => void } | undefined
  const now = (): NonNullable<typeof current> => {
    if (current === undefined) throw new Error('snapshotTests: read within a test')
    return current
  }
  beforeAll(async () => {
    await createBucket(bucket)
  })
  afterAll(() => {
    destroySeedClients()
  })
  beforeEach(() => {
    const functionName = uniqueName('fn')
    const restoreEnv = setEnv({
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: functionVersion,
      AWS_LAMBDA_INITIALIZATION_TYPE: undefined,
      POWERTOOLS_DEV: undefined,
      POWERTOOLS_METRICS_DISABLED: undefined,
    })
    current = { functionName, output: captureOutput(), restoreEnv }
  })
  afterEach(() => {
    current?.output.restore()
    current?.restoreEnv()
    current = undefined
    jest.restoreAllMocks()
  })
  return {
    bucket,
    get functionName() {
      return now().functionName
    },
    get output() {
      return now().output
    },
  }
}

/**
 * The snapshot's timeouts for tests whose subject is not timing: a reader waits up to 5 s (a
 * snapshot of megabytes read from moto and parsed takes a while), and a write may take up to 10 s,
 * so that a busy machine's slow answer from moto is never taken for a missing snapshot or a failed
 * write. `productFunction`'s defaults; tests about the timeouts give their own.
 */
export const patientTimeouts = { timeout: '5s', writeTimeout: '10s' } as const satisfies Partial<ColdStartSnapshotOptions>

/**
 * The time left to an invocation that may wait the whole of `patientTimeouts.timeout` for the read,
 * but may not begin a write: less than `patientTimeouts.writeTimeout` past the reserve.
 */
export const timeForTheReadOnly = 8_000

/** The object key the snapshot of `caches` in function `name` (version 7, in the harness's region) lives under. */
export const objectKeyOf = (name: string, caches: readonly string[] = ['products'], prefix = 'middy-cache', version = 'v1'): string =>
  `${prefix}/${name}/${process.env.AWS_REGION ?? ''}/${functionVersion}/${version}/${[...caches].sort().join('+')}.json.gz`


/**
 * Builds one simulated execution environment: every module loaded afresh (the cache registry, the
 * caches, the SDK), as a new Lambda process loads them, so environments share nothing but S3.
 */
export const inEnvironment = <T>(build: () => Promise<T>): Promise<T> => {
  forgetProcessWideState()
  return withAnotherCopy(build)
}

/**
 * Builds with one more copy of every module, in the environment built last: as a process that
 * loads the package twice (import beside require, or two bundles) shares its process-wide state.
 */
export const withAnotherCopy = async <T>(build: () => Promise<T>): Promise<T> => {
  let built: { value: T } | undefined
  await jest.isolateModulesAsync(async () => {
    built = { value: await build() }
  })
  if (built === undefined) throw new Error('the environment was not built')
  return built.value
}


/**
 * What a products function's invocation does: first `clear`, `delete` and `set` (in that order) on
 * the products cache, then reads `ids`, whose values it answers.
 */
export interface ProductEvent {
  readonly ids?: readonly string[]
  readonly clear?: true
  readonly delete?: readonly string[]
  readonly set?: Readonly<Record<string, Product>>
  /** The ttl of the values `set` writes. Default: the cache's. */
  readonly setTtl?: Duration
}

export interface Product {
  readonly id: string
  readonly name: string
}

export interface ProductFunction {
  /** Runs a `ProductEvent` against the products cache (a dataCache), as a handler finds it itself. */
  readonly handler: (event: ProductEvent, context: Context) => Promise<unknown>
  readonly load: jest.Mock<Promise<{ id: string; name: string }>, [string, DataLoadContext]>
  readonly warnings: string[]
  readonly commands: Map<string, number>
  /** How many entries the products cache holds in memory now. */
  readonly entries: () => number
  /** Closes the environment's L2 store, if it has one. */
  readonly close: () => Promise<void>
}

/** Where coldStartSnapshot sits beside cacheMetrics and warmup; the products cache comes last. */
export const ChainOrder = {
  /** cacheMetrics, coldStartSnapshot, warmup: the snapshot's `before` runs on a ping too. */
  SnapshotBeforeWarmup: 'cacheMetrics, coldStartSnapshot, warmup',
  /** warmup, cacheMetrics, coldStartSnapshot: as DESIGN.md chains it; a ping runs no other hook. */
  WarmupFirst: 'warmup, cacheMetrics, coldStartSnapshot',
  /** cacheMetrics, warmup, coldStartSnapshot: the ping's metrics flush is early-return work of cacheMetrics. */
  WarmupBetween: 'cacheMetrics, warmup, coldStartSnapshot',
  /** coldStartSnapshot, warmup, cacheMetrics: the snapshot saw the ping, cacheMetrics did not and must flush all the same. */
  MetricsAfterWarmup: 'coldStartSnapshot, warmup, cacheMetrics',
} as const
export type ChainOrder = (typeof ChainOrder)[keyof typeof ChainOrder]

export interface ProductFunctionOptions {
  readonly bucket: string
  /** Default: ChainOrder.SnapshotBeforeWarmup. */
  readonly order?: ChainOrder
  /** Options of the snapshot. Default: `patientTimeouts`, a logger into `warnings`. */
  readonly snapshot?: Partial<ColdStartSnapshotOptions>
  /** Where the environment's S3 client sends its requests. Default: the global moto. */
  readonly endpoint?: string
  /**
   * Every GetObject fails with this S3 error, raised as another copy of the SDK raises it to this
   * one (an Error of that name, no instance of this copy's classes): `AccessDenied`, S3's answer for
   * a missing object to a caller without s3:ListBucket, or `NoSuchKey`.
   */
  readonly failReads?: 'AccessDenied' | 'NoSuchKey'
  /** The S3 client comes from another copy of the SDK than the snapshot's, as in a bundle holding a second version. */
  readonly clientOfAnotherCopy?: boolean
  /** The products cache's memory bounds. Default: the engine's. */
  readonly l1?: L1Options
  /** The products cache's freshness options, as this deploy sets them. Default: a ttl of 5 minutes. */
  readonly freshness?: Pick<FreshnessOptions, 'ttl' | 'staleWhileRevalidate' | 'staleIfError' | 'negativeTtl'>
  /** A shared tier for the products cache: a redisStore of the environment's own, with these options. Default: none. */
  readonly l2?: Pick<RedisStoreOptions, 'url' | 'timeout' | 'breaker' | 'versionCheck'>
}

const failReads = (client: S3Client, name: NonNullable<ProductFunctionOptions['failReads']>): void => {
  client.middlewareStack.add(
    (next, context) => (args) => (context.commandName === 'GetObjectCommand' ? Promise.reject(Object.assign(new Error(`${name} (test)`), { name })) : next(args)),
    { step: 'initialize', name: 'snapshotTestFailReads' },
  )
}

/**
 * A function as a user writes it: cacheMetrics, coldStartSnapshot, warmup (in `order`), then a
 * products dataCache, built in a fresh environment with an S3 client whose commands are counted.
 */
export const productFunction = (options: ProductFunctionOptions): Promise<ProductFunction> => {
  // Loaded before the environment, whose modules are a copy of their own.
  const otherCopy = options.clientOfAnotherCopy === true ? anotherCopyOf('@aws-sdk/client-s3') : undefined
  return inEnvironment(async () => {
    const [{ default: middy }, { coldStartSnapshot }, { cacheMetrics }, { warmup }, { dataCache }, { S3Client }, { registeredCaches }] = await Promise.all([
      import('@middy/core'),
      import('../../entrypoints/snapshot.js'),
      import('../../middlewares/cache-metrics.js'),
      import('../../middlewares/warmup.js'),
      import('../../middlewares/data-cache.js'),
      import('@aws-sdk/client-s3'),
      import('../../src/cache/registry.js'),
    ])
    const Client = otherCopy?.S3Client ?? S3Client
    const client = new Client({ endpoint: options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? '', region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
    if (otherCopy !== undefined && client instanceof S3Client) throw new Error('the S3 client was meant to come from another copy of the SDK')
    const commands = countCommands(client)
    if (options.failReads !== undefined) failReads(client, options.failReads)
    const warnings: string[] = []
    const load = jest.fn((id: string, _context: DataLoadContext) => Promise.resolve<Product>({ id, name: `Product ${id}` }))
    // Loaded only when asked for: a function without L2 bundles no ioredis.
    const l2 = options.l2 === undefined ? undefined : (await import('../../entrypoints/redis.js')).redisStore(options.l2)
    const byName = {
      cacheMetrics: cacheMetrics({ namespace, service }),
      coldStartSnapshot: coldStartSnapshot({ bucket: options.bucket, caches: ['products'], client, logger: { warn: (message) => { warnings.push(message) } }, ...patientTimeouts, ...options.snapshot }),
      warmup: warmup(),
    }
    const chain = (options.order ?? ChainOrder.SnapshotBeforeWarmup).split(', ').map((name) => byName[name as keyof typeof byName])
    const handler = middy<ProductEvent>()
      .use(chain)
      .use(dataCache({ name: 'products', load, ...(options.freshness ?? { ttl: '5m' }), ...(options.l1 === undefined ? {} : { l1: options.l1 }), ...(l2 === undefined ? {} : { l2 }) }))
      .handler(async (event, context) => {
        const products = context.caches.products
        if (event.clear === true) await products.clear()
        for (const id of event.delete ?? []) await products.delete(id)
        for (const [id, product] of Object.entries(event.set ?? {})) await products.set(id, product, event.setTtl === undefined ? undefined : { ttl: event.setTtl })
        return products.getMany(event.ids ?? [])
      })
    const entries = (): number => registeredCaches().find(({ cache }) => cache.name === 'products')?.cache.stats().entries ?? 0
    const close = async (): Promise<void> => {
      await l2?.close()
    }
    return { handler: handler as unknown as ProductFunction['handler'], load, warnings, commands, entries, close }
  })
}

export interface WrittenSnapshot {
  readonly format: string
  readonly version: string
  readonly createdAt: number
  readonly namespaceVersions?: Record<string, number>
  readonly caches: Record<string, { readonly key: string; readonly envelope: { readonly c: number; readonly v?: unknown } }[]>
}

/** The snapshot object's text, gunzipped, or undefined when there is none. */
export const objectText = async (bucket: string, key: string): Promise<string | undefined> => {
  try {
    const { Body } = await seedClients().s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    return gunzipSync(await Body!.transformToByteArray()).toString('utf8')
  } catch (error) {
    if (error instanceof NoSuchKey) return undefined
    throw error
  }
}

export const readObject = async (bucket: string, key: string): Promise<WrittenSnapshot | undefined> => {
  const text = await objectText(bucket, key)
  return text === undefined ? undefined : (JSON.parse(text) as WrittenSnapshot)
}

export const putRawObject = async (bucket: string, key: string, body: Uint8Array): Promise<void> => {
  await seedClients().s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
}
