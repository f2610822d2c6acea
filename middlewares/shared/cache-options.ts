import type { Duration } from '../../src/cache/duration.js'
import { CacheOptionsError, mustBe, printable } from '../../src/cache/errors.js'
import { parseTtl } from '../../src/cache/options.js'
import type { EntryFreshness, FreshnessOptions } from '../../src/cache/options.js'

/**
 * Freshness and lifecycle options every caching middleware shares (DESIGN.md's vocabulary): the
 * engine's freshness options, each optional since each middleware has its own default ttl.
 */
export interface CacheMiddlewareOptions<N extends string> extends Partial<FreshnessOptions> {
  /** The cache's name in metrics and its property on the context. */
  readonly name?: N
  /** Start loading at module load (INIT), so the first invocation finds the values ready. */
  readonly prefetch?: boolean
  /** How long `after`/`onError` wait for refreshes still running beside the handler. Default '100ms'. */
  readonly settleBudget?: Duration
}

export const cacheMiddlewareOptionNames = [
  'name', 'ttl', 'staleWhileRevalidate', 'staleIfError', 'negativeTtl', 'jitter', 'timeout', 'retryAfterError', 'prefetch', 'settleBudget',
] as const

/**
 * The engine's freshness options out of a middleware's, with defaults. Options left unset stay
 * unset, so the engine's own defaults and validation apply; only undefined is unset, so a null
 * meets the engine's validation as every other option's does.
 */
export const engineFreshness = (options: CacheMiddlewareOptions<string>, defaults: { readonly ttl: Duration; readonly negativeTtl: Duration }) => ({
  ttl: options.ttl === undefined ? defaults.ttl : options.ttl,
  negativeTtl: options.negativeTtl === undefined ? defaults.negativeTtl : options.negativeTtl,
  ...(options.staleWhileRevalidate === undefined ? {} : { staleWhileRevalidate: options.staleWhileRevalidate }),
  ...(options.staleIfError === undefined ? {} : { staleIfError: options.staleIfError }),
  ...(options.jitter === undefined ? {} : { jitter: options.jitter }),
  ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  ...(options.retryAfterError === undefined ? {} : { retryAfterError: options.retryAfterError }),
})

/** The freshness of a value given its own `ttl` option (checked now); undefined when it has none. */
export const ownTtl = (option: string, ttl: unknown): EntryFreshness | undefined => {
  if (ttl === undefined) return undefined
  parseTtl(option, ttl)
  return { ttl: ttl as Duration }
}

/**
 * A parameter's or secret's name as the part of a cache key whose other parts (a transform, flags,
 * a ttl) follow it, joined with '#': its '#' (and '%', which escapes it) escaped, so that a name such
 * as `shop/db#json` never makes the key of `shop/db` read with a transform, and each is loaded on
 * its own. A name without either (every SSM name but a secret's reference path) is its own part.
 */
export const keyPart = (name: string): string => name.replace(/[%#]/g, (character) => (character === '%' ? '%25' : '%23'))

/** An entry's own ttl as part of its cache key, so one source named twice with two ttls is kept twice, each refreshed on its own. */
export const ttlPart = (freshness: EntryFreshness | undefined): string | undefined => (freshness?.ttl === undefined ? undefined : `ttl=${String(freshness.ttl)}`)

/** Properties of the Lambda context, and `caches` (where dataCache puts its handles): no cache may take their place. */
const reservedContextNames = new Set([
  'caches', 'callbackWaitsForEmptyEventLoop', 'functionName', 'functionVersion', 'invokedFunctionArn', 'memoryLimitInMB', 'awsRequestId',
  'logGroupName', 'logStreamName', 'identity', 'clientContext', 'tenantId', 'getRemainingTimeInMillis', 'done', 'fail', 'succeed',
])

/** Refuses a `name` (the cache's context property) that the context already has for something else. */
export const refuseReservedName = (name: unknown): void => {
  if (typeof name === 'string' && reservedContextNames.has(name)) {
    throw new CacheOptionsError('name', `cannot be ${printable(name)}: the context already has a property of that name`)
  }
}

/**
 * Names a value on the context cannot take: the object holding the values keeps `toJSON` on its
 * prototype (redacting secrets), and `__proto__` would replace that prototype, so that JSON and
 * util.inspect would show every secret beside it.
 */
const unholdableProperties: ReadonlySet<string> = new Set(['__proto__', 'toJSON'])

/** Refuses a value's context property (`option` names it, as `secrets.stripeKey`) that its holder cannot keep. */
export const refuseUnholdableProperty = (option: string, property: string): void => {
  if (unholdableProperties.has(property)) {
    throw new CacheOptionsError(option, `cannot be named ${printable(property)}: the object holding the values needs that name itself; choose another`)
  }
}

/**
 * configCache and secretsCache hold only the values they name, in memory: `l1` and `l2` get an
 * error that says why, rather than a hint at a name they might have meant.
 */
export const refuseTierOptions = (options: Readonly<Record<string, unknown>>, middleware: string, l2Reason: string): void => {
  if (options.l1 !== undefined) throw new CacheOptionsError('l1', `is not an option of ${middleware}: it holds only the values it names, which need no memory bounds`)
  if (options.l2 !== undefined) throw new CacheOptionsError('l2', `is not an option of ${middleware}: ${l2Reason}`)
}

/**
 * SSM's own names (letters, digits, _ . - / :), or a Secrets Manager secret read through SSM's
 * reference path, in the characters of a secret's name (see secretsCache's `secretName`).
 */
const ssmNamePattern = /^(?:[A-Za-z0-9_.\-/:]{1,2048}|\/aws\/reference\/secretsmanager\/[\x21-\x7e]{1,2048})$/

/** What SSM asks of a name or path in a hierarchy. */
export const hierarchyRule = "a hierarchy starting with '/', as SSM's paths do"

/**
 * An SSM parameter name, path or ARN: checked at construction, not by SSM at the first invocation.
 * A name in a hierarchy without its leading slash (`shop/table`) names nothing: SSM creates none.
 */
export const ssmName = (option: string, value: unknown): string => {
  if (typeof value !== 'string' || !ssmNamePattern.test(value)) {
    throw mustBe(option, 'an SSM parameter name or ARN (letters, digits, _ . - / :)', value)
  }
  if (value.includes('/') && !value.startsWith('/') && !value.startsWith('arn:')) throw mustBe(option, hierarchyRule, value)
  return value
}

// The engine's option helpers, for the middlewares to share.
export { isRecord, optionalBoolean, requireRecord } from '../../src/cache/options.js'
