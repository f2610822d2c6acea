import type { LambdaClient, LambdaClientConfig } from '@aws-sdk/client-lambda'
import type { Context } from 'aws-lambda'
import { boundedDuration, type Duration } from '../cache/duration.js'
import { CacheOptionsError, mustBe, printable } from '../cache/errors.js'
import { checkClientOrConfig, isRecord, isSdkClient, neverThrowing, rejectUnknownOptions, requireRecord, unansweringFunction } from '../cache/options.js'
import { longestInvocationMs } from './budget.js'
import type { Invoke } from './fan-out.js'
import { sdkInvoke } from './lambda-invoke.js'
import { isScheduleRule, type PingRules } from './warmup-detection.js'

/** Where warm-up answers and problems go; Powertools' Logger and `console` fit. */
export interface WarmupLogger {
  info(message: string, details: object): void
  warn(message: string, details: object): void
}

/** What warmup needs of a Powertools Metrics instance (any `new Metrics(...)` is one). */
export interface FlushableMetrics {
  hasStoredMetrics(): boolean
  publishStoredMetrics(): void
}

export interface WarmupOptions {
  /** Time between two pings: entries that would stop being fresh before the next one are refreshed. Default '5m'. */
  readonly interval?: Duration
  /** The `source` serverless-plugin-warmup puts in its payload. Default 'serverless-plugin-warmup'. */
  readonly source?: string
  /** EventBridge rules (ARNs or names) whose scheduled events are pings. Default none. */
  readonly schedules?: readonly string[]
  /** Recognises pings of any other shape; an event it throws on is no ping. */
  readonly isPing?: (event: unknown, context: Context) => boolean
  /** Most environments one ping may warm, the receiving one included. Default 50. */
  readonly maxConcurrency?: number
  /** How long a ping sent among others (a fan-out child, a serverless-plugin-warmup ping) holds its environment, so that they land in separate ones. Default '75ms'. */
  readonly childDelay?: Duration
  /**
   * Longest a ping works before it answers (never past the invocation's end); loads still running
   * are abandoned. With a shared tier, also how long before this ping another ping of its round may
   * have loaded a copy that serves here instead of a reload. Default '10s'.
   */
  readonly maxDuration?: Duration
  /** The Lambda client a fan-out invokes with, used with its own retry settings. */
  readonly awsSdkV3Client?: LambdaClient
  /**
   * Options for the Lambda client a fan-out builds (region defaults to the function's own). That
   * client never retries a throttled invoke (the function's environments are all busy then) unless
   * these give a `retryStrategy`; other failures it retries as the SDK does.
   */
  readonly clientConfig?: LambdaClientConfig
  readonly logger?: WarmupLogger
  /**
   * The Powertools Metrics instance (or instances) your `logMetrics` flushes. On a ping, whatever
   * they still hold is published: that is what a logMetrics placed after warmup (whose `before`
   * never runs on a ping) could not flush. Placed before warmup, logMetrics flushes through
   * Powertools' cleanup and this changes nothing. Default none.
   */
  readonly metrics?: FlushableMetrics | readonly FlushableMetrics[]
}

export interface ResolvedWarmupOptions {
  readonly rules: PingRules<Context>
  readonly intervalMs: number
  readonly childDelayMs: number
  readonly maxConcurrency: number
  readonly maxDurationMs: number
  readonly invoke: Invoke
  readonly logger: WarmupLogger | undefined
  readonly metrics: readonly FlushableMetrics[]
}

const optionNames = [
  'interval', 'source', 'schedules', 'isPing', 'maxConcurrency', 'childDelay', 'maxDuration', 'awsSdkV3Client', 'clientConfig', 'logger', 'metrics',
] as const
/** Lambda's default concurrency quota per Region: more pings than that can only be throttled. */
const mostConcurrency = 1_000
/** A child's hold costs its whole duration; more than this is a mistake such as `childDelay: 75` (seconds). */
const longestChildDelayMs = 5_000

const pluginSourceOf = (value: unknown): string => {
  if (value === undefined) return 'serverless-plugin-warmup'
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw mustBe('source', "the non-empty string serverless-plugin-warmup sends as its payload's source", value)
  }
  return value
}

