import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { dataCache } from '../../middlewares/data-cache.js'
import { httpCache, type HttpCacheOptions } from '../../middlewares/http-cache.js'
import { movableTime } from '../support/clock.js'
import { httpApiEvent, httpEventFactories } from '../support/http-events.js'
import { bodyOf, headerNames, headerOf, headerValues, statusOf } from '../support/http-results.js'
import { respondThroughHttpCache, type EventFactory } from '../support/http-cache-handler.js'
import { invoke } from '../support/invoke.js'


const notFound = (statusCode: 404 | 410, headers: Record<string, string> = {}) => ({ statusCode, headers: { 'Content-Type': 'application/json', ...headers }, body: '{"message":"no such product"}' })
const found = { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{"id":"42"}' }

/** A product page cached long: a day in browsers and CloudFront, served stale on top of that. */
const longLived: HttpCacheOptions = { public: true, maxAge: '1d', sMaxAge: '1d', staleWhileRevalidate: '5m', staleIfError: '1d' }

describe.each(httpEventFactories)('"not found" behind httpCache on a %s event', (_shape, eventOf: EventFactory) => {
  test.each([404, 410] as const)('a %i is kept no longer than negativeTtl, and never served stale, while a 200 keeps every age', async (statusCode) => {
    const options: HttpCacheOptions = { ...longLived, negativeTtl: '30s' }
    const missing = await respondThroughHttpCache(options, notFound(statusCode), eventOf())
    expect(statusOf(missing)).toBe(statusCode)
    expect(headerValues(missing, 'cache-control')).toEqual(['public, max-age=30, s-maxage=30'])
    expect(bodyOf(missing)).toBe('{"message":"no such product"}')
    expect(headerOf(await respondThroughHttpCache(options, found, eventOf()), 'cache-control')).toBe('public, max-age=86400, s-maxage=86400, stale-while-revalidate=300, stale-if-error=86400')
  })

  test.each([404, 410] as const)('negativeTtl: 0 marks a %i no-store, so that neither a browser nor CloudFront keeps it at all', async (statusCode) => {
    const missing = await respondThroughHttpCache({ ...longLived, negativeTtl: 0 }, notFound(statusCode), eventOf())
    expect(headerValues(missing, 'cache-control')).toEqual(['no-store'])
    expect(headerNames(missing)).toEqual(['cache-control', 'content-type'])
  })

  test('without negativeTtl, "not found" is kept a minute at most', async () => {
    expect(headerOf(await respondThroughHttpCache(longLived, notFound(404), eventOf()), 'cache-control')).toBe('public, max-age=60, s-maxage=60')
    expect(headerOf(await respondThroughHttpCache(longLived, found, eventOf()), 'cache-control')).toBe('public, max-age=86400, s-maxage=86400, stale-while-revalidate=300, stale-if-error=86400')
  })

  test.each(['Cache-Control', 'cache-control'])('the handler’s own %s on a 404 wins over negativeTtl', async (name) => {
    const result = await respondThroughHttpCache({ ...longLived, negativeTtl: 0 }, notFound(404, { [name]: 'public, max-age=3600' }), eventOf())
    expect(headerValues(result, 'cache-control')).toEqual(['public, max-age=3600'])
  })

  test('a 404 that is no cacheable answer (to a POST, to a request with credentials) still gets nothing', async () => {
    const response = notFound(404)
    expect(await respondThroughHttpCache({ ...longLived, negativeTtl: 0 }, response, eventOf({ method: 'POST' }))).toBe(response)
    expect(await respondThroughHttpCache({ ...longLived, negativeTtl: 0 }, response, eventOf({ headers: { Authorization: 'Bearer eyJhbGciOi' } }))).toBe(response)
  })
})

describe('Cache-Control of a 404 for each option', () => {
  test.each<[HttpCacheOptions, string]>([
    // negativeTtl only ever shortens: a 404 is not kept longer than a 200 would be.
    [{ maxAge: '5m', negativeTtl: '1h' }, 'max-age=300'],
    [{ negativeTtl: '1h' }, 'max-age=0'],
    [{ sMaxAge: '1h', negativeTtl: '30s' }, 'max-age=0, s-maxage=30'],
    [{ maxAge: '10s', sMaxAge: '1h', negativeTtl: '30s' }, 'max-age=10, s-maxage=30'],
    [{ maxAge: '1h', negativeTtl: '30s' }, 'max-age=30'],
    [{ private: true, maxAge: '1h', staleWhileRevalidate: '1m', negativeTtl: '2m' }, 'private, max-age=120'],
    [{ private: true, maxAge: '1h', negativeTtl: 0 }, 'no-store'],
    [{ maxAge: 0, negativeTtl: 0 }, 'no-store'],
    [{ maxAge: '1h', staleWhileRevalidate: '1m', staleIfError: '1h' }, 'max-age=60'],
  ])('%j gives %s', async (options, expected) => {
    expect(headerOf(await respondThroughHttpCache(options, notFound(404), httpApiEvent()), 'cache-control')).toBe(expected)
  })

  test('statuses besides 404 and 410 that statusCodes lists keep every age', async () => {
    const options: HttpCacheOptions = { maxAge: '1h', statusCodes: [200, 400, 404], negativeTtl: 0 }
    expect(headerOf(await respondThroughHttpCache(options, { statusCode: 400, body: '' }, httpApiEvent()), 'cache-control')).toBe('max-age=3600')
  })
})

describe('a dataCache that remembers "not found" in front of httpCache', () => {
  afterEach(() => {
    jest.restoreAllMocks()
  })

  test('the two windows add up: the function answers 404 for the dataCache’s negativeTtl, each answer kept by HTTP caches for httpCache’s', async () => {
    const time = movableTime()
    const table = new Map<string, string>()
    const load = jest.fn((id: string) => table.get(id))
    const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
      .use(httpCache({ public: true, maxAge: '1d', sMaxAge: '1d', negativeTtl: '30s' }))
      .use(dataCache({ name: 'product', key: () => '42', load, ttl: '5m', negativeTtl: '20s' }))
      .handler((_event, context) =>
        Promise.resolve(context.product === undefined ? { statusCode: 404, body: '' } : { statusCode: 200, body: context.product }),
      )

    const missing = await invoke(handler, httpApiEvent())
    expect(statusOf(missing)).toBe(404)
    expect(headerOf(missing, 'cache-control')).toBe('public, max-age=30, s-maxage=30')
    table.set('42', '{"id":"42"}')
    const remembered = await invoke(handler, httpApiEvent())
    expect(load).toHaveBeenCalledTimes(1)
    expect(statusOf(remembered)).toBe(404)
    expect(headerOf(remembered, 'cache-control')).toBe('public, max-age=30, s-maxage=30')

    time.advance(21_000)
    const created = await invoke(handler, httpApiEvent())
    expect(load).toHaveBeenCalledTimes(2)
    expect(statusOf(created)).toBe(200)
    expect(headerOf(created, 'cache-control')).toBe('public, max-age=86400, s-maxage=86400')
  })
})
