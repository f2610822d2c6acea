import middy from '@middy/core'
import type { MiddlewareObj } from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { Readable } from 'node:stream'
import { dataCache } from '../../middlewares/data-cache.js'
import { httpCache, type HttpCacheOptions } from '../../middlewares/http-cache.js'
import { albEvent, albMultiValueEvent, functionUrlEvent, httpApiEvent, httpEventFactories, restApiEvent } from '../support/http-events.js'
import { bodyOf, headerNames, headerOf, headerValues, statusOf } from '../support/http-results.js'
import { respondThroughHttpCache, type EventFactory } from '../support/http-cache-handler.js'
import { invoke } from '../support/invoke.js'


const ok = (headers: Record<string, string> = {}) => ({ statusCode: 200, headers: { 'Content-Type': 'application/json', ...headers }, body: '{"id":"42"}' })

describe.each(httpEventFactories)('httpCache on a %s event', (_shape, eventOf: EventFactory) => {
  test('a cacheable GET gets Cache-Control, Vary and an ETag beside the handler’s own headers, its body untouched', async () => {
    const result = await respondThroughHttpCache({ maxAge: '1m', vary: ['Accept-Encoding'] }, ok({ 'X-Request-Id': 'r-1' }), eventOf())
    expect(statusOf(result)).toBe(200)
    expect(bodyOf(result)).toBe('{"id":"42"}')
    expect(headerOf(result, 'cache-control')).toBe('max-age=60')
    expect(headerOf(result, 'vary')).toBe('Accept-Encoding')
    expect(headerOf(result, 'etag')).toMatch(/^"[A-Za-z0-9_-]{22}"$/)
    expect(headerOf(result, 'content-type')).toBe('application/json')
    expect(headerOf(result, 'x-request-id')).toBe('r-1')
  })

  test('HEAD gets the same headers as GET, the ETag computed from the body the handler returned', async () => {
    const get = await respondThroughHttpCache({ maxAge: 60 }, ok(), eventOf({ method: 'GET' }))
    const head = await respondThroughHttpCache({ maxAge: 60 }, ok(), eventOf({ method: 'HEAD' }))
    expect(headerOf(head, 'cache-control')).toBe('max-age=60')
    expect(headerOf(head, 'etag')).toBe(headerOf(get, 'etag'))
  })

  test.each(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])('%s gets no caching headers', async (method) => {
    const response = ok()
    const result = await respondThroughHttpCache({ maxAge: 60 }, response, eventOf({ method }))
    expect(result).toBe(response)
    expect(headerNames(result)).toEqual(['content-type'])
  })

  test.each([200, 203, 204, 300, 301, 404, 410])('status %i is cacheable by default', async (statusCode) => {
    const result = await respondThroughHttpCache({ maxAge: 60 }, { statusCode, body: '' }, eventOf())
    expect(headerOf(result, 'cache-control')).toBe('max-age=60')
  })

  test.each([201, 206, 302, 304, 400, 401, 403, 429, 500, 502, 503])('status %i gets no caching headers by default', async (statusCode) => {
    const response = { statusCode, headers: {}, body: 'x' }
    const result = await respondThroughHttpCache({ maxAge: 60 }, response, eventOf())
    expect(result).toBe(response)
    expect(headerNames(result)).toEqual([])
  })

  test('statusCodes replaces the default list', async () => {
    const options = { maxAge: 60, statusCodes: [200, 308] }
    expect(headerOf(await respondThroughHttpCache(options, { statusCode: 308, headers: { Location: '/new' }, body: '' }, eventOf()), 'cache-control')).toBe('max-age=60')
    expect(headerOf(await respondThroughHttpCache(options, { statusCode: 404, body: '' }, eventOf()), 'cache-control')).toBeUndefined()
  })

  test.each(['Authorization', 'authorization', 'AUTHORIZATION'])('a request with %s gets no caching headers by default', async (name) => {
    const response = ok()
    const result = await respondThroughHttpCache({ maxAge: 60, public: true }, response, eventOf({ headers: { [name]: 'Bearer eyJhbGciOi' } }))
    expect(result).toBe(response)
    expect(headerOf(result, 'etag')).toBeUndefined()
  })

  test('a request with a Cookie header gets no caching headers by default, and with cacheAuthorized it does', async () => {
    const response = ok()
    const withCookie = eventOf({ headers: { Cookie: 'session=7f3a' } })
    expect(await respondThroughHttpCache({ maxAge: 60, public: true }, response, withCookie)).toBe(response)
    expect(headerOf(await respondThroughHttpCache({ maxAge: 60, cacheAuthorized: true }, response, withCookie), 'cache-control')).toBe('max-age=60')
  })

  test('a request with Authorization is cached by browsers only with private, and by anyone with cacheAuthorized', async () => {
    const authorized = eventOf({ headers: { Authorization: 'Bearer eyJhbGciOi' } })
    const privately = await respondThroughHttpCache({ maxAge: 60, private: true }, ok(), authorized)
    expect(headerOf(privately, 'cache-control')).toBe('private, max-age=60')
    expect(headerOf(privately, 'etag')).toBeDefined()
    const allowed = await respondThroughHttpCache({ maxAge: 60, sMaxAge: 300, cacheAuthorized: true }, ok(), authorized)
    expect(headerOf(allowed, 'cache-control')).toBe('max-age=60, s-maxage=300')
  })

  test.each([
    ['Set-Cookie in headers', { statusCode: 200, headers: { 'Set-Cookie': 'session=abc; HttpOnly' }, body: 'x' }],
    ['set-cookie in lower case', { statusCode: 200, headers: { 'set-cookie': 'session=abc' }, body: 'x' }],
    ['Set-Cookie in multiValueHeaders', { statusCode: 200, multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] }, body: 'x' }],
    ['payload 2.0 cookies', { statusCode: 200, cookies: ['session=abc; Secure'], body: 'x' }],
  ])('a response setting a cookie (%s) gets no caching headers', async (_case, response) => {
    const result = await respondThroughHttpCache({ maxAge: 60 }, response, eventOf())
    expect(result).toBe(response)
    expect(headerOf(result, 'cache-control')).toBeUndefined()
  })

  test('an empty cookies array sets no cookie', async () => {
    const result = await respondThroughHttpCache({ maxAge: 60 }, { statusCode: 200, cookies: [], body: 'x' }, eventOf())
    expect(headerOf(result, 'cache-control')).toBe('max-age=60')
  })

  test.each(['Cache-Control', 'cache-control', 'CACHE-CONTROL'])('the handler’s own %s wins, and no second spelling appears', async (name) => {
    const result = await respondThroughHttpCache({ maxAge: 60, public: true }, ok({ [name]: 'no-store' }), eventOf())
    expect(headerValues(result, 'cache-control')).toEqual(['no-store'])
    expect(headerOf(result, 'etag')).toBeDefined()
  })

  test('vary merges into the handler’s own Vary under its spelling, without repeating a name', async () => {
    const result = await respondThroughHttpCache({ maxAge: 60, vary: ['accept-encoding', 'Accept-Language'] }, ok({ vary: 'Origin, Accept-Encoding' }), eventOf())
    expect(headerValues(result, 'vary')).toEqual(['Origin, Accept-Encoding, Accept-Language'])
    const { headers, multiValueHeaders } = result as { headers?: object; multiValueHeaders?: object }
    expect([...Object.keys(headers ?? {}), ...Object.keys(multiValueHeaders ?? {})]).toContain('vary')
    const everything = await respondThroughHttpCache({ maxAge: 60, vary: ['Accept'] }, ok({ Vary: '*' }), eventOf())
    expect(headerOf(everything, 'vary')).toBe('*')
  })

  test('a response without header records gets one, holding only the added fields', async () => {
    const result = await respondThroughHttpCache({ maxAge: 60 }, { statusCode: 200, body: 'plain' }, eventOf())
    expect(headerNames(result)).toEqual(['cache-control', 'etag'])
  })

  test('the handler’s response object is never changed, so a shared constant stays as it was', async () => {
    const shared = Object.freeze({ statusCode: 200, headers: Object.freeze({ 'Content-Type': 'text/plain' }), body: 'constant' })
    const first = await respondThroughHttpCache({ maxAge: 60 }, shared, eventOf())
    const entityTag = headerOf(first, 'etag')
    const notModified = await respondThroughHttpCache({ maxAge: 60 }, shared, eventOf({ headers: { 'If-None-Match': String(entityTag) } }))
    expect(statusOf(notModified)).toBe(304)
    expect(shared).toEqual({ statusCode: 200, headers: { 'Content-Type': 'text/plain' }, body: 'constant' })
    const again = await respondThroughHttpCache({ maxAge: 60 }, shared, eventOf())
    expect(statusOf(again)).toBe(200)
    expect(bodyOf(again)).toBe('constant')
  })

  test('an error answered by onError never gets caching headers, whatever its status', async () => {
    const notFoundOnError: MiddlewareObj = {
      onError: (request) => {
        request.response = { statusCode: 404, headers: {}, body: 'not found' }
      },
    }
    const handler = middy()
      .use(httpCache({ maxAge: 60 }))
      .use(notFoundOnError)
      .handler(() => Promise.reject(new Error('no such product')))
    const result: unknown = await invoke(handler, eventOf())
    expect(statusOf(result)).toBe(404)
    expect(headerNames(result)).toEqual([])
  })
})

