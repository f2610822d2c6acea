import { monotonicClock, type Clock } from './clock.js'
import { boundedDuration, optionalDurationMs, optionalWindowMs, parseWindow, type Duration } from './duration.js'
import { CacheOptionsError, mustBe, quotedKey } from './errors.js'
import type { FreshnessPolicy } from './freshness.js'
import type { L2Store } from '../stores/l2-store.js'
import type { MemoryStoreBounds } from '../stores/memory/index.js'
import type { TieredStore } from './shared-tier.js'
import { checkedUrl } from './urls.js'

/** Freshness of one entry, overriding the cache's options. */
export interface EntryFreshness {
  readonly ttl?: Duration
  readonly staleWhileRevalidate?: Duration
  readonly staleIfError?: Duration
}

/** What a loader is given besides the key. */
export interface LoadContext {
  /** Aborts when the load is abandoned (its invocation ended); pass it to the SDK or fetch call. */
  readonly signal: AbortSignal
  /** Overrides the freshness of the entry this load stores (say, a ttl capped by a rotation date). A property, so it can be destructured. */
  readonly setFreshness: (freshness: EntryFreshness) => void
}

/** Loads one key. Returning undefined means "not found" (remembered for `negativeTtl`). */
export type Loader<V> = (key: string, context: LoadContext) => V | PromiseLike<V>

/** What a batch loader is given besides the keys. */
export interface BatchLoadContext {
  readonly signal: AbortSignal
  /** Overrides the freshness of the entry stored for `key`. */
  readonly setFreshness: (freshness: EntryFreshness, key: string) => void
  /**
   * Fails `key` alone with `error` (a value that cannot be decoded, say), as a failed `load` would:
   * the other keys of the call keep the values answered for them.
   */
  readonly fail: (key: string, error: unknown) => void
}

/**
 * Loads many keys in one call: a Map by key, or an array aligned with `keys` (one value per key, in
 * their order). A key the Map leaves out, or undefined in the array, is "not found".
 */
export type BatchLoader<V> = (
  keys: readonly string[],
  context: BatchLoadContext,
) => PromiseLike<ReadonlyMap<string, V> | readonly (V | undefined)[]>

export interface L1Options {
  /** Most entries kept; least recently used evicted first. Default 10,000. */
  readonly maxEntries?: number
  /** Most approximate bytes kept (values and keys); a larger value is returned but not cached. Default 64 MiB. */
  readonly maxBytes?: number
}

/** Where the one warning about values the shared tier cannot store goes. */
export interface Logger {
  warn(message: string): void
}

/** The freshness vocabulary every cache shares (DESIGN.md). Each window is at most one year (`longestWindowMs`). */
export interface FreshnessOptions {
  /** How long a value is fresh. */
  readonly ttl: Duration
  /** After `ttl`, how long a stale value is served at once while a refresh runs beside the caller. Default 0. */
  readonly staleWhileRevalidate?: Duration
  /** After `ttl`, how long a stale value may be served when the refresh fails or times out. Default 0. */
  readonly staleIfError?: Duration
  /** How long "not found" is remembered; 0 (default) never. */
  readonly negativeTtl?: Duration
  /** Fraction in [0, 1) by which each entry's ttl is shortened at random. Default 0. */
  readonly jitter?: number
  /** How long a load may take: soft when a stale value may stand in, hard otherwise. Default: no limit. */
  readonly timeout?: Duration
  /**
   * After a refresh failed or outlived `timeout`, how long its stale value is served without asking
   * the source again, so an outage (or a source that hangs) costs one call per key per period
   * rather than one per request. Default 1 s; 0 asks again on every request.
   */
  readonly retryAfterError?: Duration
}

