import middy, { type MiddlewareObj } from '@middy/core'
import { cleanupMiddlewares } from '@aws-lambda-powertools/commons'
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { mockClient } from 'aws-sdk-client-mock'
import { setTimeout as sleep } from 'node:timers/promises'
import { cacheMetrics, type CacheMetricsOptions } from '../../middlewares/cache-metrics.js'
import { flushOnEarlyReturn } from '../../middlewares/flush-on-early-return.js'
import { secretsCache } from '../../middlewares/secrets-cache.js'
import { invocationOf, runEarlyReturnWork, settleInvocation } from '../../middlewares/shared/invocation.js'
import { CacheOptionsError, createCache, type Cache } from '../../src/index.js'
import { MetricsWriter } from '../../src/metrics/writer.js'
import { manualClock } from '../support/clock.js'
import { deferred } from '../support/deferred.js'
import { average, captureOutput, metricNamesOf, samplesOf, sum, unitOf, type Captured, type EmfBlob } from '../support/emf.js'
import { setEnv } from '../support/env.js'
import { invoke } from '../support/invoke.js'

interface Reads {
  readonly keys?: readonly string[]
  readonly ping?: boolean
}

const namespace = 'Shop'
const service = 'orders'
const shop = { namespace, service } satisfies CacheMetricsOptions

/** Stands in for a cache middleware: gets `event.keys` within the invocation's scope before the handler. */
const reads = (cache: Cache<string>): MiddlewareObj => ({
  before: async (request) => {
    const { scope } = invocationOf(request)
    for (const key of (request.event as Reads).keys ?? []) await cache.get(key, { scope })
  },
})

/**
 * Stands in for warmup placed after cacheMetrics: on a ping it reads and refreshes the cache,
 * flushes the early-return work and answers, so Middy skips every `after` hook.
 */
const answersPings = (cache: Cache<string>): MiddlewareObj => ({
  before: async (request) => {
    if ((request.event as Reads).ping !== true) return undefined
    const invocation = invocationOf(request)
    invocation.warmupPing = true
    await cache.get('a', { scope: invocation.scope })
    await cache.refreshAhead(3_600_000, { scope: invocation.scope })
    await runEarlyReturnWork(request)
    return { warmed: true }
  },
})

let nextCache = 0
const productsCache = (load: (key: string) => string | Promise<string> = (key) => `product ${key}`): Cache<string> =>
  createCache({ name: `products-${++nextCache}`, load, ttl: '1h' })

const perCache = (cache: Cache<string>, name: string, blobs: readonly EmfBlob[], dimensions: Record<string, string> = {}): number[] =>
  samplesOf(blobs, { namespace, name, dimensions: { service, cache: cache.name, ...dimensions } })
const perInvocation = (name: string, blobs: readonly EmfBlob[]): number[] => samplesOf(blobs, { namespace, name, dimensions: { service } })

let output: Captured
let restoreEnv: () => void
beforeEach(() => {
  // Off Lambda, and Powertools in its production mode, whatever the machine running the tests says.
  restoreEnv = setEnv({
    AWS_LAMBDA_INITIALIZATION_TYPE: undefined,
    POWERTOOLS_DEV: undefined,
    POWERTOOLS_METRICS_DISABLED: undefined,
    POWERTOOLS_METRICS_NAMESPACE: undefined,
    POWERTOOLS_SERVICE_NAME: undefined,
  })
  output = captureOutput()
})
afterEach(() => {
  jest.restoreAllMocks()
  output.restore()
  restoreEnv()
})

