import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import middy, { type MiddlewareObj } from '@middy/core'
import { manualClock } from '../support/clock.js'
import { captureOutput, metricNamesOf, samplesOf, type Captured, type EmfBlob } from '../support/emf.js'
import { setEnv } from '../support/env.js'
import { invoke } from '../support/invoke.js'
import { forgetProcessWideState } from '../support/process-state.js'

/**
 * warmup and the metrics flushes, in both orders: a ping ends the chain in warmup's `before`, so
 * Middy runs neither the `after` of the middlewares before it nor anything of those after it.
 * Every test parses what reached stdout as EMF (captureOutput validates each line).
 */

type WarmupModule = typeof import('../../middlewares/warmup.js')
type CacheMetricsModule = typeof import('../../middlewares/cache-metrics.js')
type InvocationModule = typeof import('../../middlewares/shared/invocation.js')
type EngineModule = typeof import('../../src/index.js')
type Environment = Pick<WarmupModule, 'warmup'> & Pick<CacheMetricsModule, 'cacheMetrics'> & Pick<InvocationModule, 'invocationOf'> & EngineModule

/**
 * A fresh copy of the suite's modules, without the process-wide state, is a fresh execution environment: its first invocation is the
 * cold one, its cache registry and its registered metrics flushers are its own.
 */
const freshEnvironment = (): Environment => {
  let modules: Environment | undefined
  forgetProcessWideState()
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    modules = {
      ...(require('../../src/index.js') as EngineModule),
      warmup: (require('../../middlewares/warmup.js') as WarmupModule).warmup,
      cacheMetrics: (require('../../middlewares/cache-metrics.js') as CacheMetricsModule).cacheMetrics,
      invocationOf: (require('../../middlewares/shared/invocation.js') as InvocationModule).invocationOf,
    }
    /* eslint-enable @typescript-eslint/no-require-imports */
  })
  if (modules === undefined) throw new Error('isolateModules did not run')
  return modules
}

const namespace = 'Shop'
const service = 'orders'
const perInvocation = (name: string, blobs: readonly EmfBlob[], ns = namespace): number[] => samplesOf(blobs, { namespace: ns, name, dimensions: { service } })
const perCache = (name: string, blobs: readonly EmfBlob[], cache = 'products', ns = namespace): number[] =>
  samplesOf(blobs, { namespace: ns, name, dimensions: { service, cache } })

/** A registered cache with one entry about to stop being fresh, and a middleware reading it for real requests. */
const productsIn = (environment: Environment) => {
  const clock = manualClock()
  const load = jest.fn((key: string) => `product ${key}`)
  const cache = environment.createCache({ name: 'products', load, ttl: '1m', now: clock.now })
  environment.registerCache({ cache, kind: environment.CacheKind.Data, secret: false })
  const reads: MiddlewareObj = {
    before: async (request) => {
      await cache.get('a', { scope: environment.invocationOf(request).scope })
    },
  }
  return { cache, load, reads }
}

const handlerBehind = (...middlewares: MiddlewareObj[]) => {
  const handle = jest.fn(() => Promise.resolve('handled'))
  let chain = middy()
  for (const middleware of middlewares) chain = chain.use(middleware)
  return { handler: chain.handler(handle), handle }
}

let output: Captured
let restoreEnv: () => void
beforeEach(() => {
  restoreEnv = setEnv({
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    POWERTOOLS_DEV: undefined,
    POWERTOOLS_METRICS_DISABLED: undefined,
    POWERTOOLS_METRICS_NAMESPACE: undefined,
    POWERTOOLS_SERVICE_NAME: undefined,
    POWERTOOLS_METRICS_FUNCTION_NAME: undefined,
  })
  output = captureOutput()
})
afterEach(() => {
  output.restore()
  restoreEnv()
})

