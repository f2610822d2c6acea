import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import middy, { type MiddlewareObj } from '@middy/core'
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomUUID } from 'node:crypto'
import { cacheMetrics } from '../../middlewares/cache-metrics.js'
import { invocationOf } from '../../middlewares/shared/invocation.js'
import { createCache } from '../../src/index.js'
import { deferred } from '../support/deferred.js'
import { captureOutput, samplesOf, type Captured } from '../support/emf.js'
import { setEnv } from '../support/env.js'
import { invoke } from '../support/invoke.js'

/**
 * Lambda Managed Instances: with AWS_LAMBDA_MAX_CONCURRENCY set, one environment runs several
 * invocations at once, each in its own InvokeStore context (what the Node.js runtime does), and
 * Powertools keeps its buffers per context. cacheMetrics is created during INIT, outside any.
 */

const namespace = 'Shop'
const service = 'orders'

/**
 * The store the runtime puts at globalThis.awslambda.InvokeStore under Managed Instances, as
 * @aws/lambda-invoke-store's multi-context store makes it: a context per invocation in an
 * AsyncLocalStorage. (That package loads node:async_hooks with a dynamic import, which jest's
 * CommonJS sandbox cannot run, so it is written out here.)
 */
class InvokeStoreMulti {
  readonly #contexts = new AsyncLocalStorage<Record<string | symbol, unknown>>()
  run<T>(context: Record<string | symbol, unknown>, fn: () => T): T {
    return this.#contexts.run(context, fn)
  }
  get(key: string | symbol): unknown {
    return this.#contexts.getStore()?.[key]
  }
  set(key: string | symbol, value: unknown): void {
    const context = this.#contexts.getStore()
    if (context === undefined) throw new Error('No context available')
    context[key] = value
  }
  hasContext(): boolean {
    return this.#contexts.getStore() !== undefined
  }
  getContext(): Record<string | symbol, unknown> | undefined {
    return this.#contexts.getStore()
  }
}

const store = new InvokeStoreMulti()
const lambdaGlobal = globalThis as { awslambda?: { InvokeStore?: unknown } }
let output: Captured
let restoreEnv: () => void
beforeAll(() => {
  restoreEnv = setEnv({
    AWS_LAMBDA_MAX_CONCURRENCY: '4',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'lambda-managed-instances',
    POWERTOOLS_DEV: undefined,
    POWERTOOLS_METRICS_DISABLED: undefined,
    POWERTOOLS_METRICS_NAMESPACE: undefined,
    POWERTOOLS_SERVICE_NAME: undefined,
  })
  lambdaGlobal.awslambda = { ...lambdaGlobal.awslambda, InvokeStore: store }
})
afterAll(() => {
  restoreEnv()
  if (lambdaGlobal.awslambda !== undefined) delete lambdaGlobal.awslambda.InvokeStore
})
beforeEach(() => {
  output = captureOutput()
})
afterEach(() => {
  output.restore()
})

/** Invokes as the runtime does under Managed Instances: inside a context of its own. */
const invokeInContext = <R>(run: () => Promise<R>): Promise<R> => store.run({ [Symbol.for('_AWS_LAMBDA_REQUEST_ID')]: randomUUID() }, run)

test('created during INIT beside a shared Metrics instance; two invocations at once keep their own counts, and logMetrics its own metrics', async () => {
  // As at module scope. Under Managed Instances Powertools' own `new Metrics(...)` reads its
  // per-invocation store, which this fake (like @aws/lambda-invoke-store) has only within a context;
  // on Lambda a module-scope Metrics works (Powertools' LMI end-to-end suite builds it there), so the
  // INIT here runs in a context of its own, which no invocation shares.
  const { metrics, middleware } = store.run({}, () => {
    const shared = new Metrics({ namespace, serviceName: service })
    return { metrics: shared, middleware: cacheMetrics({ metrics: shared }) }
  })
  const cache = createCache({ name: 'products-lmi', load: (key: string) => `product ${key}`, ttl: '1h' })
  await cache.get('warm')

  const gate = deferred<undefined>()
  const reads: MiddlewareObj<{ keys: string[] }> = {
    before: async (request) => {
      for (const key of request.event.keys) await cache.get(key, { scope: invocationOf(request).scope })
    },
  }
  const handler = middy<{ keys: string[] }>()
    .use(logMetrics(metrics))
    .use(middleware)
    .use(reads)
    .handler(async (event) => {
      metrics.addMetric('KeysAsked', MetricUnit.Count, event.keys.length)
      if (event.keys.length === 3) await gate.promise
      return 'ok'
    })

  const slow = invokeInContext(() => invoke(handler, { keys: ['warm', 'warm', 'warm'] }))
  const fast = invokeInContext(() => invoke(handler, { keys: ['cold', 'warm'] }))
  await fast
  gate.resolve(undefined)
  await slow

  const blobs = output.blobs()
  const perCache = (name: string) => samplesOf(blobs, { namespace, name, dimensions: { service, cache: 'products-lmi' } })
  expect(perCache('Gets')).toEqual([2, 3])
  expect(perCache('L1Hits')).toEqual([1, 3])
  expect(perCache('HitRate')).toEqual([50, 100])
  expect(samplesOf(blobs, { namespace, name: 'KeysAsked', dimensions: { service } })).toEqual([2, 3])
  expect(output.stderr()).toBe('')
})