export interface CacheOptions<V> extends FreshnessOptions {
  /** Keeps caches apart; names the cache in errors, metrics and shared-tier keys. */
  readonly name: string
  readonly load: Loader<V>
  /** Loads the misses of `getMany` in one call; without it they load one by one, concurrently. */
  readonly loadMany?: BatchLoader<V>
  readonly l1?: L1Options
  /** A shared tier behind memory: `redisStore(...)` or `dynamoStore(...)`. Never for secrets. */
  readonly l2?: L2Store
  /** Receives the one warning about values the shared tier cannot store. Default: console. */
  readonly logger?: Logger
  /** The monotonic millisecond clock freshness is read from; replace it to simulate frozen time. */
  readonly now?: Clock
  /**
   * How load and timeout errors name a key: by default the key, quoted. configCache and secretsCache
   * name the parameter or secret and where it lands on the context.
   */
  readonly describeKey?: (key: string) => string
  /**
   * The `key` load and timeout errors carry: by default the key itself. dataCache with
   * `scope: 'principal'` gives the caller's key, without the caller's identity.
   */
  readonly errorKey?: (key: string) => string
}

export interface ResolvedOptions<V> {
  readonly name: string
  readonly load: Loader<V>
  readonly loadMany: BatchLoader<V> | undefined
  readonly policy: FreshnessPolicy
  readonly timeoutMs: number | undefined
  readonly retryAfterErrorMs: number
  readonly bounds: MemoryStoreBounds
  readonly l2: TieredStore | undefined
  readonly logger: Logger
  readonly now: Clock
  /** Never throws: a describer that fails falls back to the quoted key. */
  readonly describeKey: (key: string) => string
  /** Never throws: one that fails falls back to the key itself. */
  readonly errorKey: (key: string) => string
}

const cacheOptionNames = [
  'name', 'load', 'loadMany', 'ttl', 'staleWhileRevalidate', 'staleIfError', 'negativeTtl', 'jitter', 'timeout', 'retryAfterError', 'l1', 'l2', 'logger', 'now', 'describeKey', 'errorKey',
] as const
const optionalFunctionNames = ['loadMany', 'now', 'describeKey', 'errorKey'] as const
const l1OptionNames = ['maxEntries', 'maxBytes'] as const
const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
/** What a cache's name may be, as `cacheNameRule` says. */
export const isCacheName = (value: unknown): value is string => typeof value === 'string' && namePattern.test(value)
export const cacheNameRule = "1 to 64 letters, digits, '_', '-' or '.', starting with a letter or digit"
/** `l1.maxEntries` when not given. */
export const defaultMaxEntries = 10_000
const defaultRetryAfterErrorMs = 1_000
const defaultMaxBytes = 64 * 1024 * 1024
/** setTimeout's ceiling. */
const maxTimeoutMs = 2 ** 31 - 1

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The error for the first own property of `options` that is not in `known`, suggesting the closest known name; undefined when there is none. */
export const unknownOptionError = (options: Record<string, unknown>, known: readonly string[], path = ''): CacheOptionsError | undefined => {
  for (const option of Object.keys(options)) {
    if (known.includes(option)) continue
    const suggestion = closestName(option, known)
    const hint = suggestion === undefined ? '' : ` (did you mean "${path}${suggestion}"?)`
    return new CacheOptionsError(`${path}${option}`, `is not an option${hint}; known options: ${known.join(', ')}`)
  }
  return undefined
}

/** Throws for any own property of `options` that is not in `known`, suggesting the closest known name. */
export const rejectUnknownOptions = (options: Record<string, unknown>, known: readonly string[], path = ''): void => {
  const error = unknownOptionError(options, known, path)
  if (error !== undefined) throw error
}

