import type { MiddlewareObj, Request } from '@middy/core'
import { isNotModified } from './http/conditional-request.js'
import { bodyBytes, strongEntityTag } from './http/entity-tag.js'
import { notFoundStatusCodes, resolveHttpCacheOptions, type HttpCacheOptions, type HttpCachePolicy } from './http/http-cache-options.js'
import { readHttpRequest } from './http/http-request.js'
import { bodyText, notModifiedResponse, setsCookie, structuredResponse, type StructuredResponse } from './http/http-response.js'
import { ResponseHeaders } from './http/response-headers.js'
import { mergeVary } from './http/vary.js'
import { servesCaller } from './shared/invocation.js'

export type { HttpCacheOptions } from './http/http-cache-options.js'

/** The methods whose responses caches store in practice (RFC 9110 §9.2.3 also allows POST, which none do). */
const cacheableMethods: ReadonlySet<string> = new Set(['GET', 'HEAD'])

/** The handler's fields that httpCache keeps instead of setting its own, and that decide a 304: they must reach the client. */
const honouredFields = ['Cache-Control', 'Vary', 'ETag', 'Last-Modified'] as const

/** RFC 9110 §13.2.1: preconditions are evaluated only for a response that would be 2xx. */
const isSuccessful = (statusCode: number): boolean => statusCode >= 200 && statusCode < 300

/**
 * The strong ETag of the body, or none when its bytes are unknown: a body that is not text, or a
 * HEAD answered without one, whose validators must be GET's (RFC 9110 §9.3.2) and whose empty
 * body tells nothing of GET's.
 */
const entityTagOf = (response: StructuredResponse, method: string): string | undefined => {
  const text = bodyText(response)
  if (text === undefined || (method === 'HEAD' && text === '')) return undefined
  return strongEntityTag(bodyBytes(text, response.isBase64Encoded === true))
}

/**
 * Whether an answer may get caching headers as far as its caller goes: one holding a caller's own
 * values (`forCaller`) only when no shared cache may keep it (`private`), for `cacheAuthorized`
 * says that answers to requests with credentials are the same for every caller, which such an
 * answer is not; one to a request with credentials with either.
 */
const cacheableFor = (policy: HttpCachePolicy, credentialed: boolean, forCaller: boolean): boolean => {
  if (forCaller) return policy.browserOnly
  return policy.authorizedCacheable || !credentialed
}

/**
 * The response with caching headers, or a 304, or `response` itself when it is no cacheable
 * answer: not GET or HEAD, a status not listed, a caller it must not be cached for (see
 * `cacheableFor`), a cookie set, or nothing readable as an HTTP response. Never throws, whatever
 * the event holds.
 */
const withCaching = (policy: HttpCachePolicy, event: unknown, response: unknown, forCaller: boolean): unknown => {
  const request = readHttpRequest(event)
  if (request === undefined || !cacheableMethods.has(request.method)) return response
  if (!cacheableFor(policy, request.credentialed, forCaller)) return response
  const structured = structuredResponse(response, request.format)
  if (structured === undefined || !policy.statusCodes.has(structured.statusCode)) return response
  const headers = ResponseHeaders.of(structured, request.responseHeaderRecords)
  if (headers === undefined || setsCookie(structured, headers)) return response

  for (const name of honouredFields) headers.deliver(name)
  // The handler's own Cache-Control is its per-response override.
  if (!headers.has('cache-control')) {
    headers.set('Cache-Control', notFoundStatusCodes.has(structured.statusCode) ? policy.notFoundCacheControl : policy.cacheControl)
  }
  const handlerVary = headers.getFromBoth('vary')
  const vary = mergeVary(handlerVary, policy.vary)
  if (vary !== undefined && vary !== handlerVary) headers.set('Vary', vary)
  if (!isSuccessful(structured.statusCode)) return headers.applyTo(structured)

  if (policy.etag && !headers.has('etag')) {
    const entityTag = entityTagOf(structured, request.method)
    if (entityTag !== undefined) headers.set('ETag', entityTag)
  }
  const validators = { entityTag: headers.get('etag'), lastModified: headers.get('last-modified') }
  return isNotModified(request.headers, validators) ? notModifiedResponse(structured, headers) : headers.applyTo(structured)
}

/**
 * Lets browsers, CloudFront and other HTTP caches keep a function's answers: adds
 * Cache-Control, Vary and a strong ETag to cacheable responses, and answers a request whose
 * copy is still current with 304 Not Modified. A "not found" (404, 410) is kept no longer than
 * `negativeTtl`. For API Gateway REST (payload 1.0) and HTTP APIs (1.0 and 2.0), function URLs
 * and ALB. Use it first, so that its `after` sees the final body (after serializers and content
 * encoding). Error responses (from `onError`) never get caching headers.
 */
export const httpCache = (options?: HttpCacheOptions): MiddlewareObj<unknown, unknown> => {
  const policy = resolveHttpCacheOptions(options)

  const addCachingHeaders = (request: Request<unknown, unknown>): void => {
    request.response = withCaching(policy, request.event, request.response, servesCaller(request))
  }

  return { after: addCachingHeaders }
}
