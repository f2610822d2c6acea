import { boundedDuration, type Duration } from '../cache/duration.js'
import { mustBe } from '../cache/errors.js'
import { positiveInteger, rejectUnknownOptions, requireRecord } from '../cache/options.js'
import type { L2Settings } from './l2-store.js'

/** Options every shared-tier store accepts, besides its connection. */
export interface L2Options {
  /** How long one operation may take before it is skipped and counted. Redis default '50ms', DynamoDB '150ms'. */
  readonly timeout?: Duration
  /** Consecutive failures that open the circuit (default 3) and how long it stays open before one probe (default '5s'). */
  readonly breaker?: { readonly failures?: number; readonly coolDown?: Duration }
  /**
   * The lease that keeps a miss in many environments to one load: held at most `ttl` (default '5s');
   * the others wait at most `wait` (default '2s', never longer than the cache's `timeout`) for the value. `false` turns it off.
   */
  readonly lease?: false | { readonly ttl?: Duration; readonly wait?: Duration }
  /** Least time between two checks of a cache's namespace version, which `clear()` moves on. Default '5s'. */
  readonly versionCheck?: Duration
  /** Payloads above this many bytes are compressed. Default 8192. */
  readonly compressAbove?: number
}

export const l2OptionNames = ['timeout', 'breaker', 'lease', 'versionCheck', 'compressAbove'] as const
const breakerOptionNames = ['failures', 'coolDown'] as const
const leaseOptionNames = ['ttl', 'wait'] as const

/** What a store's factory knows about itself. */
export interface L2Defaults {
  readonly timeoutMs: number
  readonly maxPayloadBytes: number
}

/** An operation's timeout has to be a timer's: 1 ms up to a minute. */
const maxTimeoutMs = 60_000

const section = (option: string, value: unknown, known: readonly string[], example: string): Record<string, unknown> => {
  if (value === undefined) return {}
  const options = requireRecord(option, value, example)
  rejectUnknownOptions(options, known, `${option}.`)
  return options
}

const resolveLease = (value: unknown): L2Settings['lease'] => {
  if (value === false) return undefined
  const lease = section('lease', value, leaseOptionNames, "{ ttl: '5s', wait: '2s' } or false")
  return {
    ttlMs: boundedDuration('lease.ttl', lease.ttl, 5_000, 1, 3_600_000),
    waitMs: boundedDuration('lease.wait', lease.wait, 2_000, 0, 3_600_000),
  }
}

/** Validates the shared-tier options of a store's factory; a bad one throws at construction, naming it. */
export const resolveL2Settings = (options: Record<string, unknown>, defaults: L2Defaults): L2Settings => {
  const breaker = section('breaker', options.breaker, breakerOptionNames, "{ failures: 3, coolDown: '5s' }")
  const compressAbove = options.compressAbove
  if (compressAbove !== undefined && (typeof compressAbove !== 'number' || !Number.isSafeInteger(compressAbove) || compressAbove < 0)) {
    throw mustBe('compressAbove', 'a whole number of bytes, 0 or more', compressAbove)
  }
  return {
    timeoutMs: boundedDuration('timeout', options.timeout, defaults.timeoutMs, 1, maxTimeoutMs),
    breaker: {
      failures: positiveInteger('breaker.failures', breaker.failures, 3),
      coolDownMs: boundedDuration('breaker.coolDown', breaker.coolDown, 5_000, 1, 3_600_000),
    },
    lease: resolveLease(options.lease),
    versionCheckMs: boundedDuration('versionCheck', options.versionCheck, 5_000, 0, 86_400_000),
    compressAboveBytes: compressAbove ?? 8_192,
    maxPayloadBytes: defaults.maxPayloadBytes,
  }
}

const longestPrefix = 64

/**
 * A store's `prefix` (default 'middy-cache:'): up to 64 characters, none a lone surrogate, which has
 * no UTF-8 form: every key made with it would be refused, or written with U+FFFD in its place and
 * meet the keys of every other such prefix. `forbidden` names the characters the store itself
 * cannot take, and `rule` says so.
 */
export const resolvePrefix = (value: unknown, forbidden?: { readonly characters: RegExp; readonly rule: string }): string => {
  const prefix = value === undefined ? 'middy-cache:' : value
  if (typeof prefix !== 'string' || prefix.length > longestPrefix || !prefix.isWellFormed() || (forbidden !== undefined && forbidden.characters.test(prefix))) {
    throw mustBe('prefix', `a string of up to ${longestPrefix} characters, without lone surrogates${forbidden === undefined ? '' : ` or ${forbidden.rule}`}`, prefix)
  }
  return prefix
}