describe('requests whose caller API Gateway knows, without an Authorization header', () => {
  const rest = restApiEvent()
  const http = httpApiEvent()
  const functionUrl = functionUrlEvent()
  const iamCaller = { accessKey: 'ASIA3XFRBF23EXAMPLE', accountId: '123456789012', callerId: 'AROA3XFRBF23:ann', principalOrgId: null, userId: 'AROA3XFRBF23:ann' }
  const clientCert = {
    clientCertPem: '-----BEGIN CERTIFICATE-----\nMIIC...\n-----END CERTIFICATE-----',
    subjectDN: 'CN=reports.example.com',
    issuerDN: 'CN=Example CA',
    serialNumber: '1',
    validity: { notBefore: 'May 28 12:30:02 2026 GMT', notAfter: 'Aug  5 09:36:04 2027 GMT' },
  }
  test.each<[string, unknown]>([
    ['a REST API Lambda authorizer principal', { ...rest, requestContext: { ...rest.requestContext, authorizer: { principalId: 'user-7' } } }],
    ['a REST API Cognito user pool', { ...rest, requestContext: { ...rest.requestContext, authorizer: { claims: { sub: 'u-7', iss: 'https://cognito' } } } }],
    ['an HTTP API JWT authorizer', { ...http, requestContext: { ...http.requestContext, authorizer: { jwt: { claims: { sub: 'u-7' }, scopes: [] } } } }],
    // `sub` is optional in a JWT, and the token may come from a query string or a custom header the authorizer reads.
    ['an HTTP API JWT authorizer, a token without sub', { ...http, requestContext: { ...http.requestContext, authorizer: { jwt: { claims: { client_id: 'reports' }, scopes: ['orders/read'] } } } }],
    ['a JWT authorizer in payload 1.0, a token without sub', { ...rest, requestContext: { ...rest.requestContext, authorizer: { claims: { client_id: 'reports' }, scopes: null } } }],
    // A Lambda authorizer with simple responses that returned no context: its identity source may be any header.
    ['an HTTP API Lambda authorizer without context', { ...http, requestContext: { ...http.requestContext, authorizer: { lambda: null } } }],
    ['an HTTP API IAM caller', { ...http, requestContext: { ...http.requestContext, authorizer: { iam: { userArn: 'arn:aws:iam::123456789012:user/ann' } } } }],
    // IAM names the caller in several fields; none of them, userArn included, is promised.
    ['an HTTP API IAM caller without userArn', { ...http, requestContext: { ...http.requestContext, authorizer: { iam: { ...iamCaller, cognitoIdentity: null } } } }],
    ['a function URL IAM caller without userArn', { ...functionUrl, requestContext: { ...functionUrl.requestContext, authorizer: { iam: { ...iamCaller, cognitoIdentity: null } } } }],
    ...(['accessKey', 'caller', 'user', 'cognitoIdentityId', 'cognitoIdentityPoolId', 'cognitoAuthenticationType', 'cognitoAuthenticationProvider'] as const).map(
      (field): [string, unknown] => [`a REST API IAM caller named only by identity.${field}`, { ...rest, requestContext: { ...rest.requestContext, identity: { ...rest.requestContext.identity, [field]: 'AROA3XFRBF23:ann' } } }],
    ),
    ['a REST API mutual TLS client', { ...rest, requestContext: { ...rest.requestContext, identity: { ...rest.requestContext.identity, clientCert } } }],
    ['an HTTP API mutual TLS client', { ...http, requestContext: { ...http.requestContext, authentication: { clientCert } } }],
    ['payload 2.0 cookies', { ...http, cookies: ['session=7f3a'] }],
  ])('%s: the answer gets no caching headers by default', async (_case, event) => {
    const response = ok()
    expect(await respondThroughHttpCache({ maxAge: 60, public: true, sMaxAge: 3_600 }, response, event)).toBe(response)
    expect(headerOf(await respondThroughHttpCache({ maxAge: 60, private: true }, response, event), 'cache-control')).toBe('private, max-age=60')
  })

  test('an API key names a usage plan, not a caller: its request stays cacheable, as does an identity of nulls and empty strings', async () => {
    const withApiKey = { ...rest, requestContext: { ...rest.requestContext, identity: { ...rest.requestContext.identity, apiKey: 'k3y', apiKeyId: 'a1b2', caller: '', user: '' } } }
    expect(headerOf(await respondThroughHttpCache({ maxAge: 60, public: true }, ok(), withApiKey), 'cache-control')).toBe('public, max-age=60')
  })
})

