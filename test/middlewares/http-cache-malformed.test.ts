import middy from '@middy/core'
import { httpCache } from '../../middlewares/http-cache.js'
import { httpApiEvent, restApiEvent } from '../support/http-events.js'
import { headerOf, statusOf } from '../support/http-results.js'
import { invoke } from '../support/invoke.js'

const respond = (response: unknown, event: unknown): Promise<unknown> =>
  invoke(
    middy()
      .use(httpCache({ maxAge: 60 }))
      .handler(() => Promise.resolve(response)),
    event,
  )

const ok = () => ({ statusCode: 200, headers: { 'Content-Type': 'text/plain' }, body: 'x' })

/** What httpCache did with a response: left it as it was (the same object), cached it, or answered 304. */
const Outcome = { LeftAlone: 'left alone', Cached: 'cached', NotModified: '304' } as const
type Outcome = (typeof Outcome)[keyof typeof Outcome]

const outcomeOf = (response: unknown, result: unknown): Outcome | 'something else' => {
  if (result === response) return Outcome.LeftAlone
  if (statusOf(result) === 304) return Outcome.NotModified
  return headerOf(result, 'cache-control') === 'max-age=60' ? Outcome.Cached : 'something else'
}

const rest = restApiEvent() as unknown as Record<string, unknown>
const http = httpApiEvent() as unknown as Record<string, unknown>

describe('malformed events never make httpCache throw', () => {
  test.each<[string, unknown, Outcome]>([
    ['a null event', null, Outcome.LeftAlone],
    ['an undefined event', undefined, Outcome.LeftAlone],
    ['a string event', 'GET /products/42', Outcome.LeftAlone],
    ['a number event', 42, Outcome.LeftAlone],
    ['an array event', [rest], Outcome.LeftAlone],
    ['an empty object', {}, Outcome.LeftAlone],
    ['a method that is no string', { ...rest, httpMethod: 7 }, Outcome.LeftAlone],
    ['a null requestContext on payload 2.0', { ...http, requestContext: null }, Outcome.LeftAlone],
    ['requestContext.http that is a string', { ...http, requestContext: { http: 'GET' } }, Outcome.LeftAlone],
    ['a lower-case method', { ...rest, httpMethod: 'get' }, Outcome.Cached],
    ['no headers object at all', { httpMethod: 'GET' }, Outcome.Cached],
    ['null headers and multiValueHeaders (API Gateway sends these)', { ...rest, headers: null, multiValueHeaders: null }, Outcome.Cached],
    ['headers as an array (an Authorization could hide in it)', { ...rest, headers: [['Authorization', 'Bearer x']] }, Outcome.LeftAlone],
    ['headers as a string', { ...http, headers: 'authorization: Bearer x' }, Outcome.LeftAlone],
    ['multiValueHeaders as an array', { ...rest, multiValueHeaders: ['If-None-Match'] }, Outcome.LeftAlone],
    ['a header value that is a number', { ...http, headers: { 'if-none-match': 42 } }, Outcome.Cached],
    ['a header value that is an array in headers', { ...http, headers: { 'if-none-match': ['*'] } }, Outcome.Cached],
    ['a header value that is an object', { ...http, headers: { 'if-modified-since': { date: 'today' } } }, Outcome.Cached],
    ['a multi-value header that is a string', { ...rest, headers: {}, multiValueHeaders: { 'If-None-Match': '*' } }, Outcome.NotModified],
    ['a multi-value header holding non-strings', { ...rest, headers: {}, multiValueHeaders: { 'If-None-Match': [null, 7, {}] } }, Outcome.Cached],
    ['an Authorization whose value is null', { ...rest, headers: { Authorization: null }, multiValueHeaders: null }, Outcome.LeftAlone],
    ['an Authorization key whose value is undefined (absent)', { ...rest, headers: { Authorization: undefined }, multiValueHeaders: null }, Outcome.Cached],
    ['an If-None-Match of quotes only', { ...http, headers: { 'if-none-match': '"""' } }, Outcome.Cached],
    ['an If-Modified-Since of garbage', { ...http, headers: { 'if-modified-since': '\u0000\uffff' } }, Outcome.Cached],
  ])('%s: %s', async (_case, event, expected) => {
    const response = ok()
    expect(outcomeOf(response, await respond(response, event))).toBe(expected)
  })
})

describe('malformed responses never make httpCache throw', () => {
  test.each<[string, unknown, Outcome]>([
    ['a status code as a string', { statusCode: '200', body: 'x' }, Outcome.LeftAlone],
    ['a fractional status code', { statusCode: 200.5, body: 'x' }, Outcome.LeftAlone],
    ['headers as an array', { statusCode: 200, headers: [['Vary', 'Origin']], body: 'x' }, Outcome.LeftAlone],
    ['headers as a string', { statusCode: 200, headers: 'Vary: Origin', body: 'x' }, Outcome.LeftAlone],
    ['multiValueHeaders as an array', { statusCode: 200, multiValueHeaders: ['Set-Cookie'], body: 'x' }, Outcome.LeftAlone],
    ['null headers', { statusCode: 200, headers: null, body: 'x' }, Outcome.Cached],
    ['numbers and booleans as header values', { statusCode: 200, headers: { 'Content-Length': 1, 'X-Flag': true }, body: 'x' }, Outcome.Cached],
    ['a multi-value header that is no array', { statusCode: 200, multiValueHeaders: { Vary: 'Origin' }, body: 'x' }, Outcome.Cached],
    ['cookies as a string (a cookie, to be safe)', { statusCode: 200, cookies: 'session=abc', body: 'x' }, Outcome.LeftAlone],
    ['an empty Set-Cookie list (still there, so to be safe)', { statusCode: 200, multiValueHeaders: { 'Set-Cookie': [] }, body: 'x' }, Outcome.LeftAlone],
    ['a body that is an object', { statusCode: 200, body: { id: 1 } }, Outcome.Cached],
    ['a body that is a number', { statusCode: 200, body: 42 }, Outcome.Cached],
    ['isBase64Encoded as a string', { statusCode: 200, body: 'x', isBase64Encoded: 'yes' }, Outcome.Cached],
    ['a base64 flag on a body that is not base64', { statusCode: 200, body: '%%%not base64%%%', isBase64Encoded: true }, Outcome.Cached],
    ['a Buffer', Buffer.from('x'), Outcome.LeftAlone],
    ['a function', () => 'x', Outcome.LeftAlone],
  ])('%s: %s', async (_case, response, expected) => {
    expect(outcomeOf(response, await respond(response, rest))).toBe(expected)
  })

  test('a Cache-Control set to null by the handler is kept, not replaced', async () => {
    const result = await respond({ statusCode: 200, headers: { 'Cache-Control': null }, body: 'x' }, rest)
    expect(result).toMatchObject({ headers: { 'Cache-Control': null, ETag: expect.any(String) as unknown } })
  })
})
