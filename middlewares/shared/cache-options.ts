import { parseDuration, type Duration } from '../../src/cache/duration.js'
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
 * unset, so the engine's own defaults and validation apply.
 */
export const engineFreshness = (options: CacheMiddlewareOptions<string>, defaults: { readonly ttl: Duration; readonly negativeTtl: Duration }) => ({
  ttl: options.ttl ?? defaults.ttl,
  negativeTtl: options.negativeTtl ?? defaults.negativeTtl,
  ...(options.staleWhileRevalidate === undefined ? {} : { staleWhileRevalidate: options.staleWhileRevalidate }),
  ...(options.staleIfError === undefined ? {} : { staleIfError: options.staleIfError }),
  ...(options.jitter === undefined ? {} : { jitter: options.jitter }),
  ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  ...(options.retryAfterError === undefined ? {} : { retryAfterError: options.retryAfterError }),
})

/** The freshness of a value given its own `ttl` option (checked now); undefined when it has none. */
export const ownTtl = (option: string, ttl: unknown): EntryFreshness | undefined => {
  if (ttl === undefined) return undefined
  parseDuration(option, ttl)
  return { ttl: ttl as Duration }
}

// The engine's option helpers, for the middlewares to share.
export { optionalDurationMs } from '../../src/cache/duration.js'
export { isRecord, optionalBoolean, requireRecord } from '../../src/cache/options.js'