const closestName = (name: string, known: readonly string[]): string | undefined => {
  let best: string | undefined
  let bestDistance = Math.max(3, Math.ceil(name.length / 3)) + 1
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

export const requireRecord = (option: string, value: unknown, example: string): Record<string, unknown> => {
  if (!isRecord(value)) throw mustBe(option, `an object such as ${example}`, value)
  return value
}

/**
 * How a factory names the SDK client it takes: `{ isClient, client: 'an S3Client', config: 'S3 client
 * options', maker: 'the loader' }`; `option` is `client` unless the factory follows Powertools'
 * `awsSdkV3Client`, and `prefix` names where the pair sits (`secretsManager.`).
 */
export interface ClientDescription {
  readonly isClient: (value: unknown) => boolean
  readonly client: string
  readonly config: string
  /** Who makes a client when none is given. */
  readonly maker: string
  readonly option?: 'client' | 'awsSdkV3Client'
  readonly prefix?: string
}

/**
 * An SDK v3 client of any copy of the SDK (another version in the bundle has classes of its own, so
 * `instanceof` would refuse it): what Powertools' providers, warmup, the loaders and the stores call
 * `send` on; with `service`, one whose config names no other service (`serviceId`, 'DynamoDB').
 * Checked at construction, since Powertools would swap one that is none for a default client at the
 * first load (with only a warning).
 */
export const isSdkClient = (value: unknown, service?: string): boolean => {
  if (!isRecord(value) || typeof value.send !== 'function') return false
  const serviceId = isRecord(value.config) ? value.config.serviceId : undefined
  return service === undefined || serviceId === undefined || serviceId === service
}

const endpointRule = 'an http:// or https:// URL, an endpoint object or a function that gives one'

/**
 * The endpoint and region of a client's options (`option`), which the SDK reads only as it makes the
 * client or sends a request: a string endpoint is parsed for each request, and an empty region is
 * refused as the client is made, at the first call. Endpoint objects, and the functions the SDK
 * calls for an endpoint or a region, are left to it.
 */
const checkEndpointAndRegion = (option: string, clientConfig: Readonly<Record<string, unknown>>): void => {
  const { endpoint, region } = clientConfig
  if (typeof endpoint === 'string') checkedUrl(`${option}.endpoint`, endpoint, ['http:', 'https:'], endpointRule)
  else if (endpoint !== undefined && typeof endpoint !== 'function' && !isRecord(endpoint)) throw mustBe(`${option}.endpoint`, endpointRule, endpoint)
  const isRegion = (typeof region === 'string' && region !== '') || typeof region === 'function'
  if (region !== undefined && !isRegion) throw mustBe(`${option}.region`, "a region such as 'eu-west-1', or a function that gives one", region)
}

/**
 * A client you made, or the `clientConfig` of the one to be made at first use: checked now, since
 * the first call would be the first to meet a config that is no object, or whose endpoint or region
 * the SDK cannot use, and a config given beside a client would be ignored without a word.
 */
export const checkClientOrConfig = (options: Readonly<Record<string, unknown>>, described: ClientDescription): void => {
  const { option = 'client', prefix = '' } = described
  const client = options[option]
  const { clientConfig } = options
  if (client !== undefined && !described.isClient(client)) throw mustBe(`${prefix}${option}`, described.client, client)
  if (client !== undefined && clientConfig !== undefined) {
    throw new CacheOptionsError(`${prefix}clientConfig`, `applies to a client ${described.maker} makes, not to a '${option}' you pass: configure that client instead`)
  }
  if (clientConfig === undefined) return
  if (!isRecord(clientConfig)) throw mustBe(`${prefix}clientConfig`, `${described.config} such as { region: 'eu-west-1' }`, clientConfig)
  checkEndpointAndRegion(`${prefix}clientConfig`, clientConfig)
}

export const optionalBoolean = (option: string, value: unknown, fallback: boolean): boolean => {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw mustBe(option, 'true or false', value)
  return value
}

export const positiveInteger = (option: string, value: unknown, fallback: number): number => {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw mustBe(option, 'a whole number of 1 or more', value)
  }
  return value
}

const resolveBounds = (l1: unknown): MemoryStoreBounds => {
  if (l1 === undefined) return { maxEntries: defaultMaxEntries, maxBytes: defaultMaxBytes }
  const bounds = requireRecord('l1', l1, '{ maxEntries: 1000, maxBytes: 10_000_000 }')
  rejectUnknownOptions(bounds, l1OptionNames, 'l1.')
  return {
    maxEntries: positiveInteger('l1.maxEntries', bounds.maxEntries, defaultMaxEntries),
    maxBytes: positiveInteger('l1.maxBytes', bounds.maxBytes, defaultMaxBytes),
  }
}