describe('requests an ALB authenticate action signed in (its claims in x-amzn-oidc-* headers, no authorizer in the event)', () => {
  const signedIn = { 'X-Amzn-Oidc-Identity': 'alice', 'X-Amzn-Oidc-Data': 'eyJ0eXAiOiJKV1QiLCJraWQiOiJrMSJ9.eyJzdWIiOiJhbGljZSJ9.c2ln', 'X-Amzn-Oidc-Accesstoken': 'eyJraWQiOiJhIn0.e30.c2ln' }
  test.each([
    ['without multi-value headers', albEvent],
    ['with multi-value headers', albMultiValueEvent],
  ])('ALB %s: the answer gets no caching headers by default, and private ones with private', async (_case, eventOf) => {
    const response = ok()
    expect(await respondThroughHttpCache({ maxAge: 60, public: true, sMaxAge: 3_600 }, response, eventOf({ headers: signedIn }))).toBe(response)
    expect(headerOf(await respondThroughHttpCache({ maxAge: 60, private: true }, response, eventOf({ headers: signedIn })), 'cache-control')).toBe('private, max-age=60')
  })

  test('any one of the fields is enough, in any spelling; a request the action let through unauthenticated stays cacheable', async () => {
    for (const name of ['x-amzn-oidc-identity', 'X-AMZN-OIDC-DATA', 'X-Amzn-Oidc-Accesstoken']) {
      const response = ok()
      expect(await respondThroughHttpCache({ maxAge: 60, public: true }, response, albEvent({ headers: { [name]: 'alice' } }))).toBe(response)
    }
    expect(headerOf(await respondThroughHttpCache({ maxAge: 60, public: true }, ok(), albEvent()), 'cache-control')).toBe('public, max-age=60')
  })
})

