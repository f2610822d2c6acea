import { isMilliseconds, longestWindowMs } from './duration.js'
import { instanceName, whatJsonWouldChange, withArticle } from './faithful-json.js'
import { freezeParsed } from './freeze.js'
import type { Entry } from './freshness.js'
import { isRecord } from './options.js'

/**
 * An entry as JSON carries it, its times on the wall clock, so every process agrees on when it goes stale:
 *   {"c":createdAtMs,"t":ttlMs,"w":staleWhileRevalidateMs,"e":staleIfErrorMs,"v":value}
 * `"b":base64` instead of `"v"` holds bytes (a Uint8Array), `"B":base64` a Buffer's, `"n":1` a remembered "not found". A shared tier's
 * payload (`envelope.ts`) and a cold-start snapshot's record (`src/snapshot/portable-entry.ts`)
 * both carry it. The engine's core (`cache.ts`) never imports it, so only `middy-cache/redis`,
 * `middy-cache/dynamodb` and `middy-cache/snapshot` bundle it.
 */

/** An entry as JSON carries it, its times on the wall clock; what `envelopeText` writes and `entryOfEnvelope` reads. */
export interface Envelope {
  /** Creation time, ms since the epoch. */
  readonly c: number
  /** ttl, staleWhileRevalidate and staleIfError, in ms. */
  readonly t: number
  readonly w: number
  readonly e: number
  readonly v?: unknown
  /** Bytes, base64: a Uint8Array. */
  readonly b?: string
  /** Bytes, base64: a Buffer. */
  readonly B?: string
  /** A remembered "not found". */
  readonly n?: 1
}

/** A value JSON cannot carry faithfully: kept out of the shared tier. Its message says what and where: `value.items[2].price is NaN`. */
export class UnserialisableValue extends Error {
  override name = 'UnserialisableValue'
}

/**
 * Bytes, read back as the type they were written as: a Buffer as a Buffer (its `toString()` decodes
 * text, where a Uint8Array's lists numbers), a Uint8Array as a Uint8Array. Another subclass of
 * Uint8Array would read back as neither.
 */
const bytesOf = (value: Uint8Array): string => {
  const base64 = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  if (Buffer.isBuffer(value)) return `"B":"${base64}"`
  if (Object.getPrototypeOf(value) !== Uint8Array.prototype) throw new UnserialisableValue(`value is ${instanceName(value)}`)
  return `"b":"${base64}"`
}

/**
 * The JSON of `value`, which JSON.parse brings back as it is; or UnserialisableValue, which says what
 * and where. The check is a walk of its own before the one JSON.stringify, not a replacer: a
 * replacer sees a member and its holder, not the path to it that a warning names, and calling one
 * for every member takes JSON.stringify off V8's fast path, which costs about what the walk does.
 */
const jsonOf = (value: unknown): string => {
  try {
    const change = whatJsonWouldChange(value)
    if (change !== undefined) throw new UnserialisableValue(change)
    return JSON.stringify(value)
  } catch (error) {
    if (error instanceof UnserialisableValue) throw error
    throw new UnserialisableValue(failureOf(error), { cause: error })
  }
}

const bodyOf = (value: unknown): string => {
  if (value === undefined) return '"n":1'
  if (value instanceof Uint8Array) return bytesOf(value)
  return `"v":${jsonOf(value)}`
}

/** What the walk or JSON.stringify threw, in the words of a warning: a nesting past the call stack, a length past V8's strings, or what a getter threw. */
const failureOf = (error: unknown): string => {
  if (error instanceof RangeError) return /call stack/i.test(error.message) ? 'value is nested too deep' : "value's JSON is longer than a string can be"
  return `reading value threw ${error instanceof Error ? withArticle(error.name) : 'a non-Error'}`
}

/**
 * The envelope of `entry` (whose times are on the monotonic clock read as `monoNow`) as JSON text.
 * Throws UnserialisableValue for a value JSON cannot carry.
 */
export const envelopeText = (entry: Entry<unknown>, monoNow: number, wallNow: number): string => {
  const createdAt = Math.round(wallNow - (monoNow - entry.createdAt))
  const ttl = Math.round(entry.freshUntil - entry.createdAt)
  const revalidate = Math.round(entry.revalidateUntil - entry.freshUntil)
  const fallback = Math.round(entry.fallbackUntil - entry.freshUntil)
  return `{"c":${createdAt},"t":${ttl},"w":${revalidate},"e":${fallback},${bodyOf(entry.value)}}`
}

/** A window no valid option could have written (`1e300`, say) would keep a forged or corrupt entry fresh for ever. */
const isWindow = (value: unknown): value is number => isMilliseconds(value) && value <= longestWindowMs

/**
 * How far ahead of this process's wall clock another's may be. An entry (or a snapshot) made
 * further in the future is no honest skew: taken as made now, it would come back fresher than it was.
 */
export const maxClockSkewMs = 60_000

/**
 * The entry a parsed envelope describes, its times moved onto the monotonic clock read as `monoNow`;
 * undefined for anything that is not a well-formed envelope (a window past `longestWindowMs` included),
 * never an exception.
 */
export const entryOfEnvelope = <V>(envelope: unknown, monoNow: number, wallNow: number, size: number): Entry<V> | undefined => {
  if (!isRecord(envelope)) return undefined
  const { c: createdAtMs, t: ttl, w: revalidate, e: fallback } = envelope
  if (!isMilliseconds(createdAtMs) || !isWindow(ttl) || ttl === 0 || !isWindow(revalidate) || !isWindow(fallback)) return undefined
  if (createdAtMs > wallNow + maxClockSkewMs) return undefined
  let value: unknown
  if (Object.hasOwn(envelope, 'v')) value = envelope.v
  // A Uint8Array, as written: a Buffer (a subclass) would, for one, show otherwise in JSON.
  else if (typeof envelope.b === 'string') value = new Uint8Array(Buffer.from(envelope.b, 'base64'))
  // A Buffer of its own memory, not a slice of Node's shared pool.
  else if (typeof envelope.B === 'string') value = Buffer.from(new Uint8Array(Buffer.from(envelope.B, 'base64')).buffer)
  else if (envelope.n !== 1 || revalidate !== 0 || fallback !== 0) return undefined
  const createdAt = monoNow - Math.max(0, wallNow - createdAtMs)
  const freshUntil = createdAt + ttl
  return {
    value: freezeParsed(value) as V,
    createdAt,
    freshUntil,
    revalidateUntil: freshUntil + revalidate,
    fallbackUntil: freshUntil + fallback,
    size,
  }
}