describe('cacheMetrics: what a window of invocations adds up to', () => {
  test('10 invocations with 7 hits and 3 misses give a hit rate of 70, per cache, in valid EMF', async () => {
    const cache = productsCache()
    const handler = middy().use(cacheMetrics(shop)).use(reads(cache)).handler(() => Promise.resolve('ok'))
    for (const key of ['a', 'a', 'b', 'a', 'b', 'c', 'a', 'b', 'c', 'a']) await invoke(handler, { keys: [key] })

    const blobs = output.blobs()
    expect(blobs).toHaveLength(10)
    for (const blob of blobs) {
      expect(blob._aws.CloudWatchMetrics).toEqual([expect.objectContaining({ Namespace: namespace, Dimensions: [['service', 'cache']] })])
      expect(blob).toMatchObject({ service, cache: cache.name })
    }
    expect(average(perCache(cache, 'HitRate', blobs))).toBe(70)
    expect(sum(perCache(cache, 'Gets', blobs))).toBe(10)
    expect(sum(perCache(cache, 'L1Hits', blobs))).toBe(7)
    expect(sum(perCache(cache, 'Misses', blobs))).toBe(3)
    expect(sum(perCache(cache, 'L1Misses', blobs))).toBe(3)
    expect(sum(perCache(cache, 'Loads', blobs))).toBe(3)
    expect(unitOf(blobs[0]!, 'HitRate')).toBe('Percent')
    expect(unitOf(blobs[0]!, 'LoadLatency')).toBe('Milliseconds')
  })

  test('the average HitRate weighs invocations; Hits over Gets weighs gets', async () => {
    const cache = productsCache()
    await cache.getMany(['a', 'b', 'c'])
    const handler = middy().use(cacheMetrics(shop)).use(reads(cache)).handler(() => Promise.resolve('ok'))
    await invoke(handler, { keys: ['a', 'b', 'c'] })
    await invoke(handler, { keys: ['d'] })

    const blobs = output.blobs()
    expect(average(perCache(cache, 'HitRate', blobs))).toBe(50)
    expect((100 * sum(perCache(cache, 'L1Hits', blobs))) / sum(perCache(cache, 'Gets', blobs))).toBe(75)
  })

  test('one blob per cache, each with its own cache dimension; a cache the invocation did not use writes nothing', async () => {
    const products = productsCache()
    const prices = productsCache()
    const idle = productsCache()
    await idle.get('a')
    const handler = middy().use(cacheMetrics(shop)).use(reads(products)).use(reads(prices)).handler(() => Promise.resolve('ok'))
    await invoke(handler, { keys: ['a', 'a'] })

    const blobs = output.blobs()
    expect(blobs.map((blob) => blob.cache).sort()).toEqual([products.name, prices.name].sort())
    expect(perCache(products, 'Gets', blobs)).toEqual([2])
    expect(perCache(prices, 'Gets', blobs)).toEqual([2])
    expect(perCache(idle, 'Gets', blobs)).toEqual([])
  })

  test('warm-up pings are counted as pings, never in hits, misses or the hit rate; their loads are', async () => {
    const cache = productsCache()
    const handler = middy().use(cacheMetrics(shop)).use(answersPings(cache)).use(reads(cache)).handler(() => Promise.resolve('ok'))
    const events: Reads[] = [
      { keys: ['a'] }, { ping: true }, { keys: ['a'] }, { keys: ['b'] }, { keys: ['a'] }, { ping: true }, { keys: ['b'] },
      { keys: ['c'] }, { keys: ['a'] }, { keys: ['b'] }, { ping: true }, { keys: ['c'] }, { keys: ['a'] },
    ]
    const answers = []
    for (const event of events) answers.push(await invoke(handler, event))
    expect(answers.filter((answer) => answer !== 'ok')).toEqual([{ warmed: true }, { warmed: true }, { warmed: true }])

    const blobs = output.blobs()
    expect(average(perCache(cache, 'HitRate', blobs))).toBe(70)
    expect(sum(perCache(cache, 'Gets', blobs))).toBe(10)
    expect(perInvocation('WarmupPing', blobs)).toEqual([1, 1, 1])
    const pingBlobs = blobs.filter((blob) => blob.cache === cache.name && !metricNamesOf(blob).includes('Gets'))
    expect(pingBlobs).toHaveLength(3)
    for (const blob of pingBlobs) expect(metricNamesOf(blob)).toEqual(['Loads', 'LoadLatency'])
  })
})

