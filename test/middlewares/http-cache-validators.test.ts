import middy from '@middy/core'
import { createHash } from 'node:crypto'
import { httpCache, type HttpCacheOptions } from '../../middlewares/http-cache.js'
import { parseHttpDate } from '../../middlewares/http/http-date.js'
import { httpApiEvent, httpEventFactories, restApiEvent, type HttpRequestSpec } from '../support/http-events.js'
import { bodyOf, headerNames, headerOf, statusOf } from '../support/http-results.js'
import { invoke } from '../support/invoke.js'

type EventFactory = (spec?: HttpRequestSpec) => unknown

const respond = (response: unknown, event: unknown, options: HttpCacheOptions = { maxAge: 60 }): Promise<unknown> =>
  invoke(
    middy()
      .use(httpCache(options))
      .handler(() => Promise.resolve(response)),
    event,
  )

/** The tag httpCache should compute, worked out here independently of it. */
const expectedTag = (bytes: Buffer | string) => `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`

const lastModified = 'Wed, 21 Oct 2026 07:28:00 GMT'

const product = (headers: Record<string, string> = {}) => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/json', 'Content-Length': '11', 'Last-Modified': lastModified, Vary: 'Accept', ...headers },
  body: '{"id":"42"}',
})

describe.each(httpEventFactories)('validators on a %s event', (_shape, eventOf: EventFactory) => {
  const withHeaders = (headers: Record<string, string | readonly string[]>, method = 'GET') => eventOf({ method, headers })

  test('the ETag is strong, the SHA-256 of the body, stable for one body and different for another', async () => {
    const first = headerOf(await respond(product(), eventOf()), 'etag')
    const again = headerOf(await respond(product(), eventOf()), 'etag')
    const other = headerOf(await respond({ ...product(), body: '{"id":"43"}' }, eventOf()), 'etag')
    expect(first).toBe(expectedTag('{"id":"42"}'))
    expect(again).toBe(first)
    expect(other).not.toBe(first)
  })

  test('a base64-encoded body is hashed as the bytes it stands for', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe])
    const binary = await respond({ statusCode: 200, headers: { 'Content-Type': 'image/png' }, body: bytes.toString('base64'), isBase64Encoded: true }, eventOf())
    expect(headerOf(binary, 'etag')).toBe(expectedTag(bytes))
    const sameBytesAsText = await respond({ statusCode: 200, body: 'hello' }, eventOf())
    const sameBytesAsBase64 = await respond({ statusCode: 200, body: Buffer.from('hello').toString('base64'), isBase64Encoded: true }, eventOf())
    expect(headerOf(sameBytesAsBase64, 'etag')).toBe(headerOf(sameBytesAsText, 'etag'))
    expect(bodyOf(binary)).toBe(bytes.toString('base64'))
  })

  test('text is hashed as UTF-8', async () => {
    expect(headerOf(await respond({ statusCode: 200, body: 'grüße 🌍' }, eventOf()), 'etag')).toBe(expectedTag(Buffer.from('grüße 🌍', 'utf8')))
  })

  test('a response without a body gets the tag of no bytes; one with a body that is not text gets none, but still Cache-Control', async () => {
    expect(headerOf(await respond({ statusCode: 204 }, eventOf()), 'etag')).toBe(expectedTag(''))
    const objectBody = await respond({ statusCode: 200, body: { id: '42' } }, eventOf())
    expect(headerOf(objectBody, 'etag')).toBeUndefined()
    expect(headerOf(objectBody, 'cache-control')).toBe('max-age=60')
  })

  test('the handler’s own ETag (any spelling, weak or strong) is kept and matched', async () => {
    const weak = product({ etag: 'W/"v7"' })
    const result = await respond(weak, eventOf())
    expect(headerOf(result, 'etag')).toBe('W/"v7"')
    expect(headerNames(result).filter((name) => name === 'etag')).toHaveLength(1)
    expect(statusOf(await respond(weak, withHeaders({ 'If-None-Match': '"v7"' })))).toBe(304)
    expect(statusOf(await respond(weak, withHeaders({ 'If-None-Match': '"v8"' })))).toBe(200)
  })

  test('etag: false adds none', async () => {
    expect(headerOf(await respond(product(), eventOf(), { maxAge: 60, etag: false }), 'etag')).toBeUndefined()
  })

  test('a matching If-None-Match gets 304 with no body, keeping ETag, Cache-Control, Vary and Last-Modified, dropping the body’s fields', async () => {
    const entityTag = expectedTag('{"id":"42"}')
    const result = await respond(product({ 'X-Request-Id': 'r-1' }), withHeaders({ 'If-None-Match': entityTag }), { maxAge: 60, vary: ['Accept-Encoding'] })
    expect(statusOf(result)).toBe(304)
    expect(bodyOf(result)).toBe('')
    expect(result).toMatchObject({ isBase64Encoded: false })
    expect(headerOf(result, 'etag')).toBe(entityTag)
    expect(headerOf(result, 'cache-control')).toBe('max-age=60')
    expect(headerOf(result, 'vary')).toBe('Accept, Accept-Encoding')
    expect(headerOf(result, 'last-modified')).toBe(lastModified)
    expect(headerOf(result, 'x-request-id')).toBe('r-1')
    expect(headerOf(result, 'content-type')).toBeUndefined()
    expect(headerOf(result, 'content-length')).toBeUndefined()
  })

  test('a base64 body answered 304 is no longer flagged base64', async () => {
    const body = Buffer.from('png bytes').toString('base64')
    const result = await respond({ statusCode: 200, body, isBase64Encoded: true }, withHeaders({ 'If-None-Match': '*' }))
    expect(result).toMatchObject({ statusCode: 304, body: '', isBase64Encoded: false })
  })

  test.each<[string, (tag: string) => string, number]>([
    ['the tag itself', (tag) => tag, 304],
    ['its weak form', (tag) => `W/${tag}`, 304],
    ['a list holding it', (tag) => `"other", ${tag}, "another"`, 304],
    ['a list holding its weak form, without spaces', (tag) => `W/"other",W/${tag}`, 304],
    ['*', () => '*', 304],
    ['another tag', () => '"other"', 200],
    ['a list of other tags', () => '"a", W/"b"', 200],
    ['its opaque part unquoted (sloppy but common)', (tag) => tag.slice(1, -1), 304],
    ['an empty value', () => '', 200],
    ['a tag one character short', (tag) => `${tag.slice(0, -2)}"`, 200],
  ])('If-None-Match with %s gets %i', async (_case, ifNoneMatch, status) => {
    const result = await respond(product(), withHeaders({ 'If-None-Match': ifNoneMatch(expectedTag('{"id":"42"}')) }))
    expect(statusOf(result)).toBe(status)
    expect(bodyOf(result)).toBe(status === 304 ? '' : '{"id":"42"}')
  })

  test('If-None-Match sent twice is read as one list', async () => {
    const result = await respond(product(), withHeaders({ 'If-None-Match': ['"old"', expectedTag('{"id":"42"}')] }))
    expect(statusOf(result)).toBe(304)
  })

  test('a tag containing a comma is compared whole', async () => {
    const response = product({ ETag: '"v1,2"' })
    expect(statusOf(await respond(response, withHeaders({ 'If-None-Match': '"v1,2"' })))).toBe(304)
    expect(statusOf(await respond(response, withHeaders({ 'If-None-Match': '"v1", "2"' })))).toBe(200)
  })

  test.each<[string, unknown]>([
    ['no body', undefined],
    ['a null body', null],
    ['an empty body', ''],
  ])('HEAD answered with %s gets no ETag, since GET’s is unknown (RFC 9110 §9.3.2), and no 304 but by If-Modified-Since or *', async (_case, body) => {
    const bodiless = { ...product(), body }
    const getTag = expectedTag('{"id":"42"}')
    const head = await respond(bodiless, withHeaders({}, 'HEAD'))
    expect(statusOf(head)).toBe(200)
    expect(headerOf(head, 'etag')).toBeUndefined()
    expect(headerOf(head, 'cache-control')).toBe('max-age=60')
    expect(statusOf(await respond(bodiless, withHeaders({ 'If-None-Match': getTag }, 'HEAD')))).toBe(200)
    expect(statusOf(await respond(bodiless, withHeaders({ 'If-None-Match': expectedTag('') }, 'HEAD')))).toBe(200)
    expect(statusOf(await respond(bodiless, withHeaders({ 'If-None-Match': '*' }, 'HEAD')))).toBe(304)
    expect(statusOf(await respond(bodiless, withHeaders({ 'If-Modified-Since': lastModified }, 'HEAD')))).toBe(304)
    expect(headerOf(await respond({ ...bodiless, headers: { ETag: '"v7"' } }, withHeaders({}, 'HEAD')), 'etag')).toBe('"v7"')
  })

  test('a GET without a body still gets the tag of no bytes, which it is', async () => {
    expect(headerOf(await respond({ statusCode: 200, body: '' }, eventOf()), 'etag')).toBe(expectedTag(''))
  })

  test('HEAD is answered 304 as GET is', async () => {
    expect(statusOf(await respond(product(), withHeaders({ 'If-None-Match': expectedTag('{"id":"42"}') }, 'HEAD')))).toBe(304)
  })

  test('a method that is not cacheable is never answered 304', async () => {
    const response = product()
    expect(await respond(response, withHeaders({ 'If-None-Match': '*' }, 'POST'))).toBe(response)
  })

  test('only a 2xx is answered 304 (RFC 9110 §13.2.1); a cacheable 404 gets Cache-Control but no ETag', async () => {
    const notFound = { statusCode: 404, headers: {}, body: 'no such product' }
    const result = await respond(notFound, withHeaders({ 'If-None-Match': '*' }))
    expect(statusOf(result)).toBe(404)
    expect(bodyOf(result)).toBe('no such product')
    expect(headerOf(result, 'cache-control')).toBe('max-age=60')
    expect(headerOf(result, 'etag')).toBeUndefined()
  })

  test('an authorized request that may not be cached is never answered 304', async () => {
    const response = product()
    expect(await respond(response, withHeaders({ Authorization: 'Basic dXNlcjpwdw==', 'If-None-Match': '*' }))).toBe(response)
  })

  test.each<[string, string, number]>([
    ['the same date', lastModified, 304],
    ['a later date', 'Thu, 22 Oct 2026 07:28:00 GMT', 304],
    ['an earlier date', 'Tue, 20 Oct 2026 07:28:00 GMT', 200],
    ['one second earlier', 'Wed, 21 Oct 2026 07:27:59 GMT', 200],
    ['the same date in RFC 850 form', 'Wednesday, 21-Oct-26 07:28:00 GMT', 304],
    ['the same date in asctime form', 'Wed Oct 21 07:28:00 2026', 304],
    ['no date at all', 'yesterday', 200],
    ['a date that does not exist', 'Mon, 31 Feb 2026 07:28:00 GMT', 200],
    ['a date without GMT', 'Wed, 21 Oct 2026 07:28:00', 200],
  ])('If-Modified-Since with %s gets %i when the handler set Last-Modified', async (_case, ifModifiedSince, status) => {
    expect(statusOf(await respond(product(), withHeaders({ 'If-Modified-Since': ifModifiedSince }), { maxAge: 60, etag: false }))).toBe(status)
  })

  test('If-Modified-Since means nothing without Last-Modified', async () => {
    const response = { statusCode: 200, body: 'x' }
    expect(statusOf(await respond(response, withHeaders({ 'If-Modified-Since': 'Fri, 01 Jan 2100 00:00:00 GMT' })))).toBe(200)
  })

  test('If-None-Match takes precedence over If-Modified-Since', async () => {
    const stale = withHeaders({ 'If-None-Match': '"old"', 'If-Modified-Since': 'Fri, 01 Jan 2100 00:00:00 GMT' })
    expect(statusOf(await respond(product(), stale))).toBe(200)
    const current = withHeaders({ 'If-None-Match': expectedTag('{"id":"42"}'), 'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' })
    expect(statusOf(await respond(product(), current))).toBe(304)
  })

  test.each([['empty', ''], ['blank', '   ']])('an %s If-None-Match still sets If-Modified-Since aside (RFC 9110 §13.1.3)', async (_case, ifNoneMatch) => {
    const request = withHeaders({ 'If-None-Match': ifNoneMatch, 'If-Modified-Since': 'Fri, 01 Jan 2100 00:00:00 GMT' })
    expect(statusOf(await respond(product(), request))).toBe(200)
  })
})

