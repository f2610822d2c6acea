import middy, { type MiddlewareObj } from '@middy/core'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { Metrics } from '@aws-lambda-powertools/metrics'
import { createCache, type Cache } from '../../src/index.js'
import { captureOutput, samplesOf, type Captured, type EmfBlob } from '../support/emf.js'
import { setEnv } from '../support/env.js'
import { invoke } from '../support/invoke.js'
import { forgetProcessWideState } from '../support/process-state.js'

type CacheMetricsModule = typeof import('../../middlewares/cache-metrics.js')
type InvocationModule = typeof import('../../middlewares/shared/invocation.js')
type FlushOnEarlyReturnModule = typeof import('../../middlewares/flush-on-early-return.js')
type WarmupModule = typeof import('../../middlewares/warmup.js')
type MarkInvocationStartModule = typeof import('../../middlewares/mark-invocation-start.js')
type ContextValuesModule = typeof import('../../middlewares/shared/context-values.js')
type EngineModule = typeof import('../../src/index.js')
type Environment = CacheMetricsModule &
  InvocationModule &
  FlushOnEarlyReturnModule &
  MarkInvocationStartModule &
  Pick<WarmupModule, 'warmup'> &
  Pick<ContextValuesModule, 'contextValuesMiddleware'> &
  Pick<EngineModule, 'createCache'>

/** A fresh copy of the suite's modules, without the process-wide state, is a fresh execution environment: its first invocation is the cold one. */
const freshEnvironment = (): Environment => {
  let modules: Environment | undefined
  forgetProcessWideState()
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    modules = {
      ...(require('../../middlewares/cache-metrics.js') as CacheMetricsModule),
      ...(require('../../middlewares/shared/invocation.js') as InvocationModule),
      ...(require('../../middlewares/flush-on-early-return.js') as FlushOnEarlyReturnModule),
      ...(require('../../middlewares/mark-invocation-start.js') as MarkInvocationStartModule),
      warmup: (require('../../middlewares/warmup.js') as WarmupModule).warmup,
      contextValuesMiddleware: (require('../../middlewares/shared/context-values.js') as ContextValuesModule).contextValuesMiddleware,
      createCache: (require('../../src/index.js') as EngineModule).createCache,
    }
    /* eslint-enable @typescript-eslint/no-require-imports */
  })
  return modules!
}

const namespace = 'Shop'
const service = 'orders'
const perInvocation = (name: string, blobs: readonly EmfBlob[]): number[] => samplesOf(blobs, { namespace, name, dimensions: { service } })

/**
 * Three invocations of a handler that reads one cache, in a fresh environment; the first may be a
 * ping. `metrics` makes the chain's cacheMetrics (one by default).
 */
const threeInvocations = async (firstIsPing: boolean, metrics = (environment: Environment): MiddlewareObj[] => [environment.cacheMetrics({ namespace, service })]): Promise<void> => {
  const environment = freshEnvironment()
  const { invocationOf, runEarlyReturnWork } = environment
  const cache: Cache<string> = createCache({ name: 'products', load: (key) => `product ${key}`, ttl: '1h' })
  const handler = middy()
    .use(metrics(environment))
    .before(async (request) => {
      const invocation = invocationOf(request)
      await cache.get('a', { scope: invocation.scope })
      if (!(request.event as { ping?: boolean }).ping) return undefined
      invocation.warmupPing = true
      await runEarlyReturnWork(request)
      return 'warmed'
    })
    .handler(() => Promise.resolve('ok'))
  await invoke(handler, { ping: firstIsPing })
  await invoke(handler, {})
  await invoke(handler, {})
}

let output: Captured
let restoreEnv: () => void
afterEach(() => {
  output.restore()
  restoreEnv()
})
const environment = (initializationType: string): void => {
  restoreEnv = setEnv({ AWS_LAMBDA_INITIALIZATION_TYPE: initializationType, POWERTOOLS_DEV: undefined, POWERTOOLS_METRICS_DISABLED: undefined })
  output = captureOutput()
}