describe('cacheMetrics: written once per invocation, on every path', () => {
  test('onError still writes the figures, and the error reaches the caller', async () => {
    const cache = productsCache()
    const handler = middy()
      .use(cacheMetrics(shop))
      .use(reads(cache))
      .handler(() => Promise.reject(new Error('handler failed')))
    await expect(invoke(handler, { keys: ['a'] })).rejects.toThrow('handler failed')

    const blobs = output.blobs()
    expect(blobs).toHaveLength(1)
    expect(perCache(cache, 'Misses', blobs)).toEqual([1])
    expect(perCache(cache, 'HitRate', blobs)).toEqual([0])
  })

  test('an error in a `before` placed ahead of cacheMetrics is still flushed through onError', async () => {
    const cache = productsCache()
    const failsFirst: MiddlewareObj = {
      before: async (request) => {
        await cache.get('a', { scope: invocationOf(request).scope })
        throw new Error('auth failed')
      },
    }
    const handler = middy().use(failsFirst).use(cacheMetrics(shop)).handler(() => Promise.resolve('ok'))
    await expect(invoke(handler)).rejects.toThrow('auth failed')
    expect(perCache(cache, 'Gets', output.blobs())).toEqual([1])
  })

  test('an early return after cacheMetrics flushes through the early-return work, once', async () => {
    const cache = productsCache()
    const answersEarly: MiddlewareObj = {
      before: async (request) => {
        await cache.get('a', { scope: invocationOf(request).scope })
        await runEarlyReturnWork(request)
        return 'cached response'
      },
    }
    const handler = middy().use(cacheMetrics(shop)).use(answersEarly).handler(() => Promise.resolve('ok'))
    expect(await invoke(handler)).toBe('cached response')
    expect(perCache(cache, 'Gets', output.blobs())).toEqual([1])
  })

  test('after a normal flush, neither onError nor the early-return work writes again', async () => {
    const cache = productsCache()
    let request: Parameters<NonNullable<MiddlewareObj['before']>>[0] | undefined
    const failsAfter: MiddlewareObj = {
      before: (seen) => {
        request = seen
      },
      after: () => {
        throw new Error('serialising the response failed')
      },
    }
    // After hooks run in reverse: cacheMetrics flushes in `after`, then failsAfter throws and every onError runs.
    const handler = middy().use(failsAfter).use(cacheMetrics(shop)).use(reads(cache)).handler(() => Promise.resolve('ok'))
    await expect(invoke(handler, { keys: ['a'] })).rejects.toThrow('serialising the response failed')
    expect(invocationOf(request!).earlyReturnWork?.size ?? 0).toBe(0)
    await runEarlyReturnWork(request!)
    expect(perCache(cache, 'Gets', output.blobs())).toEqual([1])
  })

  test.each([
    ['no other middleware settles', (cache: Cache<string>) => reads(cache)],
    [
      'another middleware began settling, not waiting for it',
      (cache: Cache<string>) =>
        ({
          ...reads(cache),
          after: (request) => {
            void settleInvocation(request, 100)
          },
        }) satisfies MiddlewareObj,
    ],
  ])('refreshes still running beside the handler are settled first, so their loads and latency count (%s)', async (_case, cacheMiddleware) => {
    const clock = manualClock()
    const cache = createCache({
      name: `refreshed-${++nextCache}`,
      ttl: '1s',
      staleWhileRevalidate: '1m',
      now: clock.now,
      load: async (key) => {
        await sleep(5)
        clock.advance(40)
        return `product ${key}`
      },
    })
    await cache.get('a')
    clock.advance(2_000)
    const handler = middy().use(cacheMetrics(shop)).use(cacheMiddleware(cache)).handler(() => Promise.resolve('ok'))
    await invoke(handler, { keys: ['a'] })

    const blobs = output.blobs()
    expect(perCache(cache, 'StaleServed', blobs)).toEqual([1])
    expect(perCache(cache, 'HitRate', blobs)).toEqual([100])
    expect(perCache(cache, 'Loads', blobs)).toEqual([1])
    expect(perCache(cache, 'LoadLatency', blobs)).toEqual([40])
  })

  test('a refresh given up after settleBudget counts as a load, but its unknown duration stays out of LoadLatency', async () => {
    const clock = manualClock()
    const slowRefresh = deferred<string>()
    const cache = createCache({
      name: `abandoned-${++nextCache}`,
      ttl: '1s',
      staleWhileRevalidate: '1m',
      now: clock.now,
      load: (key) => {
        if (key === 'stale') return slowRefresh.promise
        clock.advance(40)
        return `product ${key}`
      },
    })
    await cache.set('stale', 'old')
    clock.advance(2_000)
    const handler = middy().use(cacheMetrics({ ...shop, settleBudget: '10ms' })).use(reads(cache)).handler(() => Promise.resolve('ok'))
    await invoke(handler, { keys: ['stale', 'fresh'] })
    slowRefresh.resolve('new')

    const blobs = output.blobs()
    expect(perCache(cache, 'Loads', blobs)).toEqual([2])
    expect(perCache(cache, 'LoadLatency', blobs)).toEqual([40])
  })

  test('two invocations running at once keep their own counts', async () => {
    const cache = productsCache()
    await cache.get('warm')
    const gate = deferred<undefined>()
    const handler = middy<Reads>()
      .use(cacheMetrics(shop))
      .use(reads(cache))
      .handler(async (event) => {
        if (event.keys?.length === 3) await gate.promise
        return 'ok'
      })
    const slow = invoke(handler, { keys: ['warm', 'warm', 'warm'] })
    const fast = invoke(handler, { keys: ['cold', 'warm'] })
    await fast
    gate.resolve(undefined)
    await slow

    const blobs = output.blobs()
    expect(blobs.map((blob) => [blob.Gets, blob.L1Hits, blob.Misses, blob.HitRate])).toEqual([
      [2, 1, 1, 50],
      [3, 3, undefined, 100],
    ])
  })
})

