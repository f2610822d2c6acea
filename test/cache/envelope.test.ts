import { longestWindowMs, parseWindow } from '../../src/cache/duration.js'
import { decodeEntry, encodeEntry } from '../../src/cache/envelope.js'
import { UnserialisableValue } from '../../src/cache/json-envelope.js'
import { createEntry, type Entry } from '../../src/cache/freshness.js'

const policy = { ttlMs: 60_000, staleWhileRevalidateMs: 30_000, staleIfErrorMs: 3_600_000, negativeTtlMs: 10_000, jitter: 0 }
const monoNow = 5_000
const wallNow = 1_800_000_000_000

const roundTrip = <V>(entry: Entry<V>, readerMono: number, readerWall: number, compressAbove = 8_192): Entry<V> | undefined =>
  decodeEntry<V>(encodeEntry(entry, monoNow, wallNow, compressAbove), readerMono, readerWall, 0)

describe('the envelope an entry travels in', () => {
  test('freshness moves onto the reader\'s clock: the same moments, whatever its monotonic origin', () => {
    const written = createEntry({ id: '1' }, monoNow - 10_000, policy, 0)
    const read = roundTrip(written, 900, wallNow + 2_000)
    expect(read?.value).toEqual({ id: '1' })
    expect(read?.createdAt).toBe(900 - 12_000)
    expect(read?.freshUntil).toBe(900 - 12_000 + 60_000)
    expect(read?.revalidateUntil).toBe(900 - 12_000 + 90_000)
    expect(read?.fallbackUntil).toBe(900 - 12_000 + 3_660_000)
  })

  test('a value read back is frozen, as every cached value is: it is shared by whoever reads it next', () => {
    const read = roundTrip(createEntry({ id: '1', tags: ['a'] }, monoNow, policy, 0), monoNow, wallNow)
    const value = read?.value as { tags: string[] }
    expect(Object.isFrozen(value)).toBe(true)
    expect(Object.isFrozen(value.tags)).toBe(true)
  })

  test('a reader whose wall clock lags the writer\'s takes the entry as just made, never as made in the future', () => {
    const read = roundTrip(createEntry('v', monoNow, policy, 0), 100, wallNow - 5_000)
    expect(read?.createdAt).toBe(100)
  })

  test('an entry made further in the future than clocks can drift is unusable, not taken as made now', () => {
    expect(roundTrip(createEntry('v', monoNow, policy, 0), 100, wallNow - 2 * 60_000)).toBeUndefined()
  })

  test.each([
    ['a ttl of 1e300', '"t":1e300,"w":0,"e":0'],
    ['a ttl JSON reads as Infinity (1e999)', '"t":1e999,"w":0,"e":0'],
    ['a ttl of -1', '"t":-1,"w":0,"e":0'],
    ['a NaN ttl, which JSON writes as null', '"t":null,"w":0,"e":0'],
    ['a staleWhileRevalidate one ms past the longest window', `"t":60000,"w":${longestWindowMs + 1},"e":0`],
    ['a staleIfError of 1e300', '"t":60000,"w":0,"e":1e300'],
  ])('%s makes the entry unusable, not fresh for ever', (_, windows) => {
    const payload = Buffer.from(`mc1j{"c":${wallNow},${windows},"v":"forged"}`)
    expect(decodeEntry(payload, monoNow, wallNow, 0)).toBeUndefined()
  })

  test('the longest windows the options accept travel: a valid option never writes an entry its readers refuse', () => {
    const longestMs = parseWindow('ttl', '365d')
    expect(longestMs).toBe(longestWindowMs)
    const longest = { ttlMs: longestMs, staleWhileRevalidateMs: longestMs, staleIfErrorMs: longestMs, negativeTtlMs: longestMs, jitter: 0 }
    // Made at a clock reading with a fraction, as performance.now() gives.
    const createdAt = monoNow - 10_000.123
    expect(roundTrip(createEntry('v', createdAt, longest, 0), monoNow, wallNow)).toMatchObject({
      freshUntil: monoNow - 10_000 + longestMs,
      revalidateUntil: monoNow - 10_000 + 2 * longestMs,
      fallbackUntil: monoNow - 10_000 + 2 * longestMs,
    })
    expect(roundTrip(createEntry(undefined, createdAt, longest, 0), monoNow, wallNow)).toMatchObject({ freshUntil: monoNow - 10_000 + longestMs })
    expect(() => parseWindow('ttl', '366d')).toThrow(/option "ttl" must be a duration of at most one year/)
  })

  test('"not found", bytes, and large values (deflated) come back as written', () => {
    const notFound = roundTrip(createEntry(undefined, monoNow, policy, 0), monoNow, wallNow)
    expect(notFound).toMatchObject({ value: undefined, freshUntil: monoNow + 10_000, fallbackUntil: monoNow + 10_000 })
    const bytes = roundTrip(createEntry(new Uint8Array([1, 2, 3]), monoNow, policy, 0), monoNow, wallNow)
    expect([...(bytes?.value ?? [])]).toEqual([1, 2, 3])
    expect(Object.getPrototypeOf(bytes?.value)).toBe(Uint8Array.prototype)
    const large = { text: 'abc'.repeat(10_000) }
    const payload = encodeEntry(createEntry(large, monoNow, policy, 0), monoNow, wallNow, 1_024)
    expect(payload.subarray(0, 4).toString()).toBe('mc1z')
    expect(payload.length).toBeLessThan(1_024)
    expect(decodeEntry(payload, monoNow, wallNow, 0)?.value).toEqual(large)
  })

  test('sizes are estimated from the text, plus the key', () => {
    const read = decodeEntry(encodeEntry(createEntry('v', monoNow, policy, 0), monoNow, wallNow, 8_192), monoNow, wallNow, 20)
    expect(read?.size).toBeGreaterThan(20)
  })

  const cycle = (() => { const list: unknown[] = []; list.push(list); return list })()
  const symbolKeyed = { id: '1', [Symbol('audit')]: 'kept only in memory' }
  const sparse = [1, , 3] // eslint-disable-line no-sparse-arrays
  class Rows extends Array<number> {}
  const withTotal = Object.assign([{ id: '1' }, { id: '2' }], { total: 2 })
  const hiddenFirst = Object.assign(Object.defineProperty([1, 2], 0, { enumerable: false }), { note: 'x' })
  const pastLongest = Object.assign([1], { 4294967295: 'not an element' })

  test.each([
    ['a BigInt', 1n, 'value is a BigInt'],
    ['a nested function', { run: () => 1 }, 'value.run is a function'],
    ['a symbol', { tag: Symbol('x') }, 'value.tag is a symbol'],
    ['NaN, deep inside', { items: [{}, {}, { price: Number.NaN }] }, 'value.items[2].price is NaN'],
    ['Infinity', [Number.POSITIVE_INFINITY], 'value[0] is Infinity'],
    ['-0, which JSON writes as 0', { balance: -0 }, 'value.balance is -0'],
    ['undefined in an array, which JSON writes as null', [1, undefined], 'value[1] is undefined'],
    ['undefined as a property, which JSON leaves out', { id: '1', note: undefined }, 'value.note is undefined'],
    ['an empty slot of a sparse array', sparse, 'value[1] is an empty slot'],
    ['a symbol key, which JSON leaves out', { product: symbolKeyed }, 'value.product has a symbol key (Symbol(audit))'],
    ['a Date', new Date(0), 'value is a Date'],
    ['a Set', { tags: new Set(['a']) }, 'value.tags is a Set'],
    ['a class instance', new (class Product {
      readonly id = '1'
    })(), 'value is a Product'],
    ['a subclass of Array', { rows: Rows.from([1]) }, 'value.rows is a Rows'],
    ['a cycle', cycle, 'value[0] is a circular reference'],
    ['an object with its own toJSON', { price: { amount: 5, toJSON: () => 'five' } }, 'value.price has a toJSON method'],
    ['a key no identifier spells', { 'unit price': Number.NaN }, 'value["unit price"] is NaN'],
    ['a property set on an array beside its elements, which JSON leaves out', { items: withTotal }, 'value.items.total is a property of an array beside its elements'],
    ['a property set on an empty array', Object.assign([], { total: 0 }), 'value.total is a property of an array beside its elements'],
    ['a RegExp match, whose index, input and groups JSON leaves out', { match: /b/.exec('abc') }, 'value.match.index is a property of an array beside its elements'],
    ['a property beside elements one of which is not enumerable', hiddenFirst, 'value.note is a property of an array beside its elements'],
    ['a property named as no array can index', pastLongest, 'value["4294967295"] is a property of an array beside its elements'],
  ] as [string, unknown, string][])('%s cannot travel as JSON faithfully: the error says where', (_, value, where) => {
    const encode = () => encodeEntry(createEntry(value, monoNow, policy, 0), monoNow, wallNow, 8_192)
    expect(encode).toThrow(UnserialisableValue)
    expect(encode).toThrow(where)
  })

  test('a getter that throws refuses the value, whatever it threw', () => {
    const value = { get broken(): string { throw new Error('no') } }
    expect(() => encodeEntry(createEntry(value, monoNow, policy, 0), monoNow, wallNow, 8_192)).toThrow('reading value threw an Error')
  })

  test('objects without a prototype, a shared part, and what JSON ignores as a spread does (a non-enumerable property, of an array too) are fine', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 })
    const hidden = Object.defineProperty({ id: '1' }, 'internal', { value: 'not data', enumerable: false })
    const hiddenOnArray = Object.defineProperty(Object.defineProperty([1, 2], 1, { enumerable: false }), 'internal', { value: 'not data', enumerable: false })
    const shared = { n: 0 }
    const plain = { nothing: null, no: false, empty: '', zero: 0, lists: [[], [null]] }
    const read = roundTrip(createEntry({ bare, hidden, hiddenOnArray, pair: [shared, shared], plain }, monoNow, policy, 0), monoNow, wallNow)?.value
    expect(read).toEqual({ bare: { a: 1 }, hidden: { id: '1' }, hiddenOnArray: [1, 2], pair: [{ n: 0 }, { n: 0 }], plain })
  })

  test('a value nested deeper than JSON.stringify goes is refused, not a crash', () => {
    let deep: unknown = 1
    for (let level = 0; level < 100_000; level++) deep = { next: deep }
    expect(() => encodeEntry(createEntry(deep, monoNow, policy, 0), monoNow, wallNow, 8_192)).toThrow('value is nested too deep')
  })
})
