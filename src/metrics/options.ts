import type { Metrics } from '@aws-lambda-powertools/metrics'
import { CacheOptionsError, mustBe, printable } from '../cache/errors.js'
import { isRecord, optionalBoolean, rejectUnknownOptions, requireRecord } from '../cache/options.js'
import { cacheDimension, MetricGroup, metricGroups, metricNames, serviceDimension } from './catalog.js'
import { describeMetrics } from './shared-instance.js'

export interface CacheMetricsWriterOptions {
  /**
   * The CloudWatch namespace. Default: POWERTOOLS_METRICS_NAMESPACE, as Powertools resolves it; one
   * of the two (or `metrics` with one) is required.
   */
  readonly namespace?: string
  /** The `service` dimension. Default: POWERTOOLS_SERVICE_NAME, as Powertools resolves it. */
  readonly service?: string
  /**
   * Your Powertools Metrics instance: the cache metrics take its namespace, service and default
   * dimensions (as they stand now). They are written in blobs of their own; your instance's buffer
   * is never touched, so it is flushed once, by whoever flushes it (logMetrics, say).
   */
  readonly metrics?: Metrics
  /** Dimensions added to every blob, besides `service` (and `cache` on per-cache blobs). */
  readonly defaultDimensions?: Readonly<Record<string, string>>
  /** One-second storage resolution. Default false (one minute). */
  readonly highResolution?: boolean
  /** The groups of metrics to write. Default: all of them. */
  readonly groups?: readonly MetricGroup[]
}

export const cacheMetricsWriterOptionNames = ['namespace', 'service', 'metrics', 'defaultDimensions', 'highResolution', 'groups'] as const

export interface ResolvedMetricsOptions {
  /** From the option, the shared instance or POWERTOOLS_METRICS_NAMESPACE, read at construction. */
  readonly namespace: string
  /** Undefined: Powertools falls back to POWERTOOLS_SERVICE_NAME. */
  readonly service: string | undefined
  /** Default dimensions other than `service`. */
  readonly dimensions: Readonly<Record<string, string>>
  readonly highResolution: boolean
  readonly groups: ReadonlySet<MetricGroup>
}