describe('cacheMetrics used twice in one chain', () => {
  /** Answers every request early, after the cacheMetrics placed before it, as warmup or an idempotency check does. */
  const answersEarly: MiddlewareObj = {
    before: async (request) => {
      await runEarlyReturnWork(request)
      return 'stored answer'
    },
  }

  test.each([
    ['with equal options, after the handler', shop, [] as MiddlewareObj[], () => Promise.resolve('ok')],
    ['with equal options, on an error', shop, [], () => Promise.reject(new Error('handler failed'))],
    ['with equal options, on an early return after both', shop, [answersEarly], () => Promise.resolve('ok')],
    ['writing to the same metrics with other groups and resolution', { ...shop, groups: ['gets', 'loads'], highResolution: true } satisfies CacheMetricsOptions, [], () => Promise.resolve('ok')],
  ])('%s: the first to run writes every figure once, and the other warns once, naming where they write', async (_case, secondOptions, after, handle) => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    const cache = productsCache()
    // A list shared by several handlers, and one more cacheMetrics added by mistake.
    const shared = [cacheMetrics(shop), reads(cache)]
    const handler = middy().use(shared).use(cacheMetrics(secondOptions)).use(after).handler(handle)
    for (const key of ['a', 'a']) await invoke(handler, { keys: [key] }).catch(() => undefined)

    const blobs = output.blobs()
    expect(perCache(cache, 'Gets', blobs)).toEqual([1, 1])
    expect(perCache(cache, 'Misses', blobs)).toEqual([1])
    expect(perCache(cache, 'Loads', blobs)).toEqual([1])
    expect(blobs.flatMap((blob) => blob._aws.CloudWatchMetrics.flatMap((directive) => directive.Metrics))).not.toContainEqual(
      expect.objectContaining({ StorageResolution: 1 }),
    )
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/two cacheMetrics write one invocation to .*"namespace":"Shop","service":"orders"/))
  })

  test.each([
    ['after the handler', [] as MiddlewareObj[], () => Promise.resolve('ok')],
    ['on an error', [], () => Promise.reject(new Error('handler failed'))],
    ['on an early return after both', [answersEarly], () => Promise.resolve('ok')],
  ])('writing to the same metrics, the first with fewer groups (%s): each group is written once, by the first that has it', async (_case, after, handle) => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    const cache = productsCache()
    const handler = middy()
      .use(cacheMetrics({ ...shop, groups: ['gets'] }))
      .use(reads(cache))
      .use(cacheMetrics({ ...shop, groups: ['gets', 'loads'], highResolution: true }))
      .use(after)
      .handler(handle)
    await invoke(handler, { keys: ['a'] }).catch(() => undefined)

    const blobs = output.blobs()
    expect(perCache(cache, 'Gets', blobs)).toEqual([1])
    expect(perCache(cache, 'Loads', blobs)).toEqual([1])
    const resolutions = Object.fromEntries(
      blobs.flatMap((blob) => blob._aws.CloudWatchMetrics.flatMap((directive) => directive.Metrics)).map((metric) => [metric.Name, metric.StorageResolution]),
    )
    // Gets from the first, at its standard resolution; Loads from the second, at its high resolution.
    expect(resolutions).toMatchObject({ Gets: undefined, Loads: 1 })
  })

  test('one relying on the POWERTOOLS_* variables and one naming the same namespace and service write to the same metrics: the figures are written once', async () => {
    const restore = setEnv({ POWERTOOLS_METRICS_NAMESPACE: namespace, POWERTOOLS_SERVICE_NAME: service })
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    try {
      const cache = productsCache()
      const handler = middy().use([cacheMetrics(), reads(cache)]).use(cacheMetrics(shop)).handler(() => Promise.resolve('ok'))
      await invoke(handler, { keys: ['a'] })
      expect(perCache(cache, 'Gets', output.blobs())).toEqual([1])
      expect(warn).toHaveBeenCalledTimes(1)
    } finally {
      restore()
    }
  })

  test('one writing elsewhere writes its own figures, without a warning', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    const cache = productsCache()
    const handler = middy().use(cacheMetrics(shop)).use(cacheMetrics({ namespace: 'Elsewhere', service })).use(reads(cache)).handler(() => Promise.resolve('ok'))
    await invoke(handler, { keys: ['a'] })
    const blobs = output.blobs()
    expect(perCache(cache, 'Gets', blobs)).toEqual([1])
    expect(samplesOf(blobs, { namespace: 'Elsewhere', name: 'Gets', dimensions: { service, cache: cache.name } })).toEqual([1])
    expect(warn).not.toHaveBeenCalled()
  })
})