describe('cacheMetrics writes a ping whatever its place beside warmup', () => {
  test.each([
    ['warmup first, as DESIGN.md chains it', (environment: Environment, reads: MiddlewareObj) => [environment.warmup(), environment.cacheMetrics({ namespace, service }), reads]],
    ['cacheMetrics first', (environment: Environment, reads: MiddlewareObj) => [environment.cacheMetrics({ namespace, service }), environment.warmup(), reads]],
  ])('%s: the first ping of a fresh environment writes ColdStart, InitDuration, WarmupPing and its refresh, once; a request after it writes its gets, once', async (_order, chain) => {
    const environment = freshEnvironment()
    const { cache, load, reads } = productsIn(environment)
    await cache.get('a', {})
    load.mockClear()
    const { handler, handle } = handlerBehind(...chain(environment, reads))

    const first = (await invoke(handler, { warmer: true })) as { warmed: boolean; coldStart: boolean; refreshed: number }
    expect(first).toMatchObject({ warmed: true, coldStart: true, refreshed: 1 })
    const afterFirstPing = output.blobs()
    expect(afterFirstPing).toHaveLength(2)
    expect(perInvocation('ColdStart', afterFirstPing)).toEqual([1])
    expect(perInvocation('InitDuration', afterFirstPing)).toEqual([expect.any(Number)])
    expect(perInvocation('WarmupPing', afterFirstPing)).toEqual([1])
    expect(perCache('Loads', afterFirstPing)).toEqual([1])
    expect(afterFirstPing.flatMap(metricNamesOf)).not.toContain('Gets')
    expect(afterFirstPing.flatMap(metricNamesOf)).not.toContain('HitRate')

    await invoke(handler, { warmer: true })
    const afterSecondPing = output.blobs().slice(afterFirstPing.length)
    expect(afterSecondPing).toHaveLength(2)
    expect(perInvocation('WarmupPing', afterSecondPing)).toEqual([1])
    expect(perInvocation('ColdStart', afterSecondPing)).toEqual([])

    expect(await invoke(handler, { httpMethod: 'GET' })).toBe('handled')
    const afterRequest = output.blobs().slice(afterFirstPing.length + afterSecondPing.length)
    expect(afterRequest).toHaveLength(1)
    expect(perCache('Gets', afterRequest)).toEqual([1])
    expect(perInvocation('WarmupPing', afterRequest)).toEqual([])
    expect(handle).toHaveBeenCalledTimes(1)
    expect(load).toHaveBeenCalledTimes(2)
  })

  test('a ping under provisioned concurrency writes WarmupPing and no ColdStart, in either order', async () => {
    const restore = setEnv({ AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency' })
    try {
      for (const first of ['warmup', 'cacheMetrics']) {
        const environment = freshEnvironment()
        const pair = [environment.warmup(), environment.cacheMetrics({ namespace, service })]
        const { handler } = handlerBehind(...(first === 'warmup' ? pair : pair.reverse()))
        await invoke(handler, { warmer: true })
      }
      const blobs = output.blobs()
      expect(perInvocation('WarmupPing', blobs)).toEqual([1, 1])
      expect(perInvocation('ColdStart', blobs)).toEqual([])
    } finally {
      restore()
    }
  })

  test.each([
    ['alike', { namespace, service }],
    ['writing to the same metrics with other groups', { namespace, service, groups: ['invocation'] }],
  ] as const)('several handlers in one module, each with its own cacheMetrics after warmup, %s: a ping is written once', async (_case, otherOptions) => {
    const environment = freshEnvironment()
    const pinged = handlerBehind(environment.warmup(), environment.cacheMetrics({ namespace, service }))
    handlerBehind(environment.warmup(), environment.cacheMetrics(otherOptions))
    await invoke(pinged.handler, { warmer: true })
    expect(perInvocation('WarmupPing', output.blobs())).toEqual([1])
  })

  test.each([
    ['both after warmup, the first without the invocation group', (environment: Environment, withoutInvocation: MiddlewareObj, withIt: MiddlewareObj) => [environment.warmup(), withoutInvocation, withIt]],
    ['warmup between them, the first without the invocation group', (environment: Environment, withoutInvocation: MiddlewareObj, withIt: MiddlewareObj) => [withoutInvocation, environment.warmup(), withIt]],
    ['warmup between them, the first with the invocation group', (environment: Environment, withoutInvocation: MiddlewareObj, withIt: MiddlewareObj) => [withIt, environment.warmup(), withoutInvocation]],
  ])('two cacheMetrics writing to the same metrics with other groups (%s): the ping writes ColdStart, WarmupPing and the refresh once each', async (_case, chain) => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    const environment = freshEnvironment()
    const { cache, reads } = productsIn(environment)
    await cache.get('a', {})
    const withoutInvocation = environment.cacheMetrics({ namespace, service, groups: ['gets', 'loads'] })
    const withIt = environment.cacheMetrics({ namespace, service })
    const { handler } = handlerBehind(...chain(environment, withoutInvocation, withIt), reads)
    await invoke(handler, { warmer: true })
    const blobs = output.blobs()
    expect(perInvocation('ColdStart', blobs)).toEqual([1])
    expect(perInvocation('InitDuration', blobs)).toEqual([expect.any(Number)])
    expect(perInvocation('WarmupPing', blobs)).toEqual([1])
    expect(perCache('Loads', blobs)).toEqual([1])
    jest.restoreAllMocks()
  })

  test('a cacheMetrics placed before warmup is known to be the chain’s: another of the module, placed after warmup elsewhere, does not write this ping', async () => {
    const environment = freshEnvironment()
    const pinged = handlerBehind(environment.cacheMetrics({ namespace, service }), environment.warmup())
    handlerBehind(environment.warmup(), environment.cacheMetrics({ namespace: 'Elsewhere', service }))
    await invoke(pinged.handler, { warmer: true })
    const blobs = output.blobs()
    expect(perInvocation('WarmupPing', blobs)).toEqual([1])
    expect(perInvocation('WarmupPing', blobs, 'Elsewhere')).toEqual([])
  })

  test('two requests pinged at once each write their own ping, once', async () => {
    const environment = freshEnvironment()
    const { handler } = handlerBehind(environment.warmup({ childDelay: '30ms' }), environment.cacheMetrics({ namespace, service }))
    // serverless-plugin-warmup pings hold their environment for childDelay: both are under way together.
    await Promise.all([invoke(handler, { source: 'serverless-plugin-warmup' }), invoke(handler, { source: 'serverless-plugin-warmup' })])
    const blobs = output.blobs()
    expect(perInvocation('WarmupPing', blobs)).toEqual([1, 1])
    expect(perInvocation('ColdStart', blobs)).toEqual([1])
  })
})

describe('Powertools logMetrics on a ping', () => {
  /** Metrics the function recorded outside any invocation (during INIT, say): only a flush writes them. */
  const userMetrics = (): Metrics => {
    const metrics = new Metrics({ namespace, serviceName: service })
    metrics.addMetric('ConfigLoaded', MetricUnit.Count, 1)
    return metrics
  }
  const powertoolsColdStarts = (blobs: readonly EmfBlob[]): number[] =>
    samplesOf(blobs, { namespace, name: 'ColdStart', dimensions: { service, function_name: 'test-function' } })
  const userSamples = (blobs: readonly EmfBlob[]): number[] => samplesOf(blobs, { namespace, name: 'ConfigLoaded', dimensions: { service } })

  test('placed before warmup: its cleanup flushes on the ping, ColdStart included (captured in its before)', async () => {
    const environment = freshEnvironment()
    const metrics = userMetrics()
    const { handler } = handlerBehind(logMetrics(metrics, { captureColdStartMetric: true }), environment.warmup())
    await invoke(handler, { warmer: true })
    const blobs = output.blobs()
    expect(userSamples(blobs)).toEqual([1])
    expect(powertoolsColdStarts(blobs)).toEqual([1])
    expect(output.stderr()).toBe('')
  })

  test('placed after warmup, with warmup({ metrics }): what the instance holds is published on the ping; its ColdStart goes with the first request, as its before runs then', async () => {
    const environment = freshEnvironment()
    const metrics = userMetrics()
    const { handler } = handlerBehind(environment.warmup({ metrics }), logMetrics(metrics, { captureColdStartMetric: true }))
    await invoke(handler, { warmer: true })
    const atPing = output.blobs()
    expect(userSamples(atPing)).toEqual([1])
    expect(powertoolsColdStarts(atPing)).toEqual([])
    expect(metrics.hasStoredMetrics()).toBe(false)

    metrics.addMetric('ConfigLoaded', MetricUnit.Count, 1)
    await invoke(handler, { httpMethod: 'GET' })
    const atRequest = output.blobs().slice(atPing.length)
    expect(powertoolsColdStarts(atRequest)).toEqual([1])
    expect(userSamples(atRequest)).toEqual([1])
    expect(output.stderr()).toBe('')
  })

  test('placed after warmup, without the option: the ping cannot reach it; nothing is lost, the next request flushes what it holds', async () => {
    const environment = freshEnvironment()
    const metrics = userMetrics()
    const { handler } = handlerBehind(environment.warmup(), logMetrics(metrics))
    await invoke(handler, { warmer: true })
    expect(output.blobs()).toEqual([])
    await invoke(handler, { httpMethod: 'GET' })
    expect(userSamples(output.blobs())).toEqual([1])
  })

  test.each([
    ['warmup first', (environment: Environment, metrics: Metrics) => [environment.warmup({ metrics }), logMetrics(metrics, { throwOnEmptyMetrics: true }), environment.cacheMetrics({ metrics })]],
    ['warmup last', (environment: Environment, metrics: Metrics) => [logMetrics(metrics, { throwOnEmptyMetrics: true }), environment.cacheMetrics({ metrics }), environment.warmup({ metrics })]],
    ['warmup between', (environment: Environment, metrics: Metrics) => [environment.cacheMetrics({ metrics }), environment.warmup({ metrics }), logMetrics(metrics, { throwOnEmptyMetrics: true })]],
  ])('with cacheMetrics on the same instance (%s): each writes the ping once, nothing twice, no warning', async (_order, chain) => {
    const environment = freshEnvironment()
    const { cache, reads } = productsIn(environment)
    await cache.get('a')
    const metrics = userMetrics()
    const { handler } = handlerBehind(...chain(environment, metrics), reads)
    const answer = (await invoke(handler, { warmer: true })) as { warnings?: unknown }
    expect(answer.warnings).toBeUndefined()
    const blobs = output.blobs()
    expect(userSamples(blobs)).toEqual([1])
    expect(perInvocation('WarmupPing', blobs)).toEqual([1])
    expect(perInvocation('ColdStart', blobs)).toEqual([1])
    expect(perCache('Loads', blobs)).toEqual([1])
    expect(output.stderr()).toBe('')
  })

  test('warmup({ metrics }) refuses what is no Metrics instance, at construction', () => {
    const environment = freshEnvironment()
    expect(() => environment.warmup({ metrics: { namespace } as unknown as Metrics })).toThrow(/option "metrics" must be a Powertools Metrics instance/)
    expect(() => environment.warmup({ metrics: [new Metrics({ namespace }), 'x' as unknown as Metrics] })).toThrow(/option "metrics"/)
  })
})
