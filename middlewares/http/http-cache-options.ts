import type { Duration } from '../../src/cache/duration.js'
import { parseDuration } from '../../src/cache/duration.js'
import { CacheOptionsError, mustBe } from '../../src/cache/errors.js'
import { rejectUnknownOptions } from '../../src/cache/options.js'
import { optionalBoolean, requireRecord } from '../shared/cache-options.js'

export interface HttpCacheOptions {
  /** How long browsers (and shared caches, unless `sMaxAge` says otherwise) may reuse a response: `max-age`. Default 0. */
  readonly maxAge?: Duration
  /** How long shared caches (CloudFront, a CDN) may reuse a response: `s-maxage`. Not with `private`. */
  readonly sMaxAge?: Duration
  /** After its age, how long a stale response is still served while the cache revalidates it: `stale-while-revalidate`. */
  readonly staleWhileRevalidate?: Duration
  /** After its age, how long a stale response may stand in while the origin fails: `stale-if-error`. */
  readonly staleIfError?: Duration
  /** Mark responses `public`. */
  readonly public?: boolean
  /** Mark responses `private`: browsers only, never a shared cache. Also makes responses to authorized requests, and those holding a caller's own values, cacheable. */
  readonly private?: boolean
  /** Request headers the response depends on, merged into `Vary`, such as ['Accept-Encoding', 'Accept-Language']. */
  readonly vary?: readonly string[]
  /** The statuses that get caching headers. Default 200, 203, 204, 300, 301, 404, 410. */
  readonly statusCodes?: readonly number[]
  /**
   * Cache responses to requests with credentials (Authorization, cookies, a caller API Gateway identified) even without `private`.
   * Not one a dataCache with `scope: 'principal'` found a caller for, which only `private` lets be cached. Default false.
   */
  readonly cacheAuthorized?: boolean
  /** Add a strong ETag computed from the body when the handler set none. Default true. */
  readonly etag?: boolean
}

/** The options resolved once, at construction. */
export interface HttpCachePolicy {
  /** The Cache-Control value added to a response whose handler set none. */
  readonly cacheControl: string
  readonly vary: readonly string[]
  readonly statusCodes: ReadonlySet<number>
  /** Whether a request with credentials (see `HttpRequest.credentialed`) may get caching headers: `private` or `cacheAuthorized`. */
  readonly authorizedCacheable: boolean
  /** `private`: no shared cache may keep an answer, which is then one a caller's own values may go into. */
  readonly browserOnly: boolean
  readonly etag: boolean
}

const optionNames = ['maxAge', 'sMaxAge', 'staleWhileRevalidate', 'staleIfError', 'public', 'private', 'vary', 'statusCodes', 'cacheAuthorized', 'etag'] as const
/** The statuses RFC 9110 §15.1 calls heuristically cacheable that a Lambda function commonly answers. */
const defaultStatusCodes = [200, 203, 204, 300, 301, 404, 410] as const
/** RFC 9111 §1.2.2: caches treat a larger delta-seconds as 2^31 anyway. */
const maxDeltaSeconds = 2 ** 31
/** A field name is an RFC 9110 token. */
const fieldNamePattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** A duration as HTTP's delta-seconds: whole seconds, or undefined when not given. */
const deltaSeconds = (option: string, value: unknown): number | undefined => {
  if (value === undefined) return undefined
  const milliseconds = parseDuration(option, value)
  if (milliseconds % 1_000 !== 0) {
    throw mustBe(option, "whole seconds, as HTTP counts in seconds (such as 30, '30s' or '5m')", value)
  }
  const seconds = milliseconds / 1_000
  if (seconds > maxDeltaSeconds) throw mustBe(option, `at most ${maxDeltaSeconds} seconds (about 68 years)`, value)
  return seconds
}

const resolveVary = (value: unknown): string[] => {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw mustBe('vary', "an array of request header names such as ['Accept-Encoding']", value)
  const names = new Map<string, string>()
  value.forEach((name: unknown, index) => {
    if (name === '*') {
      throw new CacheOptionsError(`vary[${index}]`, "cannot be '*': a response that varies on everything is never reused; leave such responses without httpCache")
    }
    if (typeof name !== 'string' || !fieldNamePattern.test(name)) {
      throw mustBe(`vary[${index}]`, "a header name such as 'Accept-Encoding'", name)
    }
    if (!names.has(name.toLowerCase())) names.set(name.toLowerCase(), name)
  })
  return [...names.values()]
}

const resolveStatusCodes = (value: unknown): Set<number> => {
  if (value === undefined) return new Set(defaultStatusCodes)
  if (!Array.isArray(value) || value.length === 0) {
    throw mustBe('statusCodes', 'a non-empty array of status codes such as [200, 404]', value)
  }
  value.forEach((code: unknown, index) => {
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 100 || code > 599) {
      throw mustBe(`statusCodes[${index}]`, 'an HTTP status code from 100 to 599', code)
    }
  })
  return new Set(value as number[])
}

const cacheControlOf = (raw: Record<string, unknown>, isPublic: boolean, isPrivate: boolean): string => {
  const maxAge = deltaSeconds('maxAge', raw.maxAge) ?? 0
  const sMaxAge = deltaSeconds('sMaxAge', raw.sMaxAge)
  const staleWhileRevalidate = deltaSeconds('staleWhileRevalidate', raw.staleWhileRevalidate)
  const staleIfError = deltaSeconds('staleIfError', raw.staleIfError)
  if (isPrivate && sMaxAge !== undefined) {
    throw new CacheOptionsError('sMaxAge', 'applies only to shared caches, which private: true excludes; drop one of them')
  }
  const directives = [
    isPublic ? 'public' : undefined,
    isPrivate ? 'private' : undefined,
    `max-age=${maxAge}`,
    sMaxAge === undefined ? undefined : `s-maxage=${sMaxAge}`,
    // 0 is the vocabulary's "off", and the directive would say nothing.
    staleWhileRevalidate ? `stale-while-revalidate=${staleWhileRevalidate}` : undefined,
    staleIfError ? `stale-if-error=${staleIfError}` : undefined,
  ]
  return directives.filter((directive) => directive !== undefined).join(', ')
}

/** Validates every option once, at construction, and renders the Cache-Control value. */
export const resolveHttpCacheOptions = (options: unknown): HttpCachePolicy => {
  const raw = options === undefined ? {} : requireRecord('options', options, "{ maxAge: '1m', sMaxAge: '1h' }")
  rejectUnknownOptions(raw, optionNames)
  const isPublic = optionalBoolean('public', raw.public, false)
  const isPrivate = optionalBoolean('private', raw.private, false)
  if (isPublic && isPrivate) throw new CacheOptionsError('private', 'cannot be combined with public: true; choose one')
  // Read whether or not private already allows it: a bad value is refused either way.
  const cacheAuthorized = optionalBoolean('cacheAuthorized', raw.cacheAuthorized, false)
  return {
    cacheControl: cacheControlOf(raw, isPublic, isPrivate),
    vary: resolveVary(raw.vary),
    statusCodes: resolveStatusCodes(raw.statusCodes),
    authorizedCacheable: isPrivate || cacheAuthorized,
    browserOnly: isPrivate,
    etag: optionalBoolean('etag', raw.etag, true),
  }
}