describe('cacheMetrics beside Powertools logMetrics on one Metrics instance', () => {
  const userMetrics = () => new Metrics({ namespace, serviceName: service, defaultDimensions: { stage: 'prod' } })
  const shared = (blobs: readonly EmfBlob[], name: string): number[] => samplesOf(blobs, { namespace, name, dimensions: { service, stage: 'prod' } })
  const ordersHandler = (metrics: Metrics) => () => {
    metrics.addMetric('Orders', MetricUnit.Count, 1)
    return Promise.resolve('ok')
  }

  test.each([
    ['logMetrics first', (metrics: Metrics, cache: Cache<string>) => middy().use(logMetrics(metrics, { throwOnEmptyMetrics: true })).use(cacheMetrics({ metrics })).use(reads(cache))],
    ['cacheMetrics first', (metrics: Metrics, cache: Cache<string>) => middy().use(cacheMetrics({ metrics })).use(logMetrics(metrics, { throwOnEmptyMetrics: true })).use(reads(cache))],
  ])('%s: each flushes its own metrics once, under the same namespace, service and dimensions; nothing lost, no warning', async (_order, chain) => {
    const metrics = userMetrics()
    const cache = productsCache()
    const handler = chain(metrics, cache).handler(ordersHandler(metrics))
    await invoke(handler, { keys: ['a'] })
    await invoke(handler, { keys: ['a'] })

    const blobs = output.blobs()
    expect(blobs).toHaveLength(4)
    expect(shared(blobs, 'Orders')).toEqual([1, 1])
    expect(perCache(cache, 'HitRate', blobs, { stage: 'prod' })).toEqual([0, 100])
    expect(blobs.filter((blob) => 'Orders' in blob).every((blob) => !('Gets' in blob))).toBe(true)
    expect(output.stderr()).toBe('')
  })

  test('an early return flushes both: logMetrics through Powertools cleanupMiddlewares, cacheMetrics through the early-return work', async () => {
    const metrics = userMetrics()
    const cache = productsCache()
    const rejects: MiddlewareObj = {
      before: async (request) => {
        await cache.get('a', { scope: invocationOf(request).scope })
        metrics.addMetric('Rejected', MetricUnit.Count, 1)
        await runEarlyReturnWork(request)
        await cleanupMiddlewares(request)
        return 'rejected'
      },
    }
    const handler = middy().use(logMetrics(metrics)).use(cacheMetrics({ metrics })).use(rejects).handler(ordersHandler(metrics))
    expect(await invoke(handler)).toBe('rejected')

    const blobs = output.blobs()
    expect(blobs).toHaveLength(2)
    expect(shared(blobs, 'Rejected')).toEqual([1])
    expect(perCache(cache, 'Gets', blobs, { stage: 'prod' })).toEqual([1])
    expect(output.stderr()).toBe('')
  })
})

