import { isMilliseconds } from './duration.js'
import { mustBe, type CacheOptionsError } from './errors.js'
import { isRecord, unknownOptionError } from './options.js'
import type { CacheScope } from './scope.js'

/** The names one call's options object may have, and how its error shows a valid one. */
export interface CallOptionNames {
  /** What the error calls the object: `options`, or `freshness` for a loader's `setFreshness`. */
  readonly option: string
  readonly names: readonly string[]
  readonly example: string
}

const entryFreshnessNames = ['ttl', 'staleWhileRevalidate', 'staleIfError'] as const

/** `get`, `getMany`, `lookup`, `delete`, `clear`, `loadUncached`, `loadManyUncached`. */
const getCall: CallOptionNames = { option: 'options', names: ['scope'], example: '{ scope }' }
export const setCall: CallOptionNames = { option: 'options', names: [...entryFreshnessNames, 'scope'], example: "{ ttl: '1m' }" }
/** A loader's `setFreshness`. */
export const freshnessCall: CallOptionNames = { option: 'freshness', names: entryFreshnessNames, example: "{ ttl: '1m' }" }
export const refreshAheadCall: CallOptionNames = { option: 'options', names: ['scope', 'signal', 'roundMs'], example: '{ scope, signal, roundMs }' }

/**
 * What `createScope()` makes, told apart by what the engine calls on it rather than by class, so
 * that a scope of another copy of this package (bundled twice) still serves.
 */
const isScope = (value: unknown): value is CacheScope =>
  isRecord(value) && typeof value.countHits === 'function' && typeof value.countersFor === 'function' && typeof value.track === 'function'

const isAbortSignal = (value: unknown): value is AbortSignal =>
  isRecord(value) && typeof value.aborted === 'boolean' && typeof value.addEventListener === 'function'

/**
 * Why the options object given to one call cannot serve it (not an object, a name `call` does not
 * know, a `scope`, `signal` or `roundMs` of the wrong kind), as the factories refuse theirs;
 * undefined when it can. The durations are checked where they are read (`policyWith`).
 */
export const callOptionsError = (options: unknown, call: CallOptionNames): CacheOptionsError | undefined => {
  if (!isRecord(options)) return mustBe(call.option, `an object such as ${call.example}`, options)
  const unknownName = unknownOptionError(options, call.names)
  if (unknownName !== undefined) return unknownName
  if (options.scope !== undefined && !isScope(options.scope)) return mustBe('scope', 'a scope made by createScope()', options.scope)
  if (options.signal !== undefined && !isAbortSignal(options.signal)) return mustBe('signal', 'an AbortSignal', options.signal)
  if (options.roundMs !== undefined && !isMilliseconds(options.roundMs)) return mustBe('roundMs', 'a number of milliseconds from 0, such as 10000', options.roundMs)
  return undefined
}

/** Throws what `callOptionsError` finds; for a call that throws (or rejects, from an async function) anyway. */
export const checkCallOptions = (options: unknown, call: CallOptionNames): void => {
  const error = callOptionsError(options, call)
  if (error !== undefined) throw error
}

/**
 * The options a middleware's handle passes to every call of its invocation: made by this package
 * around a scope it made, so known valid, and told by class at the cost of one comparison, as the
 * handle's `get` is a warm path. Not exported from the package: a user's options are always checked.
 */
export class InvocationOptions {
  readonly scope: CacheScope

  constructor(scope: CacheScope) {
    this.scope = scope
  }
}

/** `callOptionsError` for the options of a get-like call; none, or a handle's own, cost no check. */
export const getOptionsError = (options: unknown): CacheOptionsError | undefined =>
  options === undefined || options instanceof InvocationOptions ? undefined : callOptionsError(options, getCall)
