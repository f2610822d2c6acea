import { deflateRawSync, inflateRawSync } from 'node:zlib'
import type { Entry } from './freshness.js'
import { entryOfEnvelope, envelopeText, UnserialisableValue } from './json-envelope.js'
import { parseJsonSafely } from './safe-json.js'

/**
 * The shared tier stores an entry as `mc1` + a format byte + an envelope (`json-envelope.ts`): the
 * value with its wall-clock creation time and freshness windows, so every environment agrees on
 * when it goes stale.
 */
const magic = Buffer.from('mc1')
const Format = { Json: 0x6a, Deflated: 0x7a } as const
/** A compressed payload may not inflate past this: a hostile writer cannot make a reader allocate without bound. */
export const maxInflatedBytes = 64 * 1024 * 1024

/**
 * The payload for `entry` (whose times are on the monotonic clock read as `monoNow`), compressed
 * above `compressAboveBytes`. Throws UnserialisableValue for a value JSON cannot carry, and for one
 * whose JSON, compressed, would inflate past what a reader accepts (`maxInflatedBytes`): written, it
 * would read as a miss in every environment.
 */
export const encodeEntry = (entry: Entry<unknown>, monoNow: number, wallNow: number, compressAboveBytes: number): Buffer => {
  const json = Buffer.from(envelopeText(entry, monoNow, wallNow))
  if (json.length > compressAboveBytes && json.length > maxInflatedBytes) {
    throw new UnserialisableValue(`value's JSON is over ${maxInflatedBytes / 1024 / 1024} MiB, more than a reader inflates`)
  }
  return json.length > compressAboveBytes
    ? Buffer.concat([magic, Buffer.of(Format.Deflated), deflateRawSync(json)])
    : Buffer.concat([magic, Buffer.of(Format.Json), json])
}

const textOf = (payload: Uint8Array): string | undefined => {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  if (bytes.length <= magic.length || !bytes.subarray(0, magic.length).equals(magic)) return undefined
  const body = bytes.subarray(magic.length + 1)
  switch (bytes[magic.length]) {
    case Format.Json:
      return body.toString('utf8')
    case Format.Deflated:
      try {
        return inflateRawSync(body, { maxOutputLength: maxInflatedBytes }).toString('utf8')
      } catch {
        return undefined
      }
    default:
      return undefined
  }
}

/**
 * The entry a payload holds, its times moved onto the monotonic clock read as `monoNow` and its size
 * approximated from the text (plus `keySize`) rather than walked; undefined
 * for anything that is not a well-formed envelope (garbage, truncated, foreign, poisoned), never an exception.
 */
export const decodeEntry = <V>(payload: Uint8Array, monoNow: number, wallNow: number, keySize: number): Entry<V> | undefined => {
  const text = textOf(payload)
  if (text === undefined) return undefined
  return entryOfEnvelope<V>(parseJsonSafely(text), monoNow, wallNow, text.length * 2 + keySize)
}
