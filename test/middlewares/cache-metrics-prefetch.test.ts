import middy, { type MiddlewareObj } from '@middy/core'
import { SSMClient } from '@aws-sdk/client-ssm'
import { awsJsonError, putParameters, startHttpFaultProxy, uniqueName } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { captureOutput, samplesOf, type Captured, type EmfBlob } from '../support/emf.js'
import { setEnv } from '../support/env.js'
import { invoke } from '../support/invoke.js'
import { lambdaContext } from '../support/lambda-context.js'
import { forgetProcessWideState } from '../support/process-state.js'
import { testClients } from '../support/sdk-clients.js'
import { countRequests } from '../support/sdk-requests.js'

/**
 * configCache starts loading its parameters during INIT (`prefetch`), before any invocation: those
 * loads (with their latency and failures) are written once, with the first invocation cacheMetrics
 * writes in the environment, against SSM on moto_server.
 */

type ConfigCacheModule = typeof import('../../middlewares/config-cache.js')
type CacheMetricsModule = typeof import('../../middlewares/cache-metrics.js')
type WarmupModule = typeof import('../../middlewares/warmup.js')
type RegistryModule = typeof import('../../src/cache/registry.js')
type Environment = Pick<ConfigCacheModule, 'configCache'> & Pick<CacheMetricsModule, 'cacheMetrics'> & Pick<WarmupModule, 'warmup'> & Pick<RegistryModule, 'registeredCaches'>

/** A fresh copy of the suite's modules, without the process-wide state: a new execution environment, its INIT still to run. */
const freshEnvironment = (): Environment => {
  let modules: Environment | undefined
  forgetProcessWideState()
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    modules = {
      configCache: (require('../../middlewares/config-cache.js') as ConfigCacheModule).configCache,
      cacheMetrics: (require('../../middlewares/cache-metrics.js') as CacheMetricsModule).cacheMetrics,
      warmup: (require('../../middlewares/warmup.js') as WarmupModule).warmup,
      registeredCaches: (require('../../src/cache/registry.js') as RegistryModule).registeredCaches,
    }
    /* eslint-enable @typescript-eslint/no-require-imports */
  })
  return modules!
}

const namespace = 'Shop'
const service = 'orders'
const clients = testClients()
let output: Captured
let restoreEnv: () => void
let table: string

