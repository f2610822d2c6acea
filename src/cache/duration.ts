import { CacheOptionsError, mustBe, printable } from './errors.js'

/** A duration as users write it: a number of seconds, or a string such as '500ms', '30s', '5m', '1h', '1d'. */
export type Duration = number | `${number}${DurationUnit}`
type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd'

const millisecondsPerUnit: Record<DurationUnit, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/
const allowed = "a number of seconds or a string such as '500ms', '30s', '5m', '1h', '1d'"

/** A number of milliseconds as written by code, not users: finite, zero or more (a time since the epoch, a window, a spread). */
export const isMilliseconds = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0

/** Parses a duration option into milliseconds, or throws an error naming the option. */
export const parseDuration = (option: string, value: unknown): number => {
  let milliseconds: number
  if (typeof value === 'number') {
    milliseconds = value * 1_000
  } else if (typeof value === 'string') {
    const match = durationPattern.exec(value.trim())
    if (match === null) throw mustBe(option, allowed, value)
    milliseconds = Number(match[1]) * millisecondsPerUnit[match[2] as DurationUnit]
  } else {
    throw mustBe(option, allowed, value)
  }
  if (!Number.isFinite(milliseconds) || milliseconds < 0) {
    throw mustBe(option, 'a finite duration of zero or more', value)
  }
  return Math.round(milliseconds)
}

/** A duration option that may be left out, in milliseconds: `fallbackMs` when it is. */
export const optionalDurationMs = (option: string, value: unknown, fallbackMs: number): number =>
  value === undefined ? fallbackMs : parseDuration(option, value)

/** A duration option that may be left out (`fallbackMs`), from `minMs` to `maxMs`, or an error naming the option. */
export const boundedDuration = (option: string, value: unknown, fallbackMs: number, minMs: number, maxMs: number): number => {
  if (value === undefined) return fallbackMs
  const ms = parseDuration(option, value)
  if (ms < minMs || ms > maxMs) throw new CacheOptionsError(option, `must be from ${minMs} ms to ${maxMs} ms; got ${printable(value)} (a number is seconds)`)
  return ms
}

/**
 * The longest freshness window (`ttl`, `staleWhileRevalidate`, `staleIfError`, `negativeTtl`) an
 * option may give: one year. An entry read back from a shared tier or a snapshot with a longer one
 * was written by no valid option (it is corrupt or forged) and is never used, so this bound is the
 * one both checks share: a valid option can never write an entry its readers refuse.
 */
export const longestWindowMs = 365 * millisecondsPerUnit.d

/** Parses a freshness window into milliseconds, up to `longestWindowMs`, or throws an error naming the option. */
export const parseWindow = (option: string, value: unknown): number => {
  const milliseconds = parseDuration(option, value)
  if (milliseconds > longestWindowMs) throw mustBe(option, "a duration of at most one year ('365d')", value)
  return milliseconds
}

/** A freshness window that may be left out, in milliseconds: `fallbackMs` when it is. */
export const optionalWindowMs = (option: string, value: unknown, fallbackMs: number): number =>
  value === undefined ? fallbackMs : parseWindow(option, value)
