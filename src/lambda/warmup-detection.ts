import { CacheError, printable } from '../cache/errors.js'
import { dropRejection, isRecord, isThenable } from '../cache/options.js'

/** How a warm-up ping was recognised. */
export const PingSource = {
  /** serverless-plugin-warmup: `{ source: 'serverless-plugin-warmup' }` (the source is configurable). */
  ServerlessPluginWarmup: 'serverless-plugin-warmup',
  /** lambda-warmer's convention: `{ warmer: true, concurrency: N }`, and the pings its fan-out sends. */
  Warmer: 'warmer',
  /** An EventBridge scheduled event from one of the listed rules. */
  Schedule: 'schedule',
  /** The `isPing` predicate of the options. */
  Custom: 'custom',
} as const
export type PingSource = (typeof PingSource)[keyof typeof PingSource]

/** Where a fan-out child ping stands among the pings of its fan-out. */
export interface ChildMarker {
  /** 2 to `of`: the originating ping is number 1. */
  readonly invocation?: number
  /** Environments the fan-out aims at, the originating one included. */
  readonly of?: number
  /** The request id of the originating ping, to find the whole fan-out in the logs. */
  readonly correlationId?: string
}

export interface Ping {
  readonly source: PingSource
  /** Environments this ping asks to keep warm, this one included: 1 unless a warmer ping asks for more. */
  readonly concurrency: number
  /** Why a `concurrency` the ping carried was ignored. */
  readonly concurrencyProblem?: string
  /** Set on a ping sent by another environment's fan-out; such a ping never fans out again. */
  readonly child?: ChildMarker
}

export interface PingRules<C> {
  /** The `source` serverless-plugin-warmup puts in its payload. */
  readonly pluginSource: string
  /** EventBridge rule ARNs and rule names whose scheduled events are pings. */
  readonly schedules: ReadonlySet<string>
  /** A ping only when it returns `true` itself, not merely a truthy value (nor a promise of one). */
  readonly isPing: ((event: unknown, context: C) => unknown) | undefined
  /** Told when `isPing` throws or answers with a promise; the event then counts as no ping. */
  readonly onPredicateError: (error: unknown) => void
}

/** The marker keys lambda-warmer puts on the pings of its fan-out; kept so both understand each other. */
const childMarkerKeys = {
  invocation: '__WARMER_INVOCATION__',
  of: '__WARMER_CONCURRENCY__',
  correlationId: '__WARMER_CORRELATIONID__',
} as const

const scheduleRuleArn = /^arn:[a-z-]+:events:[a-z0-9-]*:\d*:rule\/(?:[^/]+\/)?([^/]+)$/

const wholeNumberFrom = (value: unknown, least: number): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= least ? value : undefined

/** The payload of a ping sent by a fan-out; `detectPing` reads it back as a child that never fans out. */
export const childPing = (invocation: number, of: number, correlationId: string): Readonly<Record<string, unknown>> => ({
  warmer: true,
  [childMarkerKeys.invocation]: invocation,
  [childMarkerKeys.of]: of,
  [childMarkerKeys.correlationId]: correlationId,
})

const childMarkerOf = (event: Readonly<Record<string, unknown>>): ChildMarker => {
  const invocation = wholeNumberFrom(event[childMarkerKeys.invocation], 2)
  const of = wholeNumberFrom(event[childMarkerKeys.of], 2)
  const correlationId = event[childMarkerKeys.correlationId]
  return {
    ...(invocation === undefined ? {} : { invocation }),
    ...(of === undefined ? {} : { of }),
    ...(typeof correlationId === 'string' ? { correlationId: correlationId.slice(0, 128) } : {}),
  }
}

/** A `{ warmer: true, concurrency: N }` ping; any marker key makes it a child, whatever else it carries. */
const warmerPing = (event: Readonly<Record<string, unknown>>): Ping => {
  if (Object.hasOwn(event, childMarkerKeys.invocation)) {
    return { source: PingSource.Warmer, concurrency: 1, child: childMarkerOf(event) }
  }
  const requested = event.concurrency
  if (requested === undefined) return { source: PingSource.Warmer, concurrency: 1 }
  const concurrency = wholeNumberFrom(requested, 1)
  if (concurrency !== undefined) return { source: PingSource.Warmer, concurrency }
  return {
    source: PingSource.Warmer,
    concurrency: 1,
    concurrencyProblem: `concurrency must be a whole number of 1 or more; got ${printable(requested)}`,
  }
}

const isListedSchedule = (event: Readonly<Record<string, unknown>>, schedules: ReadonlySet<string>): boolean => {
  if (schedules.size === 0 || event.source !== 'aws.events' || event['detail-type'] !== 'Scheduled Event') return false
  const resources = event.resources
  if (!Array.isArray(resources)) return false
  return resources.some((resource: unknown) => {
    if (typeof resource !== 'string') return false
    const ruleName = scheduleRuleArn.exec(resource)?.[1]
    return schedules.has(resource) || (ruleName !== undefined && schedules.has(ruleName))
  })
}

/**
 * Detection runs before every invocation and answers at once, so the ordinary invocation pays no
 * promise: an `isPing` that answers with one (a function that is async without saying so) cannot
 * be waited for. Its rejection is handled, so that it does not end the invocation with an error.
 */
const promisedAnswer = (answer: PromiseLike<unknown>): CacheError => {
  dropRejection(answer)
  return new CacheError('middy-cache: warmup isPing answered with a promise; it must answer at once, true for a ping')
}

const customPing = <C>(event: unknown, context: C, rules: PingRules<C>): boolean => {
  if (rules.isPing === undefined) return false
  try {
    const answer = rules.isPing(event, context)
    if (answer === true) return true
    if (isThenable(answer)) rules.onPredicateError(promisedAnswer(answer))
    return false
  } catch (error) {
    rules.onPredicateError(error)
    return false
  }
}

/**
 * The warm-up ping `event` is, or undefined for any other event. Never throws, nor leaves a promise
 * rejected: an event of any shape (null, an array, a string, fields of the wrong type) is simply no
 * ping, unless the `isPing` predicate says it is.
 */
export const detectPing = <C>(event: unknown, context: C, rules: PingRules<C>): Ping | undefined => {
  if (isRecord(event)) {
    if (event.warmer === true) return warmerPing(event)
    if (event.source === rules.pluginSource) return { source: PingSource.ServerlessPluginWarmup, concurrency: 1 }
    if (isListedSchedule(event, rules.schedules)) return { source: PingSource.Schedule, concurrency: 1 }
  }
  return customPing(event, context, rules) ? { source: PingSource.Custom, concurrency: 1 } : undefined
}

/** Whether `value` names an EventBridge rule: a rule ARN, or a rule name. */
export const isScheduleRule = (value: string): boolean => scheduleRuleArn.test(value) || /^[.\-_A-Za-z0-9]{1,64}$/.test(value)
