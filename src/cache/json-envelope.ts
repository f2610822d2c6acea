import { isMilliseconds, longestWindowMs } from './duration.js'
import { freezeParsed } from './freeze.js'
import type { Entry } from './freshness.js'
import { isRecord } from './options.js'
import { isPrototypeKey } from './safe-json.js'

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

/** A value JSON cannot carry faithfully: kept out of the shared tier. */
export class UnserialisableValue extends Error {
  override name = 'UnserialisableValue'
}

const describe = (value: object): string => {
  const prototype: unknown = Object.getPrototypeOf(value)
  const constructorName = isRecord(prototype) && typeof prototype.constructor === 'function' ? prototype.constructor.name : ''
  return constructorName === '' ? 'an object with a custom prototype' : `a ${constructorName}`
}

/**
 * Refuses what would not read back as written: class instances (Date, Map...), objects with their
 * own toJSON (JSON would carry what it returns), BigInt, functions, non-finite numbers, and keys
 * (`__proto__`, say, an own key of parsed data) that make every reader refuse the text as poisoned.
 */
function faithfulJson(this: unknown, key: string, value: unknown): unknown {
  const holder = this as Record<string, unknown>
  const original = holder[key]
  if (isPrototypeKey(key, original)) throw new UnserialisableValue(`an object with a ${JSON.stringify(key)} key`)
  switch (typeof original) {
    case 'bigint':
      throw new UnserialisableValue('a BigInt')
    case 'function':
    case 'symbol':
      throw new UnserialisableValue(`a ${typeof original}`)
    case 'number':
      if (!Number.isFinite(original)) throw new UnserialisableValue(`the number ${original}`)
      break
    case 'undefined':
      if (Array.isArray(holder)) throw new UnserialisableValue('undefined in an array')
      break
    case 'object':
      if (original !== null && !Array.isArray(original)) {
        const prototype: unknown = Object.getPrototypeOf(original)
        if (prototype !== Object.prototype && prototype !== null) throw new UnserialisableValue(describe(original))
        if (typeof (original as { toJSON?: unknown }).toJSON === 'function') throw new UnserialisableValue('an object with its own toJSON')
      }
      break
  }
  return value
}

/**
 * Bytes, read back as the type they were written as: a Buffer as a Buffer (its `toString()` decodes
 * text, where a Uint8Array's lists numbers), a Uint8Array as a Uint8Array. Another subclass of
 * Uint8Array would read back as neither.
 */
const bytesOf = (value: Uint8Array): string => {
  const base64 = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  if (Buffer.isBuffer(value)) return `"B":"${base64}"`
  if (Object.getPrototypeOf(value) !== Uint8Array.prototype) throw new UnserialisableValue(describe(value))
  return `"b":"${base64}"`
}

const bodyOf = (value: unknown): string => {
  if (value === undefined) return '"n":1'
  if (value instanceof Uint8Array) return bytesOf(value)
  try {
    return `"v":${JSON.stringify(value, faithfulJson)}`
  } catch (error) {
    if (error instanceof UnserialisableValue) throw error
    throw new UnserialisableValue(failureOf(error), { cause: error })
  }
}

/** What JSON.stringify's own error says, in the words of a warning: a cycle, a length past V8's strings, or what a getter threw. */
const failureOf = (error: unknown): string => {
  if (error instanceof TypeError && /circular/i.test(error.message)) return 'a circular reference'
  if (error instanceof RangeError) return 'a value whose JSON is longer than a string can be'
  return `a value whose serialisation threw ${error instanceof Error ? `a ${error.name}` : 'a non-Error'}`
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