describe('cacheMetrics options and the Powertools environment', () => {
  const oneMiss = async (options: CacheMetricsOptions): Promise<Cache<string>> => {
    const cache = productsCache()
    await invoke(middy().use(cacheMetrics(options)).use(reads(cache)).handler(() => Promise.resolve('ok')), { keys: ['a'] })
    return cache
  }

  test('namespace and service fall back to POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME', async () => {
    const restore = setEnv({ POWERTOOLS_METRICS_NAMESPACE: 'FromEnv', POWERTOOLS_SERVICE_NAME: 'env-service' })
    try {
      const cache = await oneMiss({})
      expect(samplesOf(output.blobs(), { namespace: 'FromEnv', name: 'Gets', dimensions: { service: 'env-service', cache: cache.name } })).toEqual([1])
    } finally {
      restore()
    }
  })

  test.each([
    ['POWERTOOLS_METRICS_DISABLED=true', { POWERTOOLS_METRICS_DISABLED: 'true' }],
    ['POWERTOOLS_DEV=true', { POWERTOOLS_DEV: 'true' }],
  ])('%s writes nothing, as Powertools does', async (_name, variables) => {
    const restore = setEnv(variables)
    try {
      await oneMiss(shop)
      expect(output.blobs()).toEqual([])
    } finally {
      restore()
    }
  })

  test('POWERTOOLS_DEV with POWERTOOLS_METRICS_DISABLED=false writes through the console, as Powertools does', async () => {
    const restore = setEnv({ POWERTOOLS_DEV: 'true', POWERTOOLS_METRICS_DISABLED: 'false' })
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined)
    try {
      const cache = await oneMiss(shop)
      const lines = log.mock.calls.map(([line]) => JSON.parse(line as string) as EmfBlob)
      expect(perCache(cache, 'Gets', lines)).toEqual([1])
    } finally {
      log.mockRestore()
      restore()
    }
  })

  test('the most default dimensions it accepts are written, service and cache beside them', async () => {
    const defaultDimensions = Object.fromEntries(Array.from({ length: 27 }, (_, index) => [`d${index}`, 'x']))
    const cache = await oneMiss({ ...shop, defaultDimensions, groups: ['gets'] })
    const [blob, ...others] = output.blobs()
    expect(others).toEqual([])
    expect(blob!._aws.CloudWatchMetrics[0]?.Dimensions[0]).toHaveLength(29)
    expect(blob).toMatchObject({ service, cache: cache.name, d26: 'x', Gets: 1 })
  })

  test('metrics that cannot be written cost their figures and a warning, never the answer', async () => {
    const failure = new RangeError('Powertools refused the blob')
    jest.spyOn(MetricsWriter.prototype, 'write').mockImplementation(() => {
      throw failure
    })
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    const cache = productsCache()
    const handler = middy().use(cacheMetrics(shop)).use(reads(cache)).handler(() => Promise.resolve('ok'))
    expect(await invoke(handler, { keys: ['a'] })).toBe('ok')
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('could not write'), failure)
  })

  test('high resolution, default dimensions and a choice of groups', async () => {
    const cache = await oneMiss({ ...shop, highResolution: true, defaultDimensions: { stage: 'prod' }, groups: ['loads'] })
    const [blob, ...others] = output.blobs()
    expect(others).toEqual([])
    expect(blob!._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: namespace,
        Dimensions: [['service', 'stage', 'cache']],
        Metrics: [
          { Name: 'Loads', Unit: 'Count', StorageResolution: 1 },
          { Name: 'LoadLatency', Unit: 'Milliseconds', StorageResolution: 1 },
        ],
      },
    ])
    expect(blob).toMatchObject({ service, stage: 'prod', cache: cache.name, Loads: 1 })
  })

  test('a shared instance gives its namespace, service and default dimensions; cacheMetrics may add its own', async () => {
    const metrics = new Metrics({ namespace: 'Shared', serviceName: 'checkout', defaultDimensions: { stage: 'beta' } })
    const cache = await oneMiss({ metrics, defaultDimensions: { team: 'payments' } })
    const dimensions = { service: 'checkout', stage: 'beta', team: 'payments', cache: cache.name }
    expect(samplesOf(output.blobs(), { namespace: 'Shared', name: 'Gets', dimensions })).toEqual([1])
    expect(metrics.hasStoredMetrics()).toBe(false)
  })

  test.each([
    ['neither a namespace nor POWERTOOLS_METRICS_NAMESPACE', {}, undefined],
    ['a service, and POWERTOOLS_METRICS_NAMESPACE of spaces only (unset, as Powertools reads it)', { service }, '   '],
  ])('%s: refused at construction, naming the option and the variable, rather than every blob going to "default_namespace"', (_case, options, variable) => {
    const restore = setEnv({ POWERTOOLS_METRICS_NAMESPACE: variable })
    try {
      const construct = () => cacheMetrics(options)
      expect(construct).toThrow(CacheOptionsError)
      expect(construct).toThrow(/^middy-cache: option "namespace" is required: .*POWERTOOLS_METRICS_NAMESPACE/)
    } finally {
      restore()
    }
  })

  test('a namespace from POWERTOOLS_METRICS_NAMESPACE that CloudWatch would refuse is refused at construction, naming the variable', () => {
    const restore = setEnv({ POWERTOOLS_METRICS_NAMESPACE: 'AWS/Lambda' })
    try {
      expect(() => cacheMetrics({ service })).toThrow('option "namespace" is taken from POWERTOOLS_METRICS_NAMESPACE, which holds "AWS/Lambda": it must be 1 to 255 letters')
    } finally {
      restore()
    }
  })

  test('a shared instance without a namespace (none given, POWERTOOLS_METRICS_NAMESPACE unset) is refused at construction', () => {
    const metrics = new Metrics({ serviceName: service })
    expect(() => cacheMetrics({ metrics })).toThrow(/^middy-cache: option "metrics" has no namespace: .*POWERTOOLS_METRICS_NAMESPACE/)
  })

  test('a shared instance made while POWERTOOLS_METRICS_NAMESPACE was set writes there', async () => {
    const restore = setEnv({ POWERTOOLS_METRICS_NAMESPACE: 'FromEnv' })
    try {
      const cache = await oneMiss({ metrics: new Metrics({ serviceName: service }) })
      expect(samplesOf(output.blobs(), { namespace: 'FromEnv', name: 'Gets', dimensions: { service, cache: cache.name } })).toEqual([1])
    } finally {
      restore()
    }
  })

  test.each([
    [{ namespaces: 'Shop' }, 'namespaces', 'did you mean "namespace"'],
    [{ settleBudjet: '50ms' }, 'settleBudjet', 'did you mean "settleBudget"'],
    [{ namespace, settleBudget: 'soon' }, 'settleBudget', "'500ms'"],
    [{ namespace, settleBudget: '1h' }, 'settleBudget', 'from 0 ms to 900000 ms'],
    [{ namespace: 'AWS/Lambda' }, 'namespace', 'not starting with "AWS/"'],
    [{ namespace: '' }, 'namespace', '1 to 255'],
    // CloudWatch wants something besides whitespace in a namespace, and drops every blob of this one.
    [{ namespace: '   ', service }, 'namespace', 'not spaces alone'],
    [{ namespace, service: 7 }, 'service', 'printable ASCII'],
    [{ namespace, highResolution: 'yes' }, 'highResolution', 'true or false'],
    [{ namespace, groups: [] }, 'groups', "'invocation', 'gets', 'loads', 'l2'"],
    [{ namespace, groups: ['gets', 'hits'] }, 'groups[1]', `one of 'invocation', 'gets', 'loads', 'l2', 'snapshot'; got "hits"`],
    [{ defaultDimensions: { cache: 'x' } }, 'defaultDimensions', 'sets it on every per-cache blob'],
    [{ defaultDimensions: { service: 'x' } }, 'defaultDimensions', 'use the service option'],
    [{ defaultDimensions: { HitRate: 'x' } }, 'defaultDimensions', 'the name of a metric'],
    [{ defaultDimensions: { stage: '' } }, 'defaultDimensions', 'value of "stage"'],
    [{ namespace, defaultDimensions: Object.fromEntries(Array.from({ length: 28 }, (_, index) => [`d${index}`, 'x'])) }, 'defaultDimensions', 'more than 27 dimensions'],
    [{ defaultDimensions: { _aws: 'x' } }, 'defaultDimensions', 'the key of the EMF directive'],
    [{ metrics: { namespace: 'Shop' } }, 'metrics', 'Powertools Metrics instance'],
    [{ metrics: new Metrics({ namespace }), namespace }, 'namespace', 'comes from the shared metrics instance'],
    [{ metrics: new Metrics({ namespace, defaultDimensions: { cache: 'x' } }) }, 'metrics', 'sets it on every per-cache blob'],
    [{ metrics: new Metrics({ namespace: 'AWS/Lambda' }) }, 'metrics', 'has the namespace "AWS/Lambda": it must be 1 to 255 letters'],
    [{ metrics: new Metrics({ namespace: 'Shop (prod)' }) }, 'metrics', 'has the namespace "Shop (prod)"'],
    [{ metrics: new Metrics({ namespace, serviceName: 'café' }) }, 'metrics', 'has a "service" dimension whose value is not 1 to 1024 printable ASCII characters: "café"'],
    [{ metrics: new Metrics({ namespace, defaultDimensions: { stage: 'prød' } }) }, 'metrics', 'has a "stage" dimension whose value'],
  ])('rejects %p at construction, naming %s', (options, option, message) => {
    const construct = () => cacheMetrics(options as CacheMetricsOptions)
    expect(construct).toThrow(CacheOptionsError)
    expect(construct).toThrow(`option "${option}"`)
    expect(construct).toThrow(message)
  })
})

