import type { MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import { parseDuration, type Duration } from '../src/cache/duration.js'
import { CacheError, CacheOptionsError, mustBe } from '../src/cache/errors.js'
import type { Frozen } from '../src/cache/freeze.js'
import type { BatchLoadContext, EntryFreshness, Logger } from '../src/cache/options.js'
import { checkClientOrConfig, rejectUnknownOptions, resolveLogger } from '../src/cache/options.js'
import { CacheKind } from '../src/cache/registry.js'
import { reasonOf } from '../src/lambda/reason.js'
import { isProviderClient } from '../src/sources/abortable-client.js'
import { createSecretsSource, isScheduledForDeletion, type SecretsClientOptions, type SecretsSource } from '../src/sources/secrets.js'
import { createSsmSource, type SsmClientOptions, type SsmSource } from '../src/sources/ssm.js'
import { decodeValue, jsonSpec, Transform, transformOption } from '../src/sources/transform.js'
import {
  cacheMiddlewareOptionNames,
  engineFreshness,
  keyOfParts,
  keyPart,
  optionalBoolean,
  ownTtl,
  requireRecord,
  ssmName,
  ttlPart,
  valueSpec,
  valueSpecs,
  valuesMiddlewareOptions,
  type CacheMiddlewareOptions,
} from './shared/cache-options.js'
import { contextPath, valuesCacheMiddleware } from './shared/context-values.js'
import { loadAlone } from './shared/load-alone.js'
import { holderHiding } from './shared/redacted.js'
import { dropsSecrets, refreshOnOption } from './shared/refresh-on.js'
import { readParameters, type ParameterRead } from './shared/ssm-parameters.js'
import type { MayBe, MaybeMissing, MayOmit } from './shared/spec-types.js'

declare const jsonType: unique symbol

/** Where a secret is kept. */
export const SecretSource = {
  SecretsManager: 'secretsmanager',
  /** An SSM SecureString, decrypted. */
  Ssm: 'ssm',
} as const
export type SecretSource = (typeof SecretSource)[keyof typeof SecretSource]

/** One secret. */
export interface SecretOptions {
  /** Secrets Manager: the secret's name or ARN; SSM: the parameter's name or ARN. */
  readonly name: string
  readonly source?: SecretSource
  readonly transform?: Transform
  /** A missing secret gives undefined instead of an error. Default false. */
  readonly optional?: boolean
  readonly ttl?: Duration
}

/** A JSON secret whose parsed value has type T on the context: `jsonSecret<DbCredentials>('shop/db')`. */
export interface JsonSecretOptions<T> extends Omit<SecretOptions, 'transform' | 'optional'> {
  readonly transform: 'json'
  readonly [jsonType]?: T
}

/** What `jsonSecret<T>(name, options)` takes besides the name. */
export type JsonSecretArguments = Omit<SecretOptions, 'name' | 'transform'>

/**
 * An `optional` that may be true (`true`, one known only at run time such as `stage !== 'prod'`, or
 * options typed `JsonSecretArguments`) types the value `T | undefined`, as it does for a secret
 * given as `{ name, optional: true }`.
 */
export function jsonSecret<T>(name: string, options?: JsonSecretArguments & { readonly optional?: false }): JsonSecretOptions<T>
export function jsonSecret<T>(name: string, options: JsonSecretArguments): JsonSecretOptions<T> & { readonly optional?: boolean }
export function jsonSecret<T>(name: string, options: JsonSecretArguments = {}): JsonSecretOptions<T> & { readonly optional?: boolean } {
  return jsonSpec(name, options)
}

export type SecretSpec = string | SecretOptions

/** Parsed JSON, frozen as the engine freezes every cached value. */
type JsonValue<S> = S extends { readonly [jsonType]?: infer T } ? Frozen<Exclude<T, undefined>> : unknown
/** An SSM SecureString is a string; a Secrets Manager secret may be SecretBinary bytes. */
type StoredValue<S> = (MayBe<S, 'source', 'ssm'> extends true ? string : never) | (true extends MayOmit<S, 'source'> | MayBe<S, 'source', 'secretsmanager'> ? string | Uint8Array : never)
/** A name alone is a string secret; JSON is parsed (typed by `jsonSecret<T>`); options typed wider may be several. */
type SecretBase<S> = S extends string
  ? string
  : (MayBe<S, 'transform', 'json'> extends true ? JsonValue<S> : never) | (true extends MayOmit<S, 'transform'> | MayBe<S, 'transform', 'binary'> ? StoredValue<S> : never)
type SecretValue<S> = S extends unknown ? MaybeMissing<S, SecretBase<S>> : never

/** What lands on the context, inferred from the options. */
export type SecretValues<S> = { readonly [K in keyof S]: SecretValue<S[K]> }

export interface SecretsCacheOptions<N extends string, S> extends CacheMiddlewareOptions<N> {
  readonly secrets: S
  /**
   * Drops every cached secret when the handler fails with an error this predicate accepts (say, an
   * authentication error after a rotation). Asked in `onError`, once the secrets are on the context
   * (an error raised before, by a middleware used before this one, is none of theirs): an `onError`
   * that Middy runs before this one (a middleware used after it) and that returns a response leaves
   * it unasked. It answers at once: an async function, a generator function or a class is refused,
   * and a promise keeps the secrets.
   */
  readonly refreshOn?: (error: unknown) => boolean
  /**
   * Caps each Secrets Manager secret's ttl at its next scheduled rotation (one DescribeSecret per
   * load); refused when every secret is an SSM SecureString, which has none. A DescribeSecret that
   * is denied or fails caps nothing and warns once per secret (of one that loaded: not when the load
   * failed, was given up on or found nothing). Default false.
   */
  readonly capTtlAtRotation?: boolean
  /** Receives the warnings of `capTtlAtRotation` and `refreshOn` (Powertools' Logger, console). Default: console. */
  readonly logger?: Logger
  readonly secretsManager?: SecretsClientOptions
  readonly ssm?: SsmClientOptions
}

const optionNames = [...cacheMiddlewareOptionNames, 'secrets', 'refreshOn', 'capTtlAtRotation', 'logger', 'secretsManager', 'ssm'] as const
const secretOptionNames = ['name', 'source', 'transform', 'optional', 'ttl'] as const
const clientOptionNames = ['awsSdkV3Client', 'clientConfig'] as const
const sources: readonly string[] = Object.values(SecretSource)

interface SecretPlan {
  readonly name: string
  readonly source: SecretSource
  readonly transform: Transform | undefined
  readonly freshness: EntryFreshness | undefined
  readonly optional: boolean
  readonly label: string
  /** Named by its name alone, so typed string: bytes (SecretBinary) would belie the type. */
  readonly textOnly: boolean
  /** Where the value lands, for errors: `context.secrets.stripeKey`. */
  readonly target: string
}

const secretIdPattern = /^[\x21-\x7e]{1,2048}$/

/**
 * A Secrets Manager name or ARN: checked at construction, not at the first invocation. Printable
 * ASCII with no spaces rather than the characters a user may choose (letters, digits, / _ + = . @ -):
 * secrets AWS makes for other services are named `rds!db-...` or `events!connection/...`.
 */
const secretName = (option: string, value: unknown): string => {
  if (typeof value !== 'string' || !secretIdPattern.test(value)) throw mustBe(option, 'a secret name or ARN (printable characters, no spaces)', value)
  return value
}

const keyOf = (plan: SecretPlan): string => keyOfParts([plan.source, keyPart(plan.name), plan.transform, plan.textOnly ? 'text' : undefined, ttlPart(plan.freshness)])

const secretPlan = (contextName: string, property: string, spec: unknown): SecretPlan => {
  const { option, options, nameOption, byName } = valueSpec('secrets', property, spec, 'name', secretOptionNames, "'shop/stripe' or { name: 'shop/db', transform: 'json' }")
  const { source = SecretSource.SecretsManager, transform, ttl } = options
  if (typeof source !== 'string' || !sources.includes(source)) throw mustBe(`${option}.source`, "'secretsmanager' or 'ssm'", source)
  const name = source === SecretSource.Ssm ? ssmName(nameOption, options.name) : secretName(nameOption, options.name)
  return {
    name,
    source: source as SecretSource,
    transform: transformOption(`${option}.transform`, transform),
    freshness: ownTtl(`${option}.ttl`, ttl),
    optional: optionalBoolean(`${option}.optional`, options.optional, false),
    label: source === SecretSource.Ssm ? `SecureString "${name}"` : `secret "${name}"`,
    textOnly: byName,
    target: contextPath(contextName, property),
  }
}

/** A Secrets Manager value as its plan declares it: bytes where the declared type is string are an error. */
const declaredValue = (plan: SecretPlan, value: string | Uint8Array): unknown => {
  if (plan.textOnly && typeof value !== 'string') {
    throw new CacheError(`middy-cache: ${plan.label} for ${plan.target} is binary (SecretBinary): declare it as { name: '${plan.name}' } to receive its bytes`)
  }
  return decodeValue(value, plan.transform, plan.label)
}

/** `service`: the `serviceId` a client of that service carries, so that one of another service is refused. */
const clientOptions = (option: string, value: unknown, service: string, client: string, config: string): Record<string, unknown> => {
  if (value === undefined) return {}
  const options = requireRecord(option, value, '{ clientConfig: { region: "eu-west-1" } }')
  rejectUnknownOptions(options, clientOptionNames, `${option}.`)
  checkClientOrConfig(options, { isClient: (candidate) => isProviderClient(candidate, service), client: `${client} from the AWS SDK v3`, config, maker: 'secretsCache', option: 'awsSdkV3Client', prefix: `${option}.` })
  return options
}

/**
 * `freshness` with its ttl (or, without one, the cache's `cacheTtl`) cut short to end at `rotation`;
 * a later rotation caps nothing, nor does one already past (Secrets Manager says a rotation that
 * failed may leave NextRotationDate in the past: capping at it would reload on every invocation).
 */
const ttlCappedAt = (rotation: Date | undefined, freshness: EntryFreshness | undefined, cacheTtl: Duration): EntryFreshness | undefined => {
  if (rotation === undefined) return freshness
  const untilRotationMs = rotation.getTime() - Date.now()
  if (!(untilRotationMs > 0)) return freshness
  return untilRotationMs < parseDuration('ttl', freshness?.ttl ?? cacheTtl) ? { ...freshness, ttl: `${Math.max(1, Math.floor(untilRotationMs))}ms` } : freshness
}

/** What DescribeSecret told of a secret's next rotation, or, when it failed, why. */
interface RotationAnswer {
  /** NextRotationDate, when rotation is scheduled. */
  readonly at: Date | undefined
  readonly failure?: { readonly error: unknown }
}

/** Never rejects: a DescribeSecret that fails caps nothing, and the load goes on without it. */
const rotationAnswer = (source: SecretsSource, secretId: string, signal: AbortSignal): Promise<RotationAnswer> =>
  source.nextRotation(secretId, signal).then(
    (at) => ({ at }),
    (error: unknown) => ({ at: undefined, failure: { error } }),
  )

/**
 * The secret's value; one scheduled for deletion is, to an optional secret, not found, and to a
 * required one an error that says so (AWS's own says only that the operation is refused).
 */
const secretValue = async (source: SecretsSource, plan: SecretPlan, signal: AbortSignal): Promise<string | Uint8Array | undefined> => {
  try {
    return await source.getSecret(plan.name, signal)
  } catch (error) {
    if (!isScheduledForDeletion(error)) throw error
    if (plan.optional) return undefined
    throw new CacheError(
      `middy-cache: ${plan.label} for ${plan.target} is scheduled for deletion in Secrets Manager: restore it (RestoreSecret), or declare it { name: '${plan.name}', optional: true } to receive undefined`,
      { cause: error },
    )
  }
}

/**
 * Puts secrets on `context.secrets` (or `context[name]`), from Secrets Manager or SSM SecureStrings.
 * They stay in memory only: never in a shared tier, a snapshot or a log line (JSON and util.inspect
 * of the context show the names, redacted).
 */
// eslint-disable-next-line @typescript-eslint/no-generated-empty-object-type -- no secrets declared means nothing on the context
export const secretsCache = <const N extends string = 'secrets', const S extends Readonly<Record<string, SecretSpec>> = Record<never, never>>(
  options: SecretsCacheOptions<N, S>,
): MiddlewareObj<unknown, unknown, Error, Context & { readonly [K in N]: SecretValues<S> }> => {
  const raw = valuesMiddlewareOptions(options, 'secretsCache', "{ secrets: { stripeKey: 'shop/stripe' } }", optionNames, 'secrets stay in memory, never in a shared tier')
  const specs = valueSpecs('secrets', raw.secrets, "{ stripeKey: 'shop/stripe' }")
  if (specs.length === 0) throw new CacheOptionsError('secrets', 'must name at least one secret to cache')
  const refreshOn = refreshOnOption(options.refreshOn)
  const capTtlAtRotation = optionalBoolean('capTtlAtRotation', options.capTtlAtRotation, false)
  const logger = resolveLogger(options.logger)

  const contextName = options.name === undefined ? 'secrets' : options.name
  const freshnessOptions = engineFreshness(options, { ttl: '15m', negativeTtl: '1m' })
  const plans = new Map<string, SecretPlan>()
  const entries = specs.map(([property, spec]) => {
    const plan = secretPlan(contextName, property, spec)
    const key = keyOf(plan)
    plans.set(key, plan)
    return { property, key, optional: plan.optional, label: plan.label }
  })
  if (capTtlAtRotation && [...plans.values()].every((plan) => plan.source === SecretSource.Ssm)) {
    throw new CacheOptionsError('capTtlAtRotation', "applies only to Secrets Manager secrets, and every secret here is an SSM SecureString (source: 'ssm'), which has no rotation date: leave it out")
  }

  let secretsManager: SecretsSource | undefined
  let ssm: SsmSource | undefined
  const secretsManagerOptions = clientOptions('secretsManager', options.secretsManager, 'Secrets Manager', 'a SecretsManagerClient', 'Secrets Manager client options') as SecretsClientOptions
  const ssmOptions = clientOptions('ssm', options.ssm, 'SSM', 'an SSMClient', 'SSM client options') as SsmClientOptions
  // Once per secret: a denied DescribeSecret is denied on every load, and the user who asked for the
  // cap should learn once that it is not applied, not have every load fail for it.
  const rotationWarned = new Set<string>()
  const warnUncapped = (plan: SecretPlan, error: unknown): void => {
    if (rotationWarned.has(plan.name)) return
    rotationWarned.add(plan.name)
    logger.warn(`middy-cache: capTtlAtRotation: DescribeSecret of ${plan.label} (${plan.target}) failed, so its ttl is not capped at its next rotation: ${reasonOf(error)} (warned once per secret)`)
  }
  /** A Secrets Manager secret's value, its ttl capped at its next rotation when `capTtlAtRotation` asks. */
  const loadSecret = async (key: string, plan: SecretPlan, context: BatchLoadContext): Promise<unknown> => {
    secretsManager ??= createSecretsSource(secretsManagerOptions)
    const [value, rotation] = await Promise.all([
      secretValue(secretsManager, plan, context.signal),
      capTtlAtRotation ? rotationAnswer(secretsManager, plan.name, context.signal) : undefined,
    ])
    if (value === undefined) return undefined
    const declared = declaredValue(plan, value)
    // Only now: a load that failed, found nothing or was given up on (its DescribeSecret aborted with
    // it) has no ttl to cap, and would spend the one warning on a refusal that is none.
    if (rotation?.failure !== undefined && !context.signal.aborted) warnUncapped(plan, rotation.failure.error)
    const freshness = ttlCappedAt(rotation?.at, plan.freshness, freshnessOptions.ttl)
    if (freshness !== undefined) context.setFreshness(freshness, key)
    return declared
  }
  /**
   * SecureStrings in GetParameters batches, decrypted (`readParameters`), beside one GetSecretValue
   * per Secrets Manager secret, all at once; each key fails alone, or with the SecureStrings of a
   * GetParameters call SSM refused.
   */
  const loadSecrets = async (keys: readonly string[], context: BatchLoadContext): Promise<Map<string, unknown>> => {
    const values = new Map<string, unknown>()
    const secureStrings: ParameterRead[] = []
    const loads: Promise<void>[] = []
    for (const key of keys) {
      const plan = plans.get(key)
      if (plan === undefined) continue
      if (plan.source === SecretSource.Ssm) {
        if (plan.freshness !== undefined) context.setFreshness(plan.freshness, key)
        secureStrings.push({ key, name: plan.name, decrypt: true, decode: (raw) => decodeValue(raw, plan.transform, plan.label) })
        continue
      }
      loads.push(
        loadSecret(key, plan, context).then(
          (value) => { values.set(key, value) },
          (error: unknown) => { context.fail(key, error) },
        ),
      )
    }
    if (secureStrings.length > 0) {
      ssm ??= createSsmSource(ssmOptions)
      loads.push(readParameters(ssm, secureStrings, context, values))
    }
    await Promise.all(loads)
    return values
  }

  return valuesCacheMiddleware({
    middleware: 'secretsCache',
    kind: CacheKind.Secrets,
    options,
    defaultName: 'secrets',
    entries,
    engine: { ...freshnessOptions, logger, load: loadAlone(loadSecrets), loadMany: loadSecrets },
    holderFor: (existing) => holderHiding(existing, 'all'),
    ...(refreshOn === undefined ? {} : { clearOn: dropsSecrets(refreshOn, logger) }),
  }) as MiddlewareObj<unknown, unknown, Error, Context & { readonly [K in N]: SecretValues<S> }>
}
