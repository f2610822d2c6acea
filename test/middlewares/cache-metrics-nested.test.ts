import middy, { type MiddlewareObj } from '@middy/core'
import httpRouterHandler, { type Route } from '@middy/http-router'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { setTimeout as sleep } from 'node:timers/promises'
import { inspect } from 'node:util'
import { putParameters, uniqueName } from '../harness/index.js'
import { captureOutput, metricNamesOf, samplesOf, type Captured, type EmfBlob } from '../support/emf.js'
import { setEnv } from '../support/env.js'
import { restApiEvent } from '../support/http-events.js'
import { invoke } from '../support/invoke.js'
import { lambdaContext } from '../support/lambda-context.js'
import { freshSuite, type Suite } from '../support/process-state.js'

/**
 * A Middy handler called from inside another: @middy/http-router's route handlers are Middy handlers
 * of their own, called from the router's handler with the same event and context. One invocation of
 * the Lambda is one invocation of the suite, whichever level its middlewares sit on.
 */

const namespace = 'Shop'
const service = 'orders'
const shop = { namespace, service }
const table = `/${uniqueName('shop')}/table`

beforeAll(async () => {
  await putParameters({ [table]: 'products' })
})

let output: Captured
let restoreEnv: () => void
beforeEach(() => {
  restoreEnv = setEnv({ AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', POWERTOOLS_DEV: undefined, POWERTOOLS_METRICS_DISABLED: undefined, POWERTOOLS_METRICS_NAMESPACE: undefined })
  output = captureOutput()
})
afterEach(() => {
  jest.restoreAllMocks()
  output.restore()
  restoreEnv()
})

const perInvocation = (name: string, blobs: readonly EmfBlob[]): number[] => samplesOf(blobs, { namespace, name, dimensions: { service } })
const perCache = (cache: string, name: string, blobs: readonly EmfBlob[]): number[] => samplesOf(blobs, { namespace, name, dimensions: { service, cache } })
/** The blobs each invocation wrote: what stdout gained while it ran. */
const blobsOf = async (run: () => Promise<unknown>): Promise<EmfBlob[]> => {
  const before = output.blobs().length
  await run()
  return output.blobs().slice(before)
}

type Http = MiddlewareObj<APIGatewayProxyEvent>
type HttpRoute = Route<APIGatewayProxyEvent, APIGatewayProxyResult>
const products = (suite: Suite): Http =>
  suite.dataCache({ name: 'products', key: (event: APIGatewayProxyEvent) => event.pathParameters?.id, load: (id: string) => `product ${id}`, ttl: '1h' }) as Http
const config = (suite: Suite): Http => suite.configCache({ parameters: { table }, ttl: '1h', prefetch: false }) as Http
const answer = (_event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> =>
  Promise.resolve({ statusCode: 200, body: JSON.stringify((context as Context & { products?: string }).products ?? null) })
/** A route handler: a Middy handler of its own, with `middlewares`. */
const route = (method: 'GET' | 'POST', path: string, middlewares: readonly Http[]): HttpRoute => ({
  method,
  path,
  handler: middy<APIGatewayProxyEvent>().use([...middlewares]).handler(answer) as HttpRoute['handler'],
})
const router = (routes: HttpRoute[]) => httpRouterHandler(routes)

describe('@middy/http-router: route handlers are Middy handlers called from the router’s', () => {
  test.each([
    [
      'caches on the route handlers, cacheMetrics on the router’s handler',
      0,
      (suite: Suite) => middy<APIGatewayProxyEvent>().use(suite.warmup() as Http).use(suite.cacheMetrics(shop) as Http).use(config(suite))
        .handler(router([route('GET', '/products/{id}', [products(suite)])])),
    ],
    [
      'cacheMetrics on the route handlers, caches on the router’s handler',
      0,
      (suite: Suite) => middy<APIGatewayProxyEvent>().use(suite.warmup() as Http).use(config(suite))
        .handler(router([route('GET', '/products/{id}', [suite.cacheMetrics(shop) as Http, products(suite)])])),
    ],
    [
      'one list of middlewares (cacheMetrics and configCache) on both levels',
      0,
      (suite: Suite) => {
        const shared = [suite.cacheMetrics(shop) as Http, config(suite)]
        return middy<APIGatewayProxyEvent>().use(suite.warmup() as Http).use(shared)
          .handler(router([route('GET', '/products/{id}', [...shared, products(suite)])]))
      },
    ],
    [
      'two cacheMetrics writing to the same metrics, one on each level',
      1,
      (suite: Suite) => middy<APIGatewayProxyEvent>().use(suite.warmup() as Http).use(suite.cacheMetrics(shop) as Http).use(config(suite))
        .handler(router([route('GET', '/products/{id}', [suite.cacheMetrics(shop) as Http, products(suite)])])),
    ],
  ])('%s: each invocation is written once, with every cache it used and one ColdStart', async (_case, warnings, build) => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    const handler = build(freshSuite())

    const first = await blobsOf(() => invoke(handler, restApiEvent({ path: '/products/42' })))
    expect(perInvocation('ColdStart', first)).toEqual([1])
    expect(perInvocation('InitDuration', first)).toHaveLength(1)
    expect(perCache('config', 'Gets', first)).toEqual([1])
    expect(perCache('config', 'Misses', first)).toEqual([1])
    expect(perCache('products', 'Gets', first)).toEqual([1])
    expect(perCache('products', 'Misses', first)).toEqual([1])
    expect(first).toHaveLength(3)

    const second = await blobsOf(() => invoke(handler, restApiEvent({ path: '/products/42' })))
    expect(perInvocation('ColdStart', second)).toEqual([])
    expect(perCache('config', 'L1Hits', second)).toEqual([1])
    expect(perCache('products', 'L1Hits', second)).toEqual([1])
    expect(second.flatMap(metricNamesOf).filter((name) => name === 'Gets')).toEqual(['Gets', 'Gets'])
    expect(second).toHaveLength(2)

    // A ping never reaches the router (it is no HTTP event): warmup answers it, written once too.
    const ping = await blobsOf(() => invoke(handler, { warmer: true }))
    expect(perInvocation('WarmupPing', ping)).toEqual([1])
    // One instance met on both levels is no second one.
    expect(warn).toHaveBeenCalledTimes(warnings)
  })

  test('a route handler that answers early (a validator on the route) is still counted, once, by the router’s cacheMetrics', async () => {
    const suite = freshSuite()
    const validator: Http = { before: (request) => (request.event.body === null ? { statusCode: 400, body: 'a body is required' } : undefined) }
    const handler = middy<APIGatewayProxyEvent>().use(suite.cacheMetrics(shop) as Http)
      .handler(router([route('POST', '/products/{id}', [products(suite), validator])]))

    const blobs = await blobsOf(() => invoke(handler, restApiEvent({ method: 'POST', path: '/products/42' })))
    expect(perCache('products', 'Gets', blobs)).toEqual([1])
    expect(perInvocation('ColdStart', blobs)).toEqual([1])
  })

  test('cacheMetrics on a route handler that answers early, without flushOnEarlyReturn: the invocation is written when the router’s handler ends', async () => {
    const suite = freshSuite()
    const validator: Http = { before: (request) => (request.event.body === null ? { statusCode: 400, body: 'a body is required' } : undefined) }
    const handler = middy<APIGatewayProxyEvent>().use(config(suite))
      .handler(router([route('POST', '/products/{id}', [suite.cacheMetrics(shop) as Http, products(suite), validator])]))

    const blobs = await blobsOf(() => invoke(handler, restApiEvent({ method: 'POST', path: '/products/42' })))
    expect(perCache('config', 'Gets', blobs)).toEqual([1])
    expect(perCache('products', 'Gets', blobs)).toEqual([1])
    expect(perInvocation('ColdStart', blobs)).toEqual([1])
  })
})

describe('one Middy handler calling another', () => {
  type Event = { readonly ids?: readonly string[]; readonly id?: string }
  const productsById = (suite: Suite): MiddlewareObj<Event> =>
    suite.dataCache({ name: 'products', key: (event: Event) => event.id, load: (id: string) => `product ${id}`, ttl: '1h' }) as MiddlewareObj<Event>

  test('the inner handler, called twice with events of its own and the same context, counts in the outer invocation: one blob per cache, one ColdStart', async () => {
    const suite = freshSuite()
    const inner = middy<Event>().use(productsById(suite)).handler((_event, context) => Promise.resolve((context as Context & { products?: string }).products))
    const outer = middy<Event>()
      .use(suite.cacheMetrics(shop) as MiddlewareObj<Event>)
      .handler(async (event, context) => {
        const found: unknown[] = []
        for (const id of event.ids ?? []) found.push(await inner({ id }, context))
        return found
      })

    const first = await blobsOf(async () => {
      expect(await invoke(outer, { ids: ['1', '2', '1'] })).toEqual(['product 1', 'product 2', 'product 1'])
    })
    expect(perInvocation('ColdStart', first)).toEqual([1])
    expect(perCache('products', 'Gets', first)).toEqual([3])
    expect(perCache('products', 'Misses', first)).toEqual([2])
    expect(perCache('products', 'L1Hits', first)).toEqual([1])

    const second = await blobsOf(() => invoke(outer, { ids: ['1'] }))
    expect(perInvocation('ColdStart', second)).toEqual([])
    expect(perCache('products', 'Gets', second)).toEqual([1])
  })

  test('a nested request reads the clock anew: a value that stopped being fresh while the outer handler ran is reloaded, not served as fresh', async () => {
    const suite = freshSuite()
    const load = jest.fn((id: string) => `product ${id}`)
    const shortLived = suite.dataCache({ name: 'products', key: (event: Event) => event.id, load, ttl: '20ms', jitter: 0 }) as MiddlewareObj<Event>
    const inner = middy<Event, string | undefined>().use(shortLived).handler((_event, context) => Promise.resolve((context as Context & { products?: string }).products))
    const outer = middy<Event, string | undefined>()
      .use(suite.cacheMetrics(shop) as MiddlewareObj<Event>)
      .handler(async (event, context) => {
        if (event.ids === undefined) return inner({ id: '1' }, context)
        // Longer than the ttl: what the first invocation loaded has expired once the inner handler runs.
        await sleep(40)
        return inner({ id: '1' }, context)
      })
    await invoke(outer, {})
    await invoke(outer, { ids: ['1'] })
    expect(load).toHaveBeenCalledTimes(2)
    expect(perCache('products', 'Misses', output.blobs())).toEqual([1, 1])
  })

  test('with markInvocationStart and flushOnEarlyReturn, an invocation whose handler called no handler of the suite is never joined by the next on the same context', async () => {
    const suite = freshSuite()
    const inner = middy<Event>().use(suite.cacheMetrics(shop) as MiddlewareObj<Event>).use(productsById(suite)).handler(() => Promise.resolve('ok'))
    const outer = middy<Event>({ requestStart: suite.markInvocationStart, requestEnd: suite.flushOnEarlyReturn }).handler(async (event, context) => {
      // A health check, say, answered without the routes that use the suite.
      if (event.id !== undefined) await inner(event, context)
    })
    const context = lambdaContext()
    await invoke(outer, {}, context)
    await invoke(outer, { id: '1' }, context)
    const blobs = output.blobs()
    expect(perCache('products', 'Gets', blobs)).toEqual([1])
    // The first invocation was the cold one, and wrote nothing: no later one claims its cold start.
    expect(perInvocation('ColdStart', blobs)).toEqual([])
  })

  test('what the suite keeps on the context for nested handlers shows as a tag when the context is logged, never in JSON, and never shows the event or the answer', async () => {
    const suite = freshSuite()
    let seen: Context | undefined
    const handler = middy<Event>().use(suite.cacheMetrics(shop) as MiddlewareObj<Event>).handler((_event, context) => {
      seen = context
      return Promise.resolve('the answer')
    })
    const context = lambdaContext()
    const plain = JSON.stringify(context)
    await invoke(handler, { card: 'the event' }, context)
    expect(seen).toBe(context)
    const logged = inspect(context, { depth: Infinity, showHidden: true })
    expect(logged).toContain('[middy-cache invocation]')
    expect(logged).not.toContain('the answer')
    expect(logged).not.toContain('the event')
    expect(JSON.stringify(context)).toBe(plain)
  })

  test('invocations that reuse one context object (a test, a local runner) are never taken for nested ones', async () => {
    const suite = freshSuite()
    const handler = middy<Event>().use(suite.cacheMetrics(shop) as MiddlewareObj<Event>).use(productsById(suite)).handler(() => Promise.resolve('ok'))
    const context = lambdaContext()
    for (const id of ['1', '1', '2']) await invoke(handler, { id }, context)
    const blobs = output.blobs()
    expect(perCache('products', 'Gets', blobs)).toEqual([1, 1, 1])
    expect(perInvocation('ColdStart', blobs)).toEqual([1])
  })

  test('a handler whose only middleware of the suite answered early, without flushOnEarlyReturn, never takes a later invocation on the same context in', async () => {
    const suite = freshSuite()
    type Checked = Event & { readonly valid?: boolean }
    const validator: MiddlewareObj<Checked> = { before: (request) => (request.event.valid === false ? 'invalid' : undefined) }
    const handler = middy<Checked>().use(suite.cacheMetrics(shop) as MiddlewareObj<Checked>).use(validator).use(productsById(suite) as MiddlewareObj<Checked>).handler(() => Promise.resolve('ok'))
    const context = lambdaContext()
    expect(await invoke(handler, { valid: false }, context)).toBe('invalid')
    expect(await invoke(handler, { id: '1' }, context)).toBe('ok')
    expect(perCache('products', 'Gets', output.blobs())).toEqual([1])
  })
})