let nextSecretsName = 0
/** A Secrets Manager client answered by a mock: a secret's value changes on every fetch. */
const mockedSecrets = (): { client: SecretsManagerClient; restore: () => void } => {
  const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
  const mock = mockClient(client)
  let gets = 0
  mock.on(GetSecretValueCommand).callsFake(() => ({ SecretString: `sk_live_${++gets}` }))
  mock.on(DescribeSecretCommand).resolves({ RotationEnabled: false })
  return { client, restore: () => { mock.restore() } }
}

describe('secretsCache refreshOn that throws', () => {
  test('the handler error reaches the caller, cacheMetrics placed before still writes the invocation', async () => {
    const { client, restore } = mockedSecrets()
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    const name = `secrets-hooks-${++nextSecretsName}`
    const handler = middy()
      .use(cacheMetrics({ namespace, service }))
      .use(
        secretsCache({
          name,
          secrets: { stripeKey: 'shop/stripe' },
          // A predicate written for AWS SDK errors, as users write it: a plain Error has no $metadata.
          refreshOn: (error) => (error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode === 401,
          prefetch: false,
          secretsManager: { awsSdkV3Client: client },
        }),
      )
      .handler(() => Promise.reject(new Error('boom')))
    await expect(invoke(handler)).rejects.toThrow('boom')
    expect(samplesOf(output.blobs(), { namespace, name: 'Gets', dimensions: { service, cache: name } })).toEqual([1])
    expect(warn).toHaveBeenCalledTimes(1)
    warn.mockRestore()
    restore()
  })
})

describe('cacheMetrics before logMetrics with throwOnEmptyMetrics', () => {
  test('a request whose handler adds no metric still writes the cache metrics (with flushOnEarlyReturn)', async () => {
    const { client, restore } = mockedSecrets()
    const name = `secrets-hooks-${++nextSecretsName}`
    const metrics = new Metrics({ namespace, serviceName: service })
    const handler = middy({ requestEnd: flushOnEarlyReturn })
      .use(cacheMetrics({ metrics }))
      .use(logMetrics(metrics, { throwOnEmptyMetrics: true }))
      .use(secretsCache({ name, secrets: { stripeKey: 'shop/stripe' }, prefetch: false, secretsManager: { awsSdkV3Client: client } }))
      .handler((event) => {
        if ((event as { add?: boolean }).add === true) metrics.addMetric('Orders', MetricUnit.Count, 1)
        return Promise.resolve('ok')
      })
    await expect(invoke(handler, { add: true })).resolves.toBe('ok')
    await expect(invoke(handler, { add: false })).rejects.toThrow('The number of metrics recorded must be higher than zero')
    expect(samplesOf(output.blobs(), { namespace, name: 'Gets', dimensions: { service, cache: name } })).toEqual([1, 1])
    restore()
  })
})