/** No timeout unless given: a given one is bounded. */
const resolveTimeout = (value: unknown): number | undefined => (value === undefined ? undefined : boundedDuration('timeout', value, maxTimeoutMs, 1, maxTimeoutMs))

const resolveJitter = (value: unknown): number => {
  if (value === undefined) return 0
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw mustBe('jitter', 'a fraction from 0 up to (not including) 1, such as 0.1', value)
  }
  return value
}

/** The store brings the shared tier's code (`TieredStore`), so that a cache without one bundles none of it. */
const resolveL2 = (value: unknown): TieredStore | undefined => {
  if (value === undefined) return undefined
  if (!isRecord(value) || !isRecord(value.settings) || typeof value.sharedTier !== 'function') {
    throw mustBe('l2', 'a store made by redisStore(...) or dynamoStore(...)', value)
  }
  return value as unknown as TieredStore
}

/** Does nothing: what a caller hands on where it wants nothing done (a settled promise's value, a rejection already dealt with). */
export const ignore = (): void => undefined

/** Whether a function the user gave answered with a promise (or another thenable) rather than a value. */
export const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  ((typeof value === 'object' && value !== null) || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'

/** Functions whose every answer is a promise or an iterator, by their tag, as an error names them. */
const deferringFunctions: ReadonlyMap<string, string> = new Map([
  ['[object AsyncFunction]', 'an async function, whose every answer is a promise'],
  ['[object GeneratorFunction]', 'a generator function, whose every answer is an iterator'],
  ['[object AsyncGeneratorFunction]', 'an async generator function, whose every answer is an async iterator'],
])

const classSource = /^class\b/

/**
 * What makes a function the user gave as a predicate unable to answer a call at once with a value,
 * for the error refusing it: async, a generator (its promise or iterator is truthy, whatever it
 * would yield), or a class, which throws when called without `new`. Undefined for any other value.
 */
export const unansweringFunction = (value: unknown): string | undefined => {
  if (typeof value !== 'function') return undefined
  // A method named `class`, whose source starts as a class's does, has no prototype of its own.
  if (Object.hasOwn(value, 'prototype') && classSource.test(Function.prototype.toString.call(value))) return 'a class, which cannot be called without new'
  return deferringFunctions.get(Object.prototype.toString.call(value))
}

/**
 * Handles the rejection of a promise nobody waits for: left unhandled, it would end the Lambda
 * invocation (and the process) with an error.
 */
export const dropRejection = (promise: PromiseLike<unknown>): void => {
  void Promise.resolve(promise).then(undefined, ignore)
}

/**
 * `call`, its own failure swallowed: a logger that throws (a closed transport, a formatter that
 * chokes), or an async one whose promise rejects, must never fail an invocation, nor the work it
 * reports on.
 */
export const neverThrowing =
  <A extends unknown[]>(call: (...args: A) => unknown) =>
  (...args: A): void => {
    try {
      const result = call(...args)
      if (isThenable(result)) dropRejection(result)
    } catch {
      // Nothing left to tell it to.
    }
  }

export const resolveLogger = (value: unknown): Logger => {
  if (value !== undefined && (!isRecord(value) || typeof value.warn !== 'function')) throw mustBe('logger', 'an object with a warn(message) method, such as console', value)
  // Typed by what it may answer, which neverThrowing handles: an async logger answers with a promise.
  const logger = (value ?? console) as { warn(message: string): unknown }
  return {
    warn: neverThrowing((message: string) => logger.warn(message)),
  }
}

/** Refuses a function option given as something else (a key attribute's name for `key`, say); one left out passes. */
export const optionalFunction = (option: string, value: unknown): void => {
  if (value !== undefined && typeof value !== 'function') throw mustBe(option, 'a function', value)
}

/**
 * The options of `names` that `options` gives, for a factory to pass on to another: only undefined
 * is left out, so that the reader's defaults apply to it, and a null meets the reader's validation.
 */
export const givenOptions = <O extends object, K extends keyof O>(options: O, names: readonly K[]): Partial<Pick<O, K>> =>
  Object.fromEntries(names.filter((name) => options[name] !== undefined).map((name) => [name, options[name]])) as Partial<Pick<O, K>>

/** A `ttl` in milliseconds: a freshness window of 1 ms or more, or an error naming the option. */
export const parseTtl = (option: string, value: unknown): number => {
  const ttlMs = parseWindow(option, value)
  if (ttlMs < 1) throw mustBe(option, '1 ms or more', value)
  return ttlMs
}

/** The cache's policy with an entry's own freshness applied; throws a CacheOptionsError for a bad duration. */
export const policyWith = (policy: FreshnessPolicy, freshness: EntryFreshness | undefined): FreshnessPolicy => {
  if (freshness === undefined) return policy
  const { ttl, staleWhileRevalidate, staleIfError } = freshness
  const ttlMs = ttl === undefined ? policy.ttlMs : parseTtl('ttl', ttl)
  return {
    ...policy,
    ttlMs,
    staleWhileRevalidateMs: optionalWindowMs('staleWhileRevalidate', staleWhileRevalidate, policy.staleWhileRevalidateMs),
    staleIfErrorMs: optionalWindowMs('staleIfError', staleIfError, policy.staleIfErrorMs),
  }
}

/** Validates everything once, at construction, and resolves durations to milliseconds. */
export const resolveCacheOptions = <V>(options: CacheOptions<V>): ResolvedOptions<V> => {
  const raw = requireRecord('options', options, '{ name, load, ttl }')
  rejectUnknownOptions(raw, cacheOptionNames)
  if (!isCacheName(raw.name)) throw mustBe('name', cacheNameRule, raw.name)
  if (typeof raw.load !== 'function') throw mustBe('load', 'a function', raw.load)
  for (const option of optionalFunctionNames) optionalFunction(option, raw[option])
  if (raw.ttl === undefined) throw new CacheOptionsError('ttl', "is required: how long a value is fresh, such as '5m' or 300")
  const ttlMs = parseTtl('ttl', raw.ttl)
  return {
    name: raw.name,
    load: options.load,
    loadMany: options.loadMany,
    policy: {
      ttlMs,
      staleWhileRevalidateMs: optionalWindowMs('staleWhileRevalidate', raw.staleWhileRevalidate, 0),
      staleIfErrorMs: optionalWindowMs('staleIfError', raw.staleIfError, 0),
      negativeTtlMs: optionalWindowMs('negativeTtl', raw.negativeTtl, 0),
      jitter: resolveJitter(raw.jitter),
    },
    timeoutMs: resolveTimeout(raw.timeout),
    retryAfterErrorMs: optionalDurationMs('retryAfterError', raw.retryAfterError, defaultRetryAfterErrorMs),
    bounds: resolveBounds(raw.l1),
    l2: resolveL2(raw.l2),
    logger: resolveLogger(raw.logger),
    now: options.now ?? monotonicClock,
    describeKey: safeKeyFunction(options.describeKey, quotedKey),
    errorKey: safeKeyFunction(options.errorKey, (key) => key),
  }
}

/**
 * An error about a key must still be raised, and read, when the function naming the key fails: one
 * that throws, or (called from JavaScript) answers no string, leaves what `fallback` makes of the key.
 */
const safeKeyFunction = (keyFunction: ((key: string) => string) | undefined, fallback: (key: string) => string): ((key: string) => string) => {
  if (keyFunction === undefined) return fallback
  return (key) => {
    try {
      const described: unknown = keyFunction(key)
      return typeof described === 'string' ? described : fallback(key)
    } catch {
      return fallback(key)
    }
  }
}