/** Powertools Metrics' limit per blob (EMF allows 30, Powertools throws past 29), of which `service` and `cache` take two. */
const maxDimensions = 29
const maxOwnDimensions = maxDimensions - 2
const namespacePattern = /^[0-9A-Za-z.\-_/#: ]{1,255}$/
/** CloudWatch dimension names and values: printable ASCII with something besides spaces. */
const dimensionTextPattern = /^[\x20-\x7E]*[\x21-\x7E][\x20-\x7E]*$/

/** CloudWatch wants a namespace to hold something besides whitespace. */
const blankPattern = /^ *$/
const namespaceVariable = 'POWERTOOLS_METRICS_NAMESPACE'
/** Where Powertools writes when it has no namespace, with a warning at every flush. */
const powertoolsFallbackNamespace = 'default_namespace'

const namespaceRule = '1 to 255 letters, digits or . - _ / # : and spaces (not spaces alone), not starting with "AWS/"'
const isNamespace = (value: unknown): value is string =>
  typeof value === 'string' && namespacePattern.test(value) && !blankPattern.test(value) && !value.startsWith('AWS/')

/** An environment variable as Powertools reads it: trimmed, and unset when empty. */
export const powertoolsVariable = (variable: string): string | undefined => process.env[variable]?.trim() || undefined

/**
 * The option, else the variable, read now, as Powertools reads it when an instance is made. Without
 * either, construction fails: Powertools would write every blob to its "default_namespace" and warn
 * at every flush.
 */
const resolveNamespace = (value: unknown): string => {
  if (value !== undefined) {
    if (!isNamespace(value)) throw mustBe('namespace', namespaceRule, value)
    return value
  }
  const fromEnvironment = powertoolsVariable(namespaceVariable)
  if (fromEnvironment === undefined) {
    throw new CacheOptionsError('namespace', `is required: pass cacheMetrics({ namespace: 'Shop' }), set ${namespaceVariable}, or pass metrics, a Powertools Metrics instance with a namespace`)
  }
  if (!isNamespace(fromEnvironment)) {
    throw new CacheOptionsError('namespace', `is taken from ${namespaceVariable}, which holds ${printable(fromEnvironment)}: it must be ${namespaceRule}`)
  }
  return fromEnvironment
}

const dimensionValueRule = '1 to 1024 printable ASCII characters'
const isDimensionValue = (value: unknown): value is string => typeof value === 'string' && value.length <= 1024 && dimensionTextPattern.test(value)

const resolveService = (value: unknown): string | undefined => {
  if (value === undefined) return undefined
  if (!isDimensionValue(value)) throw mustBe('service', dimensionValueRule, value)
  return value
}

const checkDimensionName = (option: string, name: string): void => {
  if (name.length > 255 || !dimensionTextPattern.test(name) || name.startsWith(':')) {
    throw new CacheOptionsError(option, `has a dimension name that is not 1 to 255 printable ASCII characters (nor may it start with ":"): ${printable(name)}`)
  }
  if (name === serviceDimension || name === cacheDimension) {
    throw new CacheOptionsError(option, `may not set the "${name}" dimension: ${name === serviceDimension ? 'use the service option' : 'cacheMetrics sets it on every per-cache blob'}`)
  }
  // EMF's own root key: a dimension of that name would overwrite the directive, and CloudWatch would drop every blob.
  if (name === '_aws') throw new CacheOptionsError(option, 'may not name a dimension "_aws", the key of the EMF directive')
  if (metricNames.has(name)) throw new CacheOptionsError(option, `may not name a dimension "${name}", the name of a metric written beside it`)
}

const resolveDimensions = (value: unknown): Record<string, string> => {
  if (value === undefined) return {}
  if (!isRecord(value)) throw mustBe('defaultDimensions', "an object of names to values such as { stage: 'prod' }", value)
  const dimensions: Record<string, string> = {}
  for (const [name, dimension] of Object.entries(value)) {
    checkDimensionName('defaultDimensions', name)
    if (!isDimensionValue(dimension)) {
      throw new CacheOptionsError('defaultDimensions', `value of "${name}" must be ${dimensionValueRule}; got ${printable(dimension)}`)
    }
    dimensions[name] = dimension
  }
  return dimensions
}

const resolveGroups = (value: unknown): ReadonlySet<MetricGroup> => {
  if (value === undefined) return new Set(metricGroups)
  const known: readonly unknown[] = metricGroups
  const allowed = metricGroups.map((group) => `'${group}'`).join(', ')
  if (!Array.isArray(value) || value.length === 0) throw mustBe('groups', `a non-empty array of ${allowed}`, value)
  value.forEach((group: unknown, index) => {
    if (!known.includes(group)) throw mustBe(`groups[${index}]`, `one of ${allowed}`, group)
  })
  return new Set(value as MetricGroup[])
}

const isMetricsInstance = (value: unknown): value is Metrics =>
  isRecord(value) && typeof value.singleMetric === 'function' && typeof value.serializeMetrics === 'function' && typeof value.addMetric === 'function'

/** Namespace, service and dimensions taken from a shared instance, with the user's own dimensions added. */
const resolveShared = (raw: Record<string, unknown>, own: Record<string, string>): Pick<ResolvedMetricsOptions, 'namespace' | 'service' | 'dimensions'> => {
  if (!isMetricsInstance(raw.metrics)) {
    throw mustBe('metrics', 'a Powertools Metrics instance (new Metrics({ namespace, serviceName }))', raw.metrics)
  }
  for (const option of ['namespace', 'service'] as const) {
    if (raw[option] !== undefined) throw new CacheOptionsError(option, 'comes from the shared metrics instance: pass one or the other')
  }
  const target = describeMetrics(raw.metrics)
  // What an instance without a namespace shows; one named so on purpose cannot be told apart, and nobody would choose it.
  if (target.namespace === powertoolsFallbackNamespace) {
    throw new CacheOptionsError('metrics', `has no namespace: make it with new Metrics({ namespace: 'Shop' }), or with ${namespaceVariable} set`)
  }
  // Powertools takes any namespace and dimension text; CloudWatch drops the blobs of one it refuses.
  if (!isNamespace(target.namespace)) throw new CacheOptionsError('metrics', `has the namespace ${printable(target.namespace)}: it must be ${namespaceRule}`)
  const checkValue = (name: string, value: string): void => {
    if (!isDimensionValue(value)) throw new CacheOptionsError('metrics', `has a "${name}" dimension whose value is not ${dimensionValueRule}: ${printable(value)}`)
  }
  if (target.service !== undefined) checkValue(serviceDimension, target.service)
  for (const [name, value] of Object.entries(target.dimensions)) {
    checkDimensionName('metrics', name)
    checkValue(name, value)
  }
  return { namespace: target.namespace, service: target.service, dimensions: { ...target.dimensions, ...own } }
}

/** Validates everything once, at construction; a shared instance is read now. */
export const resolveMetricsOptions = (options: CacheMetricsWriterOptions, known: readonly string[] = cacheMetricsWriterOptionNames): ResolvedMetricsOptions => {
  const raw = requireRecord('options', options, "{ namespace: 'Shop' }")
  rejectUnknownOptions(raw, known)
  const own = resolveDimensions(raw.defaultDimensions)
  const target =
    raw.metrics === undefined
      ? { namespace: resolveNamespace(raw.namespace), service: resolveService(raw.service), dimensions: own }
      : resolveShared(raw, own)
  if (Object.keys(target.dimensions).length > maxOwnDimensions) {
    throw new CacheOptionsError(raw.metrics === undefined ? 'defaultDimensions' : 'metrics', `gives more than ${maxOwnDimensions} dimensions: Powertools Metrics allows ${maxDimensions} per blob, service and cache included`)
  }
  return { ...target, highResolution: optionalBoolean('highResolution', raw.highResolution, false), groups: resolveGroups(raw.groups) }
}
