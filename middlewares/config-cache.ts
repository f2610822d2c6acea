import type { MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import type { Duration } from '../src/cache/duration.js'
import { CacheOptionsError, mustBe } from '../src/cache/errors.js'
import type { Frozen } from '../src/cache/freeze.js'
import type { BatchLoadContext, EntryFreshness } from '../src/cache/options.js'
import { checkClientOrConfig } from '../src/cache/options.js'
import { CacheKind } from '../src/cache/registry.js'
import { isProviderClient } from '../src/sources/abortable-client.js'
import { createSsmSource, secretsManagerReferencePrefix, type SsmClientOptions, type SsmSource } from '../src/sources/ssm.js'
import { decodeValue, jsonSpec, Transform, transformOption } from '../src/sources/transform.js'
import {
  cacheMiddlewareOptionNames,
  engineFreshness,
  keyOfParts,
  keyPart,
  optionalBoolean,
  ownTtl,
  ssmName,
  ssmPath,
  ttlPart,
  valueSpec,
  valueSpecs,
  valuesMiddlewareOptions,
  type CacheMiddlewareOptions,
} from './shared/cache-options.js'
import { valuesCacheMiddleware } from './shared/context-values.js'
import { loadAlone } from './shared/load-alone.js'
import { holderHiding } from './shared/redacted.js'
import { readParameters, type ParameterRead } from './shared/ssm-parameters.js'
import type { MayBe, MaybeMissing, MayOmit } from './shared/spec-types.js'

declare const jsonType: unique symbol

/** One SSM parameter. */
export interface ParameterOptions {
  /** The parameter's name or ARN. */
  readonly name: string
  readonly transform?: Transform
  /** Decrypt a SecureString. Default false. */
  readonly decrypt?: boolean
  /** A missing parameter gives undefined instead of an error. Default false. */
  readonly optional?: boolean
  /** A StringList: its value becomes string[]. */
  readonly type?: 'StringList'
  /** This parameter's own ttl. */
  readonly ttl?: Duration
}

/** A JSON parameter whose parsed value has type T on the context: `json<Flags>('/shop/flags')`. */
export interface JsonParameterOptions<T> extends Omit<ParameterOptions, 'transform' | 'type' | 'optional'> {
  readonly transform: 'json'
  readonly [jsonType]?: T
}

/** What `json<T>(name, options)` takes besides the name. */
export type JsonParameterArguments = Omit<ParameterOptions, 'name' | 'transform' | 'type'>

/**
 * An `optional` that may be true (`true`, one known only at run time such as `stage !== 'prod'`, or
 * options typed `JsonParameterArguments`) types the value `T | undefined`, as it does for a
 * parameter given as `{ name, optional: true }`.
 */
export function json<T>(name: string, options?: JsonParameterArguments & { readonly optional?: false }): JsonParameterOptions<T>
export function json<T>(name: string, options: JsonParameterArguments): JsonParameterOptions<T> & { readonly optional?: boolean }
export function json<T>(name: string, options: JsonParameterArguments = {}): JsonParameterOptions<T> & { readonly optional?: boolean } {
  return jsonSpec(name, options)
}

/** Every parameter under a path, as an object keyed by the name relative to the path. */
export interface PathOptions {
  readonly path: string
  /** Include parameters in nested paths. Default true. */
  readonly recursive?: boolean
  readonly decrypt?: boolean
  readonly transform?: Transform
  readonly ttl?: Duration
}

export type ParameterSpec = string | ParameterOptions
export type PathSpec = string | PathOptions

/** Parsed JSON, frozen as the engine freezes every cached value. */
type JsonValue<S> = S extends { readonly [jsonType]?: infer T } ? Frozen<Exclude<T, undefined>> : unknown
/** A StringList is a read-only string[], JSON is parsed (typed by `json<T>`), anything else a string; options typed wider may be several. */
type ParameterBase<S> = S extends string
  ? string
  :
      | (MayBe<S, 'type', 'StringList'> extends true ? readonly string[] : never)
      | (MayBe<S, 'transform', 'json'> extends true ? JsonValue<S> : never)
      | (MayOmit<S, 'type'> extends true ? (true extends MayOmit<S, 'transform'> | MayBe<S, 'transform', 'binary'> ? string : never) : never)
type ParameterValue<S> = S extends unknown ? MaybeMissing<S, ParameterBase<S>> : never
type PathValue<S> = Readonly<Record<string, MayBe<S, 'transform', 'json'> extends true ? unknown : string>>

/** What lands on the context, inferred from the options. */
export type ConfigValues<P, Q> = { readonly [K in keyof P]: ParameterValue<P[K]> } & { readonly [K in keyof Q]: PathValue<Q[K]> }

export interface ConfigCacheOptions<N extends string, P, Q> extends CacheMiddlewareOptions<N>, SsmClientOptions {
  readonly parameters?: P
  readonly paths?: Q
}

const optionNames = [...cacheMiddlewareOptionNames, 'parameters', 'paths', 'awsSdkV3Client', 'clientConfig'] as const
const parameterOptionNames = ['name', 'transform', 'decrypt', 'optional', 'type', 'ttl'] as const
const pathOptionNames = ['path', 'recursive', 'decrypt', 'transform', 'ttl'] as const

/** What one cache key loads: a parameter or a path, with how to decode it. */
interface Source {
  readonly kind: 'parameter' | 'path'
  readonly name: string
  readonly decrypt: boolean
  readonly recursive: boolean
  readonly transform: Transform | undefined
  readonly list: boolean
  readonly freshness: EntryFreshness | undefined
  readonly label: string
  readonly optional: boolean
}

/** One cache entry per parameter or path and what shapes its entry: decoding, and its own ttl, so two properties naming one parameter with two ttls each get theirs. */
const keyOf = (source: Source): string =>
  keyOfParts([
    source.kind === 'path' ? `${keyPart(source.name)}*` : keyPart(source.name),
    source.transform,
    source.decrypt ? 'decrypt' : undefined,
    source.list ? 'list' : undefined,
    source.kind === 'path' && !source.recursive ? 'flat' : undefined,
    ttlPart(source.freshness),
  ])

const parameterSource = (property: string, spec: unknown): Source => {
  const { option, options, nameOption } = valueSpec('parameters', property, spec, 'name', parameterOptionNames, "'/shop/table' or { name: '/shop/flags', transform: 'json' }")
  if (options.type !== undefined && options.type !== 'StringList') throw mustBe(`${option}.type`, "'StringList' when given", options.type)
  const name = ssmName(nameOption, options.name)
  const transform = transformOption(`${option}.transform`, options.transform)
  if (transform !== undefined && options.type === 'StringList') throw new CacheOptionsError(`${option}.transform`, "cannot be combined with type: 'StringList'")
  const decrypt = optionalBoolean(`${option}.decrypt`, options.decrypt, false)
  if (!decrypt && name.startsWith(secretsManagerReferencePrefix)) {
    throw new CacheOptionsError(`${option}.decrypt`, `must be true for a Secrets Manager secret read through SSM: SSM reads none without decryption; give { name: '${name}', decrypt: true }`)
  }
  return {
    kind: 'parameter',
    name,
    decrypt,
    recursive: false,
    transform,
    list: options.type === 'StringList',
    freshness: ownTtl(`${option}.ttl`, options.ttl),
    label: `parameter "${name}"`,
    optional: optionalBoolean(`${option}.optional`, options.optional, false),
  }
}

const pathSource = (property: string, spec: unknown): Source => {
  const { option, options, nameOption } = valueSpec('paths', property, spec, 'path', pathOptionNames, "'/shop/flags/' or { path: '/shop/flags/', decrypt: true }")
  const path = ssmPath(nameOption, options.path)
  if (`${path}/`.startsWith(secretsManagerReferencePrefix)) throw mustBe(nameOption, 'a hierarchy of parameters: SSM reads Secrets Manager secrets one by name, never by path', path)
  return {
    kind: 'path',
    name: path,
    decrypt: optionalBoolean(`${option}.decrypt`, options.decrypt, false),
    recursive: optionalBoolean(`${option}.recursive`, options.recursive, true),
    transform: transformOption(`${option}.transform`, options.transform),
    list: false,
    freshness: ownTtl(`${option}.ttl`, options.ttl),
    label: `path "${path}"`,
    optional: false,
  }
}

const decodeParameter = (source: Source, raw: string): unknown => (source.list ? raw.split(',') : decodeValue(raw, source.transform, source.label))

const loadPath = async (ssm: SsmSource, source: Source, signal: AbortSignal): Promise<Record<string, unknown>> => {
  const found = await ssm.getByPath(source.name, { decrypt: source.decrypt, recursive: source.recursive, signal })
  // Names come relative to the path, which may be given with or without its trailing slash.
  const under = source.name.endsWith('/') ? source.name : `${source.name}/`
  // Own properties whatever the names: assigned, one named `__proto__` would be dropped, or, parsed as JSON, become the prototype.
  return Object.fromEntries(Object.entries(found).map(([name, raw]) => [name, decodeValue(raw, source.transform, `parameter "${under}${name}"`)]))
}

/**
 * Loads many keys: paths one by one, parameters in GetParameters batches (`readParameters`). A call
 * SSM refuses fails the keys it was for; the others are served.
 */
const loadMany = async (ssm: SsmSource, sources: ReadonlyMap<string, Source>, keys: readonly string[], context: BatchLoadContext): Promise<Map<string, unknown>> => {
  const values = new Map<string, unknown>()
  const parameters: ParameterRead[] = []
  const paths: [string, Source][] = []
  for (const key of keys) {
    const source = sources.get(key)
    if (source === undefined) continue
    if (source.freshness !== undefined) context.setFreshness(source.freshness, key)
    if (source.kind === 'path') paths.push([key, source])
    else parameters.push({ key, name: source.name, decrypt: source.decrypt, decode: (raw) => decodeParameter(source, raw) })
  }
  // A path SSM refuses, or one holding a value that cannot be decoded, fails its own key: the others are served.
  const pathLoads = paths.map(async ([key, source]) => {
    try {
      values.set(key, await loadPath(ssm, source, context.signal))
    } catch (error) {
      context.fail(key, error)
    }
  })
  await Promise.all([readParameters(ssm, parameters, context, values), ...pathLoads])
  return values
}

/**
 * Puts SSM parameters on `context.config` (or `context[name]`): loaded once, refreshed per entry,
 * the last good value kept while SSM fails.
 */
// eslint-disable-next-line @typescript-eslint/no-generated-empty-object-type -- no parameters (or no paths) means nothing of that kind on the context
export const configCache = <const N extends string = 'config', const P extends Readonly<Record<string, ParameterSpec>> = Record<never, never>, const Q extends Readonly<Record<string, PathSpec>> = Record<never, never>>(
  options: ConfigCacheOptions<N, P, Q>,
): MiddlewareObj<unknown, unknown, Error, Context & { readonly [K in N]: ConfigValues<P, Q> }> => {
  const raw = valuesMiddlewareOptions(
    options,
    'configCache',
    "{ parameters: { table: '/shop/table' } }",
    optionNames,
    'each environment reads its parameters from SSM; values to share through Redis or DynamoDB belong in a dataCache',
  )
  checkClientOrConfig(raw, { isClient: (client) => isProviderClient(client, 'SSM'), client: 'an SSMClient from the AWS SDK v3', config: 'SSM client options', maker: 'configCache', option: 'awsSdkV3Client' })
  const parameters = raw.parameters === undefined ? [] : valueSpecs('parameters', raw.parameters, "{ table: '/shop/table' }")
  const paths = raw.paths === undefined ? [] : valueSpecs('paths', raw.paths, "{ flags: '/shop/flags/' }")
  if (parameters.length + paths.length === 0) throw new CacheOptionsError('parameters', "or 'paths' must name at least one value to cache")
  const sourceByProperty = [
    ...parameters.map(([property, spec]) => [property, parameterSource(property, spec)] as const),
    ...paths.map(([property, spec]) => {
      if (parameters.some(([parameterProperty]) => parameterProperty === property)) throw new CacheOptionsError(`paths.${property}`, `lands on the same context property as parameters.${property}: give one of them another name`)
      return [property, pathSource(property, spec)] as const
    }),
  ]

  const sources = new Map<string, Source>()
  // Decrypted SecureStrings are secrets: shown as '[redacted]' by JSON and util.inspect, as secretsCache shows its values.
  const decrypted = new Set<string>()
  const entries = sourceByProperty.map(([property, source]) => {
    const key = keyOf(source)
    if (source.decrypt) decrypted.add(property)
    sources.set(key, source)
    return { property, key, optional: source.optional, label: source.label }
  })

  const ssm = createSsmSource(options)
  const loadKeys = (keys: readonly string[], context: BatchLoadContext) => loadMany(ssm, sources, keys, context)
  return valuesCacheMiddleware({
    middleware: 'configCache',
    kind: CacheKind.Config,
    options,
    defaultName: 'config',
    entries,
    engine: {
      ...engineFreshness(options, { ttl: '5m', negativeTtl: '1m' }),
      load: loadAlone(loadKeys),
      loadMany: loadKeys,
    },
    holderFor: (existing) => holderHiding(existing, decrypted),
  }) as MiddlewareObj<unknown, unknown, Error, Context & { readonly [K in N]: ConfigValues<P, Q> }>
}
