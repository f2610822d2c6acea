/** Every error this library throws is a CacheError, so callers can tell ours from their loader's. */
export class CacheError extends Error {
  override name = 'CacheError'
}

/** Options that cannot work. Thrown at construction, never at the first invocation. */
export class CacheOptionsError extends CacheError {
  override name = 'CacheOptionsError'
  readonly option: string

  constructor(option: string, message: string) {
    super(`middy-cache: option "${option}" ${message}`)
    this.option = option
  }
}

/** What kind of value `value` is, as an error names a value it must not show: 'null', 'an array', 'an object', 'a string'... */
export const kindOf = (value: unknown): string => {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  // An async function where a synchronous one is wanted (a key, an option's value not awaited).
  if (value instanceof Promise) return 'a promise'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** `text` cut to at most `most` characters, its end replaced by '...' when it is cut. */
export const shortened = (text: string, most: number): string => (text.length > most ? `${text.slice(0, most - 3)}...` : text)

/** A value as an error message shows it: short, and never a secret-bearing object's contents (only its kind). */
export const printable = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(shortened(value, 40))
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === undefined) return String(value)
  return kindOf(value)
}

/** A value's type alone, as `typeof` names it ('null' for null): all an error may say of a key that is no string, which may be a caller's identity. */
export const typeName = (value: unknown): string => (value === null ? 'null' : typeof value)

/** The error for an option whose value is not what is allowed: `option "<option>" must be <allowed>; got <value>`. */
export const mustBe = (option: string, allowed: string, value: unknown): CacheOptionsError =>
  new CacheOptionsError(option, `must be ${allowed}; got ${printable(value)}`)

/** A key that is not a string, named by cache. */
export const keyTypeError = (cache: string, key: unknown): CacheError =>
  new CacheError(`middy-cache: cache "${cache}" needs string keys; got ${typeName(key)}`)

/**
 * How the engine's errors name a key unless a cache says otherwise (`describeKey`): the key cut
 * short, as a JSON string. Keys come from events: escaped, a newline or a terminal escape in one
 * cannot forge a line of the log the error lands in, nor a quote blur where the key ends.
 */
export const quotedKey = (key: string): string => JSON.stringify(shortened(key, 80))

/** `String(value)`, or its tag when it has none (a null-prototype object, a toString that throws): never throws. */
export const stringOf = (value: unknown): string => {
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

/** A load failed and no stale value could stand in; the loader's error is the `cause`. */
export class CacheLoadError extends CacheError {
  override name = 'CacheLoadError'
  readonly cache: string
  readonly key: string

  /** `subject` names the key in the message: by default the key itself, quoted. */
  constructor(cache: string, key: string, cause: unknown, subject = quotedKey(key)) {
    super(`middy-cache: loading ${subject} for cache "${cache}" failed: ${cause instanceof Error ? cause.message : stringOf(cause)}`, { cause })
    this.cache = cache
    this.key = key
  }
}

/** A load took longer than `timeout` and no stale value could stand in. */
export class CacheTimeoutError extends CacheError {
  override name = 'CacheTimeoutError'
  readonly cache: string
  readonly key: string
  readonly timeoutMs: number

  /** `subject` names the key in the message: by default the key itself, quoted. */
  constructor(cache: string, key: string, timeoutMs: number, subject = quotedKey(key)) {
    super(`middy-cache: loading ${subject} for cache "${cache}" timed out after ${timeoutMs} ms`)
    this.cache = cache
    this.key = key
    this.timeoutMs = timeoutMs
  }
}
