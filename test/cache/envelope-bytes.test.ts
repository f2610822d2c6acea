import { decodeEntry, encodeEntry, maxInflatedBytes } from '../../src/cache/envelope.js'
import { createEntry } from '../../src/cache/freshness.js'
import { UnserialisableValue } from '../../src/cache/json-envelope.js'

const policy = { ttlMs: 60_000, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, negativeTtlMs: 10_000, jitter: 0 }
const monoNow = 5_000
const wallNow = 1_800_000_000_000
const roundTrip = (value: unknown, compressAbove = 8_192): unknown =>
  decodeEntry(encodeEntry(createEntry(value, monoNow, policy, 0), monoNow, wallNow, compressAbove), monoNow, wallNow, 0)?.value

describe('bytes in the envelope come back as the type they were written as', () => {
  test('a Buffer comes back a Buffer (its toString decodes text, not a list of numbers), in memory of its own', () => {
    const read = roundTrip(Buffer.from('hello'))
    expect(Buffer.isBuffer(read)).toBe(true)
    expect(String(read)).toBe('hello')
    const bytes = read as Buffer
    // Not a slice of Node's shared pool: its `.buffer` holds nothing but these bytes.
    expect(bytes.byteOffset).toBe(0)
    expect(bytes.buffer.byteLength).toBe(5)
  })

  test('a Uint8Array still comes back a Uint8Array', () => {
    const read = roundTrip(new Uint8Array([104, 105]))
    expect(Object.getPrototypeOf(read)).toBe(Uint8Array.prototype)
    expect(String(read)).toBe('104,105')
  })

  test('another subclass of Uint8Array, which would come back as neither, stays in memory', () => {
    class Bytes extends Uint8Array {}
    expect(() => roundTrip(new Bytes([1, 2]))).toThrow(UnserialisableValue)
    expect(() => roundTrip(new Bytes([1, 2]))).toThrow(/a Bytes/)
  })
})

test('a value whose JSON, compressed, would inflate past what a reader accepts is refused, not written unreadable', () => {
  const big = 'a'.repeat(maxInflatedBytes + 1)
  expect(() => roundTrip(big)).toThrow(UnserialisableValue)
  expect(() => roundTrip(big)).toThrow(/over 64 MiB/)
})