describe('ColdStart and InitDuration', () => {
  test('on demand: once, on the first invocation of the environment, with its INIT duration', async () => {
    environment('on-demand')
    await threeInvocations(false)
    const blobs = output.blobs()
    expect(perInvocation('ColdStart', blobs)).toEqual([1])
    const [initDuration, ...more] = perInvocation('InitDuration', blobs)
    expect(more).toEqual([])
    expect(initDuration).toBeGreaterThan(0)
    // Written before the first invocation's per-cache blob, which the later ones follow.
    expect(blobs.map((blob) => ('ColdStart' in blob ? 'cold' : blob.cache))).toEqual(['cold', 'products', 'products', 'products'])
  })

  test('on demand, first invoked by a warm-up ping: the ping reports the cold start', async () => {
    environment('on-demand')
    await threeInvocations(true)
    const blobs = output.blobs()
    expect(blobs.filter((blob) => 'ColdStart' in blob)).toEqual([expect.objectContaining({ ColdStart: 1, WarmupPing: 1 })])
  })

  test.each([
    ['the first without the invocation group', (environment: Environment) => [environment.cacheMetrics({ namespace, service, groups: ['gets', 'loads'] }), environment.cacheMetrics({ namespace, service })]],
    ['the second without it', (environment: Environment) => [environment.cacheMetrics({ namespace, service }), environment.cacheMetrics({ namespace, service, groups: ['gets'] })]],
    ['on one Powertools Metrics instance, the first without it', (environment: Environment) => {
      const metrics = new Metrics({ namespace, serviceName: service })
      return [environment.cacheMetrics({ metrics, groups: ['gets'] }), environment.cacheMetrics({ metrics, groups: ['invocation', 'loads'] })]
    }],
  ])('two cacheMetrics writing to the same metrics with other groups (%s): ColdStart and InitDuration once, on the first invocation, and every gets figure once', async (_case, metrics) => {
    environment('on-demand')
    jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    try {
      await threeInvocations(false, metrics)
      const blobs = output.blobs()
      expect(perInvocation('ColdStart', blobs)).toEqual([1])
      expect(perInvocation('InitDuration', blobs)).toEqual([expect.any(Number)])
      expect(samplesOf(blobs, { namespace, name: 'Gets', dimensions: { service, cache: 'products' } })).toEqual([1, 1, 1])
    } finally {
      jest.restoreAllMocks()
    }
  })

  test.each([
    ['the first without the invocation group', (environment: Environment) => [environment.cacheMetrics({ namespace, service, groups: ['gets', 'loads'] }), environment.cacheMetrics({ namespace, service })]],
    ['the second without it', (environment: Environment) => [environment.cacheMetrics({ namespace, service }), environment.cacheMetrics({ namespace, service, groups: ['gets'] })]],
  ])('two cacheMetrics writing to the same metrics with other groups (%s), first invoked by a ping: ColdStart and WarmupPing once', async (_case, metrics) => {
    environment('on-demand')
    jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    try {
      await threeInvocations(true, metrics)
      const blobs = output.blobs()
      expect(perInvocation('ColdStart', blobs)).toEqual([1])
      expect(perInvocation('WarmupPing', blobs)).toEqual([1])
    } finally {
      jest.restoreAllMocks()
    }
  })

  type Event = { invalid?: boolean }
  /** Answers an invalid event early, as a validator placed ahead of the chain's cacheMetrics does. */
  const validator: MiddlewareObj<Event> = { before: (request) => (request.event.invalid === true ? { statusCode: 400 } : undefined) }

  // A validator placed first, without the hook, runs none of the suite's code: the next invocation is
  // then the first the suite sees, and nothing tells it otherwise (see the README).
  test.each([
    ['placed before cacheMetrics, with flushOnEarlyReturn', [1], ({ cacheMetrics, flushOnEarlyReturn }: Environment) =>
      middy<Event>({ requestEnd: flushOnEarlyReturn }).use(validator).use(cacheMetrics({ namespace, service }) as MiddlewareObj<Event>)],
    ['placed after cacheMetrics, without it', [], ({ cacheMetrics }: Environment) =>
      middy<Event>().use(cacheMetrics({ namespace, service }) as MiddlewareObj<Event>).use(validator)],
    ['placed between warmup and cacheMetrics, without it', [], ({ cacheMetrics, warmup }: Environment) =>
      middy<Event>().use(warmup() as MiddlewareObj<Event>).use(validator).use(cacheMetrics({ namespace, service }) as MiddlewareObj<Event>)],
  ])('on demand, the first invocation answered early by a validator %s: its cold start is written with it or not at all, never with the next', async (_case, coldOnFirst, chain) => {
    environment('on-demand')
    const handler = chain(freshEnvironment()).handler(() => Promise.resolve('ok'))
    expect(await invoke(handler, { invalid: true })).toEqual({ statusCode: 400 })
    const first = output.blobs()
    expect(perInvocation('ColdStart', first)).toEqual(coldOnFirst)
    expect(perInvocation('InitDuration', first)).toHaveLength(coldOnFirst.length)

    expect(await invoke(handler, {})).toBe('ok')
    const next = output.blobs().slice(first.length)
    expect(perInvocation('ColdStart', next)).toEqual([])
    expect(perInvocation('InitDuration', next)).toEqual([])
  })

  test('on demand, a cacheMetrics made once invocations were served from memory with nothing counted (values prefetched at INIT): no cold start', async () => {
    environment('on-demand')
    const { cacheMetrics, contextValuesMiddleware, createCache } = freshEnvironment()
    const cache = createCache<unknown>({ name: 'config', load: (key: string) => `value of ${key}`, ttl: '1h' })
    const entries = [{ property: 'table', key: '/shop/table', optional: false, label: 'parameter "/shop/table"' }]
    const config = contextValuesMiddleware({ middleware: 'configCache', cache, contextName: 'config', entries, prefetch: true, settleBudgetMs: 100, holderFor: () => ({}) })
    await nextTurn()
    const served = middy().use(config).handler(() => Promise.resolve('served'))
    for (let invocation = 0; invocation < 3; invocation++) expect(await invoke(served)).toBe('served')

    // A second handler of the module, built on demand, as a router may build its routes.
    const metered = middy().use(cacheMetrics({ namespace, service })).use(config).handler(() => Promise.resolve('metered'))
    expect(await invoke(metered)).toBe('metered')
    const blobs = output.blobs()
    expect(samplesOf(blobs, { namespace, name: 'L1Hits', dimensions: { service, cache: 'config' } })).toEqual([1])
    expect(perInvocation('ColdStart', blobs)).toEqual([])
    expect(perInvocation('InitDuration', blobs)).toEqual([])
  })

  test.each([['provisioned-concurrency'], ['snap-start']])('%s: never', async (initializationType) => {
    environment(initializationType)
    await threeInvocations(false)
    const blobs = output.blobs()
    expect(blobs).toHaveLength(3)
    expect(perInvocation('ColdStart', blobs)).toEqual([])
    expect(perInvocation('InitDuration', blobs)).toEqual([])
  })
})

