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
  /**
   * How long a 404 or 410 is kept: its `max-age` and `s-maxage` capped at it, without `stale-while-revalidate`
   * or `stale-if-error`, so that a resource created meanwhile is seen; 0 marks it `no-store`. Default '1m'.
   */
  readonly negativeTtl?: Duration
}

/** The options resolved once, at construction. */
export interface HttpCachePolicy {
  /** The Cache-Control value added to a response whose handler set none. */
  readonly cacheControl: string
  /** The same for a "not found" answer (see `notFoundStatusCodes`): kept no longer than `negativeTtl`. */
  readonly notFoundCacheControl: string
  readonly vary: readonly string[]
  readonly statusCodes: ReadonlySet<number>
  /** Whether a request with credentials (see `HttpRequest.credentialed`) may get caching headers: `private` or `cacheAuthorized`. */
  readonly authorizedCacheable: boolean
  /** `private`: no shared cache may keep an answer, which is then one a caller's own values may go into. */
  readonly browserOnly: boolean
  readonly etag: boolean
}

const optionNames = ['maxAge', 'sMaxAge', 'staleWhileRevalidate', 'staleIfError', 'public', 'private', 'vary', 'statusCodes', 'cacheAuthorized', 'etag', 'negativeTtl'] as const
/** The statuses RFC 9110 §15.1 calls heuristically cacheable that a Lambda function commonly answers. */
const defaultStatusCodes = [200, 203, 204, 300, 301, 404, 410] as const
/** The answers that say "not found" (404 Not Found, 410 Gone), which `negativeTtl` bounds. */
export const notFoundStatusCodes: ReadonlySet<number> = new Set([404, 410])
/**
 * A resource created a minute after its 404 is seen within a minute, while a CDN still absorbs
 * repeated requests for what does not exist; the same default as configCache's `negativeTtl`.
 */
const defaultNegativeTtlSeconds = 60
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

/** The ages of a Cache-Control value, in seconds; those left out are not said. */
interface Ages {
  readonly maxAge: number
  readonly sMaxAge?: number | undefined
  readonly staleWhileRevalidate?: number | undefined
  readonly staleIfError?: number | undefined
}

const renderCacheControl = (ages: Ages, isPublic: boolean, isPrivate: boolean): string => {
  const { maxAge, sMaxAge, staleWhileRevalidate, staleIfError } = ages
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

/**
 * The Cache-Control of a "not found" answer. At 0, `no-store`: the one directive that keeps it out of
 * every cache, since a 404 without Cache-Control is heuristically cacheable (RFC 9110 §15.1) and
 * CloudFront keeps a 404 or 410 marked `max-age=0` for its error caching minimum TTL (10 s by
 * default). Otherwise the ages capped at `negativeTtl` (never raised) and no stale serving: a stale
 * "not found" would hide a resource created meanwhile beyond `negativeTtl` (RFC 5861 §3), or stand in
 * for an error with an answer that may be false (§4). The caches never serve "not found" stale either.
 */
const notFoundCacheControlOf = ({ maxAge, sMaxAge }: Ages, negativeTtl: number, isPublic: boolean, isPrivate: boolean): string => {
  if (negativeTtl === 0) return 'no-store'
  const capped = { maxAge: Math.min(maxAge, negativeTtl), sMaxAge: sMaxAge === undefined ? undefined : Math.min(sMaxAge, negativeTtl) }
  return renderCacheControl(capped, isPublic, isPrivate)
}

const agesOf = (raw: Record<string, unknown>, isPrivate: boolean): Ages => {
  const ages = {
    maxAge: deltaSeconds('maxAge', raw.maxAge) ?? 0,
    sMaxAge: deltaSeconds('sMaxAge', raw.sMaxAge),
    staleWhileRevalidate: deltaSeconds('staleWhileRevalidate', raw.staleWhileRevalidate),
    staleIfError: deltaSeconds('staleIfError', raw.staleIfError),
  }
  if (isPrivate && ages.sMaxAge !== undefined) {
    throw new CacheOptionsError('sMaxAge', 'applies only to shared caches, which private: true excludes; drop one of them')
  }
  return ages
}

/** `negativeTtl` in seconds; one given beside statusCodes that list no "not found" answer would bound nothing, which is refused. */
const resolveNegativeTtl = (value: unknown, statusCodes: ReadonlySet<number>): number => {
  const negativeTtl = deltaSeconds('negativeTtl', value)
  if (negativeTtl === undefined) return defaultNegativeTtlSeconds
  if (![...notFoundStatusCodes].some((code) => statusCodes.has(code))) {
    throw new CacheOptionsError('negativeTtl', 'applies only to 404 and 410 answers, and statusCodes lists neither; add one of them to statusCodes, or drop negativeTtl')
  }
  return negativeTtl
}

/** Validates every option once, at construction, and renders the Cache-Control values. */
export const resolveHttpCacheOptions = (options: unknown): HttpCachePolicy => {
  const raw = options === undefined ? {} : requireRecord('options', options, "{ maxAge: '1m', sMaxAge: '1h' }")
  rejectUnknownOptions(raw, optionNames)
  const isPublic = optionalBoolean('public', raw.public, false)
  const isPrivate = optionalBoolean('private', raw.private, false)
  if (isPublic && isPrivate) throw new CacheOptionsError('private', 'cannot be combined with public: true; choose one')
  // Read whether or not private already allows it: a bad value is refused either way.
  const cacheAuthorized = optionalBoolean('cacheAuthorized', raw.cacheAuthorized, false)
  const ages = agesOf(raw, isPrivate)
  const statusCodes = resolveStatusCodes(raw.statusCodes)
  return {
    cacheControl: renderCacheControl(ages, isPublic, isPrivate),
    notFoundCacheControl: notFoundCacheControlOf(ages, resolveNegativeTtl(raw.negativeTtl, statusCodes), isPublic, isPrivate),
    vary: resolveVary(raw.vary),
    statusCodes,
    authorizedCacheable: isPrivate || cacheAuthorized,
    browserOnly: isPrivate,
    etag: optionalBoolean('etag', raw.etag, true),
  }
}