describe('requests from a client an ALB checked by mutual TLS (its certificate in x-amzn-mtls-clientcert* headers)', () => {
  // Verify mode sends the leaf certificate's fields; passthrough mode the whole chain, in one field.
  const verified = {
    'X-Amzn-Mtls-Clientcert-Serial-Number': '1A2B3C',
    'X-Amzn-Mtls-Clientcert-Issuer': 'CN=Example CA',
    'X-Amzn-Mtls-Clientcert-Subject': 'CN=reports.example.com',
    'X-Amzn-Mtls-Clientcert-Validity': 'NotBefore=2026-05-28T12:30:02Z;NotAfter=2027-08-05T09:36:04Z',
    'X-Amzn-Mtls-Clientcert-Leaf': '-----BEGIN%20CERTIFICATE-----%0AMIIC...%0A-----END%20CERTIFICATE-----%0A',
  }
  const passedThrough = { 'X-Amzn-Mtls-Clientcert': '-----BEGIN%20CERTIFICATE-----%0AMIIC...%0A-----END%20CERTIFICATE-----%0A' }
  test.each([
    ['verify mode, without multi-value headers', albEvent, verified],
    ['verify mode, with multi-value headers', albMultiValueEvent, verified],
    ['passthrough mode, without multi-value headers', albEvent, passedThrough],
    ['passthrough mode, with multi-value headers', albMultiValueEvent, passedThrough],
  ])('%s: the answer, which may be that client’s own, gets no caching headers by default, and private ones with private', async (_case, eventOf, headers) => {
    const response = ok()
    expect(await respondThroughHttpCache({ maxAge: 60, public: true, sMaxAge: 3_600 }, response, eventOf({ headers }))).toBe(response)
    expect(headerOf(await respondThroughHttpCache({ maxAge: 60, private: true }, response, eventOf({ headers })), 'cache-control')).toBe('private, max-age=60')
  })

  test('any one of the fields is enough, in any spelling', async () => {
    for (const name of [...Object.keys(verified), 'x-amzn-mtls-clientcert-subject', 'X-AMZN-MTLS-CLIENTCERT']) {
      const response = ok()
      expect(await respondThroughHttpCache({ maxAge: 60, public: true }, response, albEvent({ headers: { [name]: 'CN=reports.example.com' } }))).toBe(response)
    }
  })
})

