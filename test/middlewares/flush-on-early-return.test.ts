import middy, { type MiddlewareObj } from '@middy/core'
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import { captureOutput, samplesOf, type Captured } from '../support/emf.js'
import { setEnv } from '../support/env.js'
import { invoke } from '../support/invoke.js'
import { freshSuite, type Suite } from '../support/process-state.js'

/**
 * flushOnEarlyReturn, Middy's requestEnd plugin hook: a middleware other than warmup that answers
 * early (here a stand-in for an idempotency check) still gets cacheMetrics' figures written.
 */

const namespace = 'Shop'
const service = 'orders'

type Event = { repeated?: boolean }

/** A products dataCache read for every request, then a middleware that answers a repeated request early, as an idempotency check does. */
const readThenAnswerEarly = (suite: Suite): MiddlewareObj<Event>[] => [
  suite.dataCache({ name: 'products', key: () => 'a', load: (key: string) => `product ${key}`, ttl: '1m' }) as MiddlewareObj<Event>,
  { before: (request) => (request.event.repeated === true ? 'the stored answer' : undefined) },
]

let output: Captured
let restoreEnv: () => void
beforeEach(() => {
  restoreEnv = setEnv({ POWERTOOLS_DEV: undefined, POWERTOOLS_METRICS_DISABLED: undefined, POWERTOOLS_METRICS_NAMESPACE: undefined })
  output = captureOutput()
})
afterEach(() => {
  output.restore()
  restoreEnv()
})

const gets = (): number[] => samplesOf(output.blobs(), { namespace, name: 'Gets', dimensions: { service, cache: 'products' } })

describe('flushOnEarlyReturn', () => {
  test.each([
    ['cacheMetrics before the middleware answering early', (suite: Suite) => [suite.cacheMetrics({ namespace, service }), ...readThenAnswerEarly(suite)]],
    ['cacheMetrics after it (its before never runs)', (suite: Suite) => [...readThenAnswerEarly(suite), suite.cacheMetrics({ namespace, service })]],
  ])('%s: a request answered early is written once; the others as usual', async (_order, chain) => {
    const suite = freshSuite()
    const handled = middy<Event>({ requestEnd: suite.flushOnEarlyReturn })
      .use(chain(suite) as MiddlewareObj<Event>[])
      .handler(() => Promise.resolve('handled'))

    expect(await invoke(handled, { repeated: true })).toBe('the stored answer')
    expect(gets()).toEqual([1])
    expect(await invoke(handled, {})).toBe('handled')
    expect(gets()).toEqual([1, 1])
  })

  test('without it, Middy skips the flush of a request answered early', async () => {
    const suite = freshSuite()
    const handler = middy<Event>()
      .use([suite.cacheMetrics({ namespace, service }) as MiddlewareObj<Event>, ...readThenAnswerEarly(suite)])
      .handler(() => Promise.resolve('handled'))
    expect(await invoke(handler, { repeated: true })).toBe('the stored answer')
    expect(gets()).toEqual([])
  })

  test('a refresh dataCache began in before is settled, not left to run on across the freeze', async () => {
    const suite = freshSuite()
    const refreshes: AbortSignal[] = []
    let loads = 0
    const load = (key: string, { signal }: { signal: AbortSignal }): Promise<string> => {
      if (++loads === 1) return Promise.resolve(`product ${key}`)
      refreshes.push(signal)
      return new Promise(() => undefined)
    }
    const handler = middy<Event>({ requestEnd: suite.flushOnEarlyReturn })
      .use([
        suite.dataCache({ name: 'products', key: () => 'a', load, ttl: '20ms', staleWhileRevalidate: '1m', settleBudget: '10ms' }) as MiddlewareObj<Event>,
        { before: (request) => (request.event.repeated === true ? 'the stored answer' : undefined) },
      ])
      .handler(() => Promise.resolve('handled'))
    await invoke(handler, {})
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(await invoke(handler, { repeated: true })).toBe('the stored answer')
    expect(refreshes).toHaveLength(1)
    expect(refreshes[0]?.aborted).toBe(true)
  })

  test.each([
    ['another onError hook throws (logMetrics with throwOnEmptyMetrics, after cacheMetrics): cacheMetrics\' onError never runs', true],
    ['every onError hook runs', false],
  ])('a request failed by a middleware placed before cacheMetrics is written once when %s', async (_case, throwsOnEmpty) => {
    const suite = freshSuite()
    const metrics = new Metrics({ namespace, serviceName: service })
    const load = (key: string): Promise<string> => (key === 'down' ? Promise.reject(new Error('source down')) : Promise.resolve(`product ${key}`))
    const products = suite.dataCache({ name: 'products', key: (event: { id: string }) => event.id, load, ttl: '1m' })
    const handler = middy<{ id: string }>({ requestEnd: suite.flushOnEarlyReturn })
      .use(products)
      .use(suite.cacheMetrics({ metrics }) as MiddlewareObj<{ id: string }>)
      .use(throwsOnEmpty ? [logMetrics(metrics, { throwOnEmptyMetrics: true })] : [])
      .handler(() => {
        metrics.addMetric('Orders', MetricUnit.Count, 1)
        return Promise.resolve('handled')
      })
    await expect(invoke(handler, { id: 'a' })).resolves.toBe('handled')
    await expect(invoke(handler, { id: 'down' })).rejects.toThrow()
    expect(gets()).toEqual([1, 1])
    expect(samplesOf(output.blobs(), { namespace, name: 'LoadErrors', dimensions: { service, cache: 'products' } })).toEqual([1])
  })

  test('a ping warmup answers is written once, with the hook too', async () => {
    const suite = freshSuite()
    const handler = middy({ requestEnd: suite.flushOnEarlyReturn }).use(suite.warmup()).use(suite.cacheMetrics({ namespace, service })).handler(() => Promise.resolve('handled'))
    await invoke(handler, { warmer: true })
    expect(samplesOf(output.blobs(), { namespace, name: 'WarmupPing', dimensions: { service } })).toEqual([1])
  })
})