describe('InitDuration: from the start of the process (INIT) to the start of the first invocation', () => {
  /** A middleware placed before the suite's that does work of its own at the first invocation (loads its configuration, say). */
  const loadsOnFirstUse = () => {
    const seen = { startedAt: Number.POSITIVE_INFINITY, endedAt: 0 }
    const work = async (): Promise<void> => {
      seen.startedAt = Math.min(seen.startedAt, performance.now())
      await nextTurn()
      seen.endedAt = Math.max(seen.endedAt, performance.now())
    }
    const middleware: MiddlewareObj = { before: work }
    return { seen, work, middleware }
  }

  test('with markInvocationStart as Middy’s requestStart hook, the work of a middleware placed before the suite’s is not counted in INIT', async () => {
    environment('on-demand')
    const { cacheMetrics, markInvocationStart } = freshEnvironment()
    const { seen, middleware } = loadsOnFirstUse()
    const handler = middy({ requestStart: markInvocationStart }).use(middleware).use(cacheMetrics({ namespace, service })).handler(() => Promise.resolve('ok'))
    const invokedAt = performance.now()
    await invoke(handler)
    const [initDuration] = perInvocation('InitDuration', output.blobs())
    expect(initDuration).toBeGreaterThanOrEqual(invokedAt)
    expect(initDuration).toBeLessThanOrEqual(seen.startedAt)
  })

  test('with markInvocationStart, a first invocation answered early by a middleware placed before the suite’s is the cold one, with flushOnEarlyReturn', async () => {
    environment('on-demand')
    const { cacheMetrics, markInvocationStart, flushOnEarlyReturn } = freshEnvironment()
    const { seen, work } = loadsOnFirstUse()
    const answersEarly: MiddlewareObj = {
      before: async () => {
        await work()
        return 'stored answer'
      },
    }
    const handler = middy({ requestStart: markInvocationStart, requestEnd: flushOnEarlyReturn })
      .use(answersEarly)
      .use(cacheMetrics({ namespace, service }))
      .handler(() => Promise.resolve('ok'))
    expect(await invoke(handler)).toBe('stored answer')
    const [initDuration, ...more] = perInvocation('InitDuration', output.blobs())
    expect(more).toEqual([])
    expect(initDuration).toBeLessThanOrEqual(seen.startedAt)
  })

  test('with markInvocationStart, a handler whose middlewares are all on a nested handler still dates INIT by the outer one', async () => {
    environment('on-demand')
    const { cacheMetrics, markInvocationStart } = freshEnvironment()
    const { seen, middleware } = loadsOnFirstUse()
    const inner = middy().use(cacheMetrics({ namespace, service })).handler(() => Promise.resolve('ok'))
    const outer = middy({ requestStart: markInvocationStart }).use(middleware).handler((event: unknown, context): Promise<string> => inner(event, context) as Promise<string>)
    await invoke(outer)
    const [initDuration] = perInvocation('InitDuration', output.blobs())
    expect(initDuration).toBeLessThanOrEqual(seen.startedAt)
  })

  test('without it, the suite dates the invocation from its first middleware: work done before it at the first invocation counts in INIT (see the README)', async () => {
    environment('on-demand')
    const { cacheMetrics } = freshEnvironment()
    const { seen, middleware } = loadsOnFirstUse()
    const handler = middy().use(middleware).use(cacheMetrics({ namespace, service })).handler(() => Promise.resolve('ok'))
    await invoke(handler)
    const [initDuration] = perInvocation('InitDuration', output.blobs())
    expect(initDuration).toBeGreaterThanOrEqual(seen.endedAt)
  })
})