describe('an answer built from the values of a dataCache with scope: \'principal\'', () => {
  // A principal function that reads a header httpCache knows nothing of: a session token the function checks itself, say.
  const sessionOf = (event: APIGatewayProxyEventV2): string | undefined => event.headers['x-session']
  const cartHandler = (options: HttpCacheOptions, scope: 'shared' | 'principal') =>
    middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
      .use(httpCache(options))
      .use(dataCache({ name: 'cart', key: () => 'cart', load: (_key, { principal }) => `cart of ${principal ?? 'nobody'}`, ttl: '5m', scope, ...(scope === 'principal' ? { principal: sessionOf } : {}) }))
      .handler((_event, context) => Promise.resolve({ statusCode: 200, body: String(context.cart) }))

  test('with a caller found: the answer, that caller\'s own, gets no caching headers by default, and private ones with private', async () => {
    const signedIn = httpApiEvent({ headers: { 'X-Session': 'alice' } })
    const answer = await invoke(cartHandler({ maxAge: 60, public: true, sMaxAge: 3_600 }, 'principal'), signedIn)
    expect(bodyOf(answer)).toBe('cart of alice')
    expect(headerNames(answer)).toEqual([])
    expect(headerOf(await invoke(cartHandler({ maxAge: 60, private: true }, 'principal'), signedIn), 'cache-control')).toBe('private, max-age=60')
  })

  test('cacheAuthorized, which lets answers to requests with credentials be cached, does not let a caller\'s own values reach shared caches', async () => {
    const signedIn = httpApiEvent({ headers: { 'X-Session': 'alice', Authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln' } })
    expect(headerNames(await invoke(cartHandler({ sMaxAge: 3_600, public: true, cacheAuthorized: true }, 'principal'), signedIn))).toEqual([])
    expect(headerOf(await invoke(cartHandler({ maxAge: 60, private: true, cacheAuthorized: true }, 'principal'), signedIn), 'cache-control')).toBe('private, max-age=60')
    expect(headerOf(await invoke(cartHandler({ sMaxAge: 3_600, public: true, cacheAuthorized: true }, 'shared'), signedIn), 'cache-control')).toBe('public, max-age=0, s-maxage=3600')
  })

  test('a request the cache finds no caller in, and a cache of shared values, leave the answer cacheable', async () => {
    const anonymous = await invoke(cartHandler({ maxAge: 60, public: true }, 'principal'), httpApiEvent())
    expect(bodyOf(anonymous)).toBe('cart of nobody')
    expect(headerOf(anonymous, 'cache-control')).toBe('public, max-age=60')
    const shared = await invoke(cartHandler({ maxAge: 60, public: true }, 'shared'), httpApiEvent({ headers: { 'X-Session': 'alice' } }))
    expect(headerOf(shared, 'cache-control')).toBe('public, max-age=60')
  })
})

describe('Cache-Control for each option', () => {
  test.each<[HttpCacheOptions, string]>([
    [{}, 'max-age=0'],
    [{ maxAge: 60 }, 'max-age=60'],
    [{ maxAge: '5m' }, 'max-age=300'],
    [{ maxAge: '2000ms' }, 'max-age=2'],
    [{ sMaxAge: '1h' }, 'max-age=0, s-maxage=3600'],
    [{ sMaxAge: 0, maxAge: 60 }, 'max-age=60, s-maxage=0'],
    [{ maxAge: '1m', staleWhileRevalidate: '30s' }, 'max-age=60, stale-while-revalidate=30'],
    [{ maxAge: '1m', staleIfError: '1d' }, 'max-age=60, stale-if-error=86400'],
    [{ maxAge: '1m', staleWhileRevalidate: 0, staleIfError: 0 }, 'max-age=60'],
    [{ public: true, maxAge: 60 }, 'public, max-age=60'],
    [{ private: true, maxAge: '10m' }, 'private, max-age=600'],
    [{ public: false, private: false, maxAge: 60 }, 'max-age=60'],
    [
      { public: true, maxAge: '1m', sMaxAge: '1h', staleWhileRevalidate: '5m', staleIfError: '1d' },
      'public, max-age=60, s-maxage=3600, stale-while-revalidate=300, stale-if-error=86400',
    ],
  ])('%j gives %s', async (options, expected) => {
    expect(headerOf(await respondThroughHttpCache(options, ok(), httpApiEvent()), 'cache-control')).toBe(expected)
  })
})

describe('response shapes', () => {
  test.each([
    ['a Node Readable', () => Readable.from(['streamed'])],
    ['a web ReadableStream', () => new ReadableStream({ start: (controller) => { controller.enqueue('streamed'); controller.close() } })],
  ])('payload 2.0: %s, as a streaming handler answers, is returned as it is', async (_case, stream) => {
    const response = stream()
    expect(await respondThroughHttpCache({ maxAge: 60 }, response, functionUrlEvent())).toBe(response)
  })

  test('REST API: a field the handler put in multiValueHeaders is replaced there, not repeated in headers', async () => {
    const response = { statusCode: 200, headers: { 'Content-Type': 'text/plain' }, multiValueHeaders: { Vary: ['Origin'] }, body: 'x' }
    const result = (await respondThroughHttpCache({ maxAge: 60, vary: ['Accept-Encoding'] }, response, restApiEvent())) as Record<string, Record<string, unknown>>
    expect(result.multiValueHeaders).toEqual({ Vary: ['Origin, Accept-Encoding'] })
    expect(result.headers).toEqual({ 'Content-Type': 'text/plain', 'Cache-Control': 'max-age=60', ETag: expect.stringMatching(/^"/) as unknown })
  })

  test('REST API: a Vary spread over headers and multiValueHeaders keeps every name of both', async () => {
    const response = { statusCode: 200, headers: { vary: 'Origin' }, multiValueHeaders: { Vary: ['Accept'] }, body: 'x' }
    const result = (await respondThroughHttpCache({ maxAge: 60, vary: ['Accept-Encoding'] }, response, restApiEvent())) as Record<string, Record<string, unknown>>
    expect(result.headers?.vary).toBe('Origin, Accept, Accept-Encoding')
    expect(result.multiValueHeaders?.Vary).toEqual(['Origin, Accept, Accept-Encoding'])
  })

  test('ALB with multi-value headers: a response using only multiValueHeaders gets its new fields there, as arrays', async () => {
    const response = { statusCode: 200, statusDescription: '200 OK', multiValueHeaders: { 'Content-Type': ['text/plain'] }, body: 'x', isBase64Encoded: false }
    const result = (await respondThroughHttpCache({ maxAge: 60 }, response, albMultiValueEvent())) as Record<string, unknown>
    expect(result.headers).toBeUndefined()
    expect(result.multiValueHeaders).toEqual({ 'Content-Type': ['text/plain'], 'Cache-Control': ['max-age=60'], ETag: [expect.stringMatching(/^"/)] })
    const notModified = (await respondThroughHttpCache({ maxAge: 60 }, response, albMultiValueEvent({ headers: { 'If-None-Match': '*' } }))) as Record<string, unknown>
    expect(notModified).toMatchObject({ statusCode: 304, statusDescription: '304 Not Modified', body: '' })
  })

  test('ALB with multi-value headers: a response without header records gets its fields in multiValueHeaders, and a conditional request its 304', async () => {
    const response = { statusCode: 200, body: 'x' }
    const result = (await respondThroughHttpCache({ maxAge: 60 }, response, albMultiValueEvent())) as Record<string, unknown>
    expect(result.headers).toBeUndefined()
    expect(result.multiValueHeaders).toEqual({ 'Cache-Control': ['max-age=60'], ETag: [expect.stringMatching(/^"[A-Za-z0-9_-]{22}"$/)] })
    const entityTag = String(headerOf(result, 'etag'))
    const notModified = (await respondThroughHttpCache({ maxAge: 60 }, response, albMultiValueEvent({ headers: { 'If-None-Match': ['"other"', entityTag] } }))) as Record<string, unknown>
    expect(notModified).toMatchObject({ statusCode: 304, body: '' })
    expect(notModified.headers).toBeUndefined()
    expect(notModified.multiValueHeaders).toEqual({ 'Cache-Control': ['max-age=60'], ETag: [entityTag] })
  })

  test('ALB without multi-value headers: new fields go to headers, the only record it reads, even beside a response using only multiValueHeaders', async () => {
    const response = { statusCode: 200, multiValueHeaders: { 'X-Shard': ['7'] }, body: 'x' }
    const result = (await respondThroughHttpCache({ maxAge: 60 }, response, albEvent())) as Record<string, unknown>
    expect(result.multiValueHeaders).toEqual({ 'X-Shard': ['7'] })
    expect(result.headers).toEqual({ 'Cache-Control': 'max-age=60', ETag: expect.stringMatching(/^"/) as unknown })
    const conditional = albEvent({ headers: { 'If-None-Match': String(headerOf(result, 'etag')) } })
    expect(statusOf(await respondThroughHttpCache({ maxAge: 60 }, response, conditional))).toBe(304)
  })

  test.each([
    ['HTTP API', httpApiEvent],
    ['function URL', functionUrlEvent],
  ])('%s: every field set goes to headers (payload 2.0 has no multiValueHeaders), even beside a response using only multiValueHeaders', async (_shape, eventOf) => {
    const response = { statusCode: 200, multiValueHeaders: { Vary: ['Origin'], 'X-Shard': ['7'] }, body: 'x' }
    const result = (await respondThroughHttpCache({ maxAge: 60, vary: ['Accept'] }, response, eventOf())) as Record<string, unknown>
    expect(result.multiValueHeaders).toEqual({ 'X-Shard': ['7'] })
    expect(result.headers).toEqual({ 'Cache-Control': 'max-age=60', Vary: 'Origin, Accept', ETag: expect.stringMatching(/^"/) as unknown })
  })

  test.each([
    ['HTTP API', 'multiValueHeaders', 'headers', httpApiEvent],
    ['function URL', 'multiValueHeaders', 'headers', functionUrlEvent],
    ['ALB without multi-value headers', 'multiValueHeaders', 'headers', albEvent],
    ['ALB with multi-value headers', 'headers', 'multiValueHeaders', albMultiValueEvent],
  ] as const)('%s: the handler’s Cache-Control, Vary, ETag and Last-Modified in %s, which it ignores, are honoured and moved to %s', async (_shape, ignored, read, eventOf) => {
    const lastModified = 'Wed, 21 Oct 2026 07:28:00 GMT'
    const fields = { 'Cache-Control': 'no-store', Vary: 'Accept', ETag: '"v7"', 'Last-Modified': lastModified }
    const layOut = (record: string, values: Record<string, string>) =>
      record === 'headers' ? values : Object.fromEntries(Object.entries(values).map(([name, value]) => [name, [value]]))
    const response = { statusCode: 200, [ignored]: layOut(ignored, fields), body: 'x' }
    const result = (await respondThroughHttpCache({ maxAge: 60, vary: ['Accept'] }, response, eventOf())) as Record<string, unknown>
    expect(result[ignored]).toEqual({})
    expect(result[read]).toEqual(layOut(read, fields))
    const notModified = (await respondThroughHttpCache({ maxAge: 60, vary: ['Accept'] }, response, eventOf({ headers: { 'If-None-Match': '"v7"' } }))) as Record<string, unknown>
    expect(statusOf(notModified)).toBe(304)
    expect(notModified[read]).toEqual(layOut(read, fields))
  })

  test('REST API: a field the handler put in both records, both of which API Gateway reads, stays in both', async () => {
    const response = { statusCode: 200, headers: { 'Cache-Control': 'no-store' }, multiValueHeaders: { 'Cache-Control': ['no-store'] }, body: 'x' }
    const result = (await respondThroughHttpCache({ maxAge: 60 }, response, restApiEvent())) as Record<string, Record<string, unknown>>
    expect(result.headers?.['Cache-Control']).toBe('no-store')
    expect(result.multiValueHeaders).toEqual({ 'Cache-Control': ['no-store'] })
  })

  test('ALB with multi-value headers: a Vary the handler put in headers, which ALB ignores, is merged into multiValueHeaders', async () => {
    const response = { statusCode: 200, headers: { vary: 'Origin' }, body: 'x' }
    const result = (await respondThroughHttpCache({ maxAge: 60, vary: ['Accept'] }, response, albMultiValueEvent())) as Record<string, unknown>
    expect(result.headers).toEqual({})
    expect(result.multiValueHeaders).toEqual({ 'Cache-Control': ['max-age=60'], vary: ['Origin, Accept'], ETag: [expect.stringMatching(/^"/)] })
  })

  test.each([
    ['HTTP API', httpApiEvent],
    ['function URL', functionUrlEvent],
  ])('%s: a string answer (payload 2.0 shorthand) becomes the 200 API Gateway would send, with caching headers', async (_shape, eventOf) => {
    const result = await respondThroughHttpCache({ maxAge: 60 }, 'hello', eventOf())
    expect(result).toMatchObject({ statusCode: 200, body: 'hello', isBase64Encoded: false })
    expect(headerOf(result, 'content-type')).toBe('application/json')
    expect(headerOf(result, 'cache-control')).toBe('max-age=60')
    expect(headerOf(result, 'etag')).toBe(headerOf(await respondThroughHttpCache({ maxAge: 60 }, { statusCode: 200, body: 'hello' }, eventOf()), 'etag'))
  })

  test.each<[string, unknown, string]>([
    ['an object', { id: '42', tags: ['new'] }, '{"id":"42","tags":["new"]}'],
    ['an array', [1, 2], '[1,2]'],
    ['a number', 42, '42'],
    ['a boolean', true, 'true'],
  ])('payload 2.0: %s answer becomes its JSON text', async (_case, answer, body) => {
    const result = await respondThroughHttpCache({ maxAge: 60 }, answer, httpApiEvent())
    expect(result).toMatchObject({ statusCode: 200, body })
    expect(headerOf(result, 'cache-control')).toBe('max-age=60')
  })

  test.each<[string, unknown]>([
    ['an object with body but no statusCode (ambiguous)', { body: 'x', headers: {} }],
    ['undefined', undefined],
    ['null', null],
    ['an object JSON cannot write', { count: 1n }],
  ])('payload 2.0: %s is left alone', async (_case, answer) => {
    expect(await respondThroughHttpCache({ maxAge: 60 }, answer, httpApiEvent())).toBe(answer)
  })

  test('payload 2.0 shorthand on a POST stays shorthand', async () => {
    expect(await respondThroughHttpCache({ maxAge: 60 }, 'created', httpApiEvent({ method: 'POST' }))).toBe('created')
  })

  test('REST API: a string answer (no shorthand in payload 1.0) is left alone', async () => {
    expect(await respondThroughHttpCache({ maxAge: 60 }, 'hello', restApiEvent())).toBe('hello')
  })

  test('an event that is no HTTP event (SQS, a warm-up ping) is left alone', async () => {
    const response = { statusCode: 200, body: 'x' }
    expect(await respondThroughHttpCache({ maxAge: 60 }, response, { Records: [] })).toBe(response)
    expect(await respondThroughHttpCache({ maxAge: 60 }, response, { source: 'serverless-plugin-warmup' })).toBe(response)
  })
})

test('a typed HTTP API handler keeps its own event and result types behind httpCache', async () => {
  const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(httpCache({ maxAge: 60 }))
    .handler((event) => Promise.resolve({ statusCode: 200, body: event.rawPath }))
  const result = await invoke(handler, httpApiEvent({ path: '/products/7' }))
  expect(result.body).toBe('/products/7')
  expect(result.headers).toMatchObject({ 'Cache-Control': 'max-age=60' })
})