beforeAll(async () => {
  table = `/${uniqueName('prefetch')}/table`
  await putParameters({ [table]: 'orders' })
})
beforeEach(() => {
  restoreEnv = setEnv({ AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', POWERTOOLS_DEV: undefined, POWERTOOLS_METRICS_DISABLED: undefined })
  output = captureOutput()
})
afterEach(() => {
  output.restore()
  restoreEnv()
  clients.destroyAll()
})

const ofConfig = (name: string, blobs: readonly EmfBlob[]): number[] => samplesOf(blobs, { namespace, name, dimensions: { service, cache: 'config' } })
const perInvocation = (name: string, blobs: readonly EmfBlob[]): number[] => samplesOf(blobs, { namespace, name, dimensions: { service } })

/** What one invocation (or several at once) answered, and the EMF it wrote. */
const written = async <T>(run: () => Promise<T>): Promise<{ answer: T; blobs: EmfBlob[] }> => {
  const before = output.blobs().length
  const answer = await run()
  return { answer, blobs: output.blobs().slice(before) }
}

type Handler = (event: unknown, context: never) => Promise<unknown>

/** The INIT of an environment: its configCache (which prefetches) and cacheMetrics, in the order given. */
const init = (environment: Environment, client: SSMClient, order: 'cacheMetrics first' | 'cacheMetrics last' = 'cacheMetrics first', first: MiddlewareObj[] = []): Handler => {
  const metrics = environment.cacheMetrics({ namespace, service })
  const config = environment.configCache({ parameters: { table }, ttl: '1h', awsSdkV3Client: client })
  const chain = order === 'cacheMetrics first' ? [...first, metrics, config] : [...first, config, metrics]
  return middy()
    .use(chain)
    .handler((_event, context) => Promise.resolve((context as unknown as { config: { table: string } }).config.table))
}

const prefetchOf = (environment: Environment) => {
  const registration = environment.registeredCaches().at(-1)
  if (registration === undefined) throw new Error('no cache registered')
  return registration.cache
}

describe("configCache's prefetch at INIT, in cacheMetrics", () => {
  test.each(['cacheMetrics first', 'cacheMetrics last'] as const)(
    'a prefetch that ended before the first invocation (%s): its load and LoadLatency are written with the first invocation, the cold start, and never again',
    async (order) => {
      const environment = freshEnvironment()
      const client = clients.made(new SSMClient(motoClientConfig()))
      const requests = countRequests(client)
      const handler = init(environment, client, order)
      expect(await prefetchOf(environment).whenLoaded()).toBe(true)

      const first = await written(() => invoke(handler))
      const second = await written(() => invoke(handler))
      expect([first.answer, second.answer]).toEqual(['orders', 'orders'])

      expect(perInvocation('ColdStart', first.blobs)).toEqual([1])
      expect(ofConfig('Loads', first.blobs)).toEqual([1])
      expect(ofConfig('LoadLatency', first.blobs)).toEqual([expect.any(Number)])
      expect(ofConfig('LoadLatency', first.blobs)[0]).toBeGreaterThan(0)
      expect(ofConfig('L1Hits', first.blobs)).toEqual([1])
      expect(ofConfig('HitRate', first.blobs)).toEqual([100])
      for (const name of ['Loads', 'LoadLatency', 'LoadErrors']) expect(ofConfig(name, second.blobs)).toEqual([])
      expect(ofConfig('L1Hits', second.blobs)).toEqual([1])
      expect(requests.count('GetParametersCommand')).toBe(1)
    },
  )

  test('the first invocation joins the prefetch still running: one SSM call, one Loads beside its Misses, nothing again', async () => {
    const environment = freshEnvironment()
    const client = clients.made(new SSMClient(motoClientConfig()))
    const requests = countRequests(client)
    const handler = init(environment, client)

    const first = await written(() => invoke(handler))
    const second = await written(() => invoke(handler))
    expect([first.answer, second.answer]).toEqual(['orders', 'orders'])

    expect(requests.count('GetParametersCommand')).toBe(1)
    expect(ofConfig('Misses', first.blobs)).toEqual([1])
    expect(ofConfig('Loads', first.blobs)).toEqual([1])
    expect(ofConfig('LoadLatency', first.blobs)).toEqual([expect.any(Number)])
    expect(ofConfig('Loads', second.blobs)).toEqual([])
    expect(ofConfig('LoadLatency', second.blobs)).toEqual([])
    expect(ofConfig('L1Hits', second.blobs)).toEqual([1])
  })

  test('two first invocations at once, both joining the prefetch: one of them writes its load', async () => {
    const environment = freshEnvironment()
    const client = clients.made(new SSMClient(motoClientConfig()))
    const handler = init(environment, client)

    const both = await written(() => Promise.all([invoke(handler, {}, lambdaContext()), invoke(handler, {}, lambdaContext())]))
    const third = await written(() => invoke(handler))
    expect([...both.answer, third.answer]).toEqual(['orders', 'orders', 'orders'])

    expect(ofConfig('Misses', both.blobs)).toEqual([1, 1])
    expect(ofConfig('Loads', both.blobs)).toEqual([1])
    expect(ofConfig('LoadLatency', both.blobs)).toEqual([expect.any(Number)])
    expect(ofConfig('Loads', third.blobs)).toEqual([])
  })

  test('a warm-up ping first: it writes the prefetch\'s load, and no gets nor hit rate', async () => {
    const environment = freshEnvironment()
    const client = clients.made(new SSMClient(motoClientConfig()))
    const handler = init(environment, client, 'cacheMetrics first', [environment.warmup()])
    expect(await prefetchOf(environment).whenLoaded()).toBe(true)

    const ping = await written(() => invoke(handler, { source: 'serverless-plugin-warmup' }))
    const next = await written(() => invoke(handler))
    expect(next.answer).toBe('orders')

    expect(perInvocation('WarmupPing', ping.blobs)).toEqual([1])
    expect(ofConfig('Loads', ping.blobs)).toEqual([1])
    expect(ofConfig('LoadLatency', ping.blobs)).toEqual([expect.any(Number)])
    for (const name of ['Gets', 'HitRate', 'L1Hits', 'Misses']) expect(ofConfig(name, ping.blobs)).toEqual([])
    expect(ofConfig('Loads', next.blobs)).toEqual([])
    expect(ofConfig('HitRate', next.blobs)).toEqual([100])
  })

  test('a prefetch that failed: LoadErrors once, with the first invocation, beside the load that invocation made again', async () => {
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL! })
    try {
      faults.inject({ target: 'AmazonSSM.GetParameters', times: 1, ...awsJsonError('InternalServerError', 'SSM is down') })
      const environment = freshEnvironment()
      const client = clients.made(new SSMClient(motoClientConfig(faults.url)))
      const handler = init(environment, client)
      expect(await prefetchOf(environment).whenLoaded()).toBe(false)

      const first = await written(() => invoke(handler))
      const second = await written(() => invoke(handler))
      expect([first.answer, second.answer]).toEqual(['orders', 'orders'])

      expect(faults.requests('AmazonSSM.GetParameters')).toEqual({ seen: 2, answered: 1 })
      expect(ofConfig('LoadErrors', first.blobs)).toEqual([1])
      expect(ofConfig('Loads', first.blobs)).toEqual([2])
      expect(ofConfig('LoadLatency', first.blobs)).toEqual([expect.any(Number)])
      for (const name of ['Loads', 'LoadErrors', 'LoadLatency']) expect(ofConfig(name, second.blobs)).toEqual([])
    } finally {
      await faults.close()
    }
  })
})