const schedulesOf = (value: unknown): ReadonlySet<string> => {
  if (value === undefined) return new Set()
  if (!Array.isArray(value)) throw mustBe('schedules', 'an array of EventBridge rule ARNs or names', value)
  value.forEach((rule: unknown, index) => {
    if (typeof rule !== 'string' || !isScheduleRule(rule)) {
      throw mustBe(`schedules[${index}]`, 'an EventBridge rule ARN (arn:aws:events:...:rule/name) or a rule name', rule)
    }
  })
  return new Set(value as string[])
}

const maxConcurrencyOf = (value: unknown): number => {
  if (value === undefined) return 50
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > mostConcurrency) {
    throw mustBe('maxConcurrency', `a whole number from 1 to ${mostConcurrency}`, value)
  }
  return value
}

const isPingOf = (value: unknown): ((event: unknown, context: Context) => unknown) | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw mustBe('isPing', 'a function (event, context) => boolean', value)
  // `async (event) => ...` (or a generator) would answer every event with a promise (an iterator), never with true.
  const unanswering = unansweringFunction(value)
  if (unanswering !== undefined) throw new CacheOptionsError('isPing', `must answer at once, (event, context) => boolean; got ${unanswering}`)
  return value as (event: unknown, context: Context) => unknown
}

const loggerOf = (value: unknown): WarmupLogger | undefined => {
  if (value === undefined) return undefined
  if (!isRecord(value) || typeof value.info !== 'function' || typeof value.warn !== 'function') {
    throw new CacheOptionsError('logger', `must have info and warn methods (Powertools' Logger or console); got ${printable(value)}`)
  }
  // Typed by what it may answer, which neverThrowing handles: an async logger answers with a promise.
  const logger = value as Record<keyof WarmupLogger, (message: string, details: object) => unknown>
  return {
    info: neverThrowing((message: string, details: object) => logger.info(message, details)),
    warn: neverThrowing((message: string, details: object) => logger.warn(message, details)),
  }
}

const isMetricsInstance = (value: unknown): value is FlushableMetrics =>
  isRecord(value) && typeof value.hasStoredMetrics === 'function' && typeof value.publishStoredMetrics === 'function'

const metricsOf = (value: unknown): readonly FlushableMetrics[] => {
  if (value === undefined) return []
  const instances: unknown[] = Array.isArray(value) ? value : [value]
  if (!instances.every(isMetricsInstance)) {
    throw mustBe('metrics', 'a Powertools Metrics instance, or an array of them, as given to logMetrics', value)
  }
  return [...new Set(instances)]
}

const invokeOf = (options: Record<string, unknown>): Invoke => {
  checkClientOrConfig(options, { isClient: (client) => isSdkClient(client, 'Lambda'), client: 'a LambdaClient from @aws-sdk/client-lambda', config: 'an object of LambdaClient options', maker: 'warmup', option: 'awsSdkV3Client' })
  const { awsSdkV3Client, clientConfig } = options
  return sdkInvoke({
    ...(awsSdkV3Client === undefined ? {} : { awsSdkV3Client: awsSdkV3Client as unknown as LambdaClient }),
    ...(clientConfig === undefined ? {} : { clientConfig: clientConfig as LambdaClientConfig }),
  })
}

/** Validates every option once, at construction: a bad one throws a CacheOptionsError naming it. */
export const resolveWarmupOptions = (options: unknown): ResolvedWarmupOptions => {
  const raw = options === undefined ? {} : requireRecord('options', options, "{ interval: '5m' }")
  rejectUnknownOptions(raw, optionNames)
  const logger = loggerOf(raw.logger)
  return {
    rules: {
      pluginSource: pluginSourceOf(raw.source),
      schedules: schedulesOf(raw.schedules),
      isPing: isPingOf(raw.isPing),
      onPredicateError: (error) => {
        logger?.warn('middy-cache: warmup isPing failed; the event is taken for no ping', { error })
      },
    },
    intervalMs: boundedDuration('interval', raw.interval, 300_000, 1, Number.MAX_SAFE_INTEGER),
    childDelayMs: boundedDuration('childDelay', raw.childDelay, 75, 0, longestChildDelayMs),
    maxConcurrency: maxConcurrencyOf(raw.maxConcurrency),
    maxDurationMs: boundedDuration('maxDuration', raw.maxDuration, 10_000, 1, longestInvocationMs),
    invoke: invokeOf(raw),
    logger,
    metrics: metricsOf(raw.metrics),
  }
}