describe('API Gateway REST headers', () => {
  test('If-None-Match is read from multiValueHeaders, which holds every copy, not only from headers, which holds the last', async () => {
    const event = restApiEvent({ headers: { 'If-None-Match': [expectedTag('{"id":"42"}'), '"newer"'] } })
    expect(event.headers['If-None-Match']).toBe('"newer"')
    expect(statusOf(await respond(product(), event))).toBe(304)
  })

  test('a request without multiValueHeaders is read from headers', async () => {
    const event = { ...restApiEvent({ headers: { 'if-none-match': expectedTag('{"id":"42"}') } }), multiValueHeaders: undefined }
    expect(statusOf(await respond(product(), event))).toBe(304)
  })
})

describe('HTTP dates', () => {
  test.each<[string, string | undefined]>([
    ['Sun, 06 Nov 1994 08:49:37 GMT', '1994-11-06T08:49:37.000Z'],
    ['Sunday, 06-Nov-94 08:49:37 GMT', '1994-11-06T08:49:37.000Z'],
    ['Sun Nov  6 08:49:37 1994', '1994-11-06T08:49:37.000Z'],
    ['  Sun, 06 Nov 1994 08:49:37 GMT  ', '1994-11-06T08:49:37.000Z'],
    ['Sun, 06 Nov 1994 24:00:00 GMT', undefined],
    ['Sat, 01 Jan 0050 00:00:00 GMT', undefined],
    ['Sun, 06 Nov 1994 08:49:37 +0000', undefined],
    ['1994-11-06T08:49:37Z', undefined],
    ['Sun, 6 Nov 1994 08:49:37 GMT', undefined],
    ['', undefined],
  ])('%j is %s', (value, iso) => {
    const parsed = parseHttpDate(value)
    expect(parsed === undefined ? undefined : new Date(parsed).toISOString()).toBe(iso)
  })

  test('a two-digit RFC 850 year more than 50 years ahead is read as the past century', () => {
    const thisYear = new Date().getUTCFullYear()
    const farAhead = (thisYear + 60) % 100
    const parsed = parseHttpDate(`Monday, 01-Jan-${String(farAhead).padStart(2, '0')} 00:00:00 GMT`)
    expect(new Date(parsed ?? Number.NaN).getUTCFullYear()).toBe(thisYear + 60 - 100)
  })
})

test('v2 events carry repeated fields joined with commas, and the list still reads', async () => {
  const event = httpApiEvent({ headers: { 'If-None-Match': ['"old"', expectedTag('{"id":"42"}')] } })
  expect(event.headers['if-none-match']).toBe(`"old",${expectedTag('{"id":"42"}')}`)
  expect(statusOf(await respond(product(), event))).toBe(304)
})
