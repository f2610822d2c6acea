import type { Duration } from '../../src/cache/duration.js'
import { CacheOptionsError, mustBe, printable } from '../../src/cache/errors.js'
import { givenOptions, parseTtl, rejectUnknownOptions, requireRecord } from '../../src/cache/options.js'
import type { EntryFreshness, FreshnessOptions } from '../../src/cache/options.js'

/**
 * Freshness and lifecycle options every caching middleware shares (DESIGN.md's vocabulary): the
 * engine's freshness options, each optional since each middleware has its own default ttl.
 */
export interface CacheMiddlewareOptions<N extends string> extends Partial<FreshnessOptions> {
  /** The cache's name in metrics and its property on the context: not one the context already has. */
  readonly name?: ContextName<N>
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
  ...givenOptions(options, ['staleWhileRevalidate', 'staleIfError', 'jitter', 'timeout', 'retryAfterError']),
  ttl: options.ttl === undefined ? defaults.ttl : options.ttl,
  negativeTtl: options.negativeTtl === undefined ? defaults.negativeTtl : options.negativeTtl,
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

/** A cache key made of `parts` (a name's `keyPart` first, then the flags and the `ttlPart` that shape its entry), those left undefined left out. */
export const keyOfParts = (parts: readonly (string | undefined)[]): string => parts.filter((part) => part !== undefined).join('#')

/** Properties of the Lambda context, and `caches` (where dataCache puts its handles): no cache may take their place. */
const contextPropertyNames = [
  'caches', 'callbackWaitsForEmptyEventLoop', 'functionName', 'functionVersion', 'invokedFunctionArn', 'memoryLimitInMB', 'awsRequestId',
  'logGroupName', 'logStreamName', 'identity', 'clientContext', 'tenantId', 'getRemainingTimeInMillis', 'done', 'fail', 'succeed',
] as const

/** The properties the context inherits as the plain object it is: those of `Object.prototype`. */
const inheritedNames = [
  'constructor', '__proto__', 'toString', 'toLocaleString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable',
  '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__',
] as const

/** A name no cache may take on the context: one the context already has, its own or inherited. */
export type ReservedContextName = (typeof contextPropertyNames)[number] | (typeof inheritedNames)[number]

const reservedContextNames: ReadonlySet<string> = new Set<ReservedContextName>([...contextPropertyNames, ...inheritedNames])

/**
 * A cache's `name` as its options type it: a literal the context already has fails to compile, as
 * construction would refuse it (`refuseReservedName`); a name typed `string` compiles, and is
 * checked at construction.
 */
export type ContextName<N extends string> = N extends ReservedContextName ? `the Lambda context already has a property "${N}": give the cache another name` : N

/**
 * Refuses a `name` (the cache's context property) that the context already has for something else:
 * one of its own, or one it inherits (`constructor`, `toString`), which every invocation would find
 * there in place of the values.
 */
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

/** One value configCache or secretsCache names (`parameters.table`), as `valueSpec` reads it. */
export interface ValueSpec {
  /** The option that names the value: `parameters.table`. */
  readonly option: string
  /** Its options: those given, or, for a spec given as a string, that string as its name alone. */
  readonly options: Record<string, unknown>
  /** The option that holds its name: the spec itself when given as a string, else `parameters.table.name`. */
  readonly nameOption: string
  /** Whether it was given as a string, its name alone. */
  readonly byName: boolean
}

/**
 * The spec of a value of `group` (`parameters`, `paths`, `secrets`) that lands on the context
 * property `property`: its name (`nameField` of the options) as a string, or an object (such as
 * `example`) of the options `known`. The property is checked first: it must be one the object holding
 * the values can keep (see `unholdableProperties`).
 */
export const valueSpec = (group: string, property: string, spec: unknown, nameField: string, known: readonly string[], example: string): ValueSpec => {
  const option = `${group}.${property}`
  if (unholdableProperties.has(property)) {
    throw new CacheOptionsError(option, `cannot be named ${printable(property)}: the object holding the values needs that name itself; choose another`)
  }
  const byName = typeof spec === 'string'
  const options = byName ? { [nameField]: spec } : requireRecord(option, spec, example)
  rejectUnknownOptions(options, known, `${option}.`)
  return { option, options, nameOption: byName ? option : `${option}.${nameField}`, byName }
}

/**
 * The `[property, spec]` pairs of a group of values (`parameters`, `paths`, `secrets`), an object
 * such as `example`. A property named by a symbol is refused: the values land on context properties
 * named by strings, and `Object.entries` would skip it, leaving a value the types promise unloaded.
 */
export const valueSpecs = (group: string, value: unknown, example: string): [string, unknown][] => {
  const specs = requireRecord(group, value, example)
  const symbol = Object.getOwnPropertySymbols(specs).find((key) => Object.prototype.propertyIsEnumerable.call(specs, key))
  if (symbol !== undefined) throw new CacheOptionsError(`${group}[${String(symbol)}]`, 'cannot be a symbol: each value lands on the context property its name gives, a string')
  return Object.entries(specs)
}

/**
 * The options object of configCache or secretsCache (`middleware`), checked as both check theirs: an
 * object (such as `example`) of the names `known`, and a `name` the context does not have yet. They
 * hold only the values they name, in memory: `l1` and `l2` get an error that says why (`l2Reason`),
 * rather than a hint at a name they might have meant.
 */
export const valuesMiddlewareOptions = (options: unknown, middleware: string, example: string, known: readonly string[], l2Reason: string): Record<string, unknown> => {
  const raw = requireRecord('options', options, example)
  if (raw.l1 !== undefined) throw new CacheOptionsError('l1', `is not an option of ${middleware}: it holds only the values it names, which need no memory bounds`)
  if (raw.l2 !== undefined) throw new CacheOptionsError('l2', `is not an option of ${middleware}: ${l2Reason}`)
  rejectUnknownOptions(raw, known)
  refuseReservedName(raw.name)
  return raw
}

/** SSM's own names: letters, digits, _ . - / : */
const ownSsmName = /^[A-Za-z0-9_.\-/:]{1,2048}$/

/** A Secrets Manager secret read through SSM's reference path, in the characters of a secret's name (see secretsCache's `secretName`), '//' too. */
const secretReference = /^\/aws\/reference\/secretsmanager\/[\x21-\x7e]{1,2048}$/

/** What SSM asks of a name or path in a hierarchy. */
const hierarchyRule = "a hierarchy starting with '/', as SSM's paths do"

/** A name or path in SSM's characters, or a secret's reference path; one in a hierarchy starts with '/'. */
const ssmCharacters = (option: string, value: unknown): string => {
  if (typeof value !== 'string' || !(ownSsmName.test(value) || secretReference.test(value))) {
    throw mustBe(option, 'an SSM parameter name or ARN (letters, digits, _ . - / :)', value)
  }
  if (value.includes('/') && !value.startsWith('/') && !value.startsWith('arn:')) throw mustBe(option, hierarchyRule, value)
  return value
}

/** A hierarchy with an empty level: '//', or a '/' at the end of a name. */
const emptyLevel = /\/\/|\/$/

/**
 * An SSM parameter name or ARN: checked at construction, not by SSM at the first invocation. A
 * name in a hierarchy without its leading slash (`shop/table`), or with an empty level
 * (`/shop//table`, `/shop/table/`), names nothing: SSM creates none. A secret's reference path
 * is the secret's name, which may have either.
 */
export const ssmName = (option: string, value: unknown): string => {
  const name = ssmCharacters(option, value)
  if (name.startsWith('/') && !secretReference.test(name) && emptyLevel.test(name)) throw mustBe(option, "a hierarchy without an empty level ('//', or a '/' at the end)", name)
  return name
}

/** Levels of SSM's characters between single slashes, the last slash optional; no selector (':'), which names a version of one parameter. */
const ssmPathPattern = /^\/(?:[A-Za-z0-9_.-]+\/)*[A-Za-z0-9_.-]*$/

/**
 * An SSM path, as GetParametersByPath reads it: a hierarchy starting with '/' (the root alone
 * too), its trailing slash optional. One SSM cannot hold parameters under (`/shop//flags/`,
 * `/shop/flags:2`) would be an empty object on every invocation, or an error from SSM.
 */
export const ssmPath = (option: string, value: unknown): string => {
  const path = ssmCharacters(option, value)
  if (!path.startsWith('/')) throw mustBe(option, hierarchyRule, path)
  if (!ssmPathPattern.test(path)) throw mustBe(option, 'a path of letters, digits, _ . - between single slashes, with no version or label selector', path)
  return path
}

// The engine's option helpers, for the middlewares to share.
export { isRecord, optionalBoolean, requireRecord } from '../../src/cache/options.js'
