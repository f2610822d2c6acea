import { estimateSize, MemoryStore } from '../../src/stores/memory/index.js'
import { createCache } from '../../src/index.js'

const sized = (size: number) => ({ size })

describe('MemoryStore', () => {
  test('evicts the least recently used entry first when over maxEntries', () => {
    const store = new MemoryStore<{ size: number }>({ maxEntries: 3, maxBytes: 1_000 })
    store.set('a', sized(1))
    store.set('b', sized(1))
    store.set('c', sized(1))
    store.get('a')
    store.set('d', sized(1))
    expect(store.get('b')).toBeUndefined()
    expect(['a', 'c', 'd'].every((key) => store.get(key) !== undefined)).toBe(true)
    expect(store.evictions).toBe(1)
  })

  test('evicts least recently used entries until the bytes fit maxBytes', () => {
    const store = new MemoryStore<{ size: number }>({ maxEntries: 100, maxBytes: 100 })
    store.set('a', sized(40))
    store.set('b', sized(40))
    store.get('a')
    store.set('c', sized(50))
    expect(store.get('b')).toBeUndefined()
    expect(store.get('a')).toBeDefined()
    expect(store.bytes).toBe(90)
  })

  test('refuses an entry larger than maxBytes, keeping the others', () => {
    const store = new MemoryStore<{ size: number }>({ maxEntries: 10, maxBytes: 100 })
    store.set('small', sized(10))
    expect(store.set('huge', sized(101))).toBe(false)
    expect(store.get('huge')).toBeUndefined()
    expect(store.get('small')).toBeDefined()
    expect(store.bytes).toBe(10)
  })

  test('replacing an entry adjusts the bytes, and delete and clear release them', () => {
    const store = new MemoryStore<{ size: number }>({ maxEntries: 10, maxBytes: 100 })
    store.set('a', sized(30))
    store.set('a', sized(20))
    expect(store.bytes).toBe(20)
    store.set('b', sized(5))
    expect(store.delete('a')).toBe(true)
    expect(store.delete('a')).toBe(false)
    expect(store.bytes).toBe(5)
    store.clear()
    expect([store.size, store.bytes]).toEqual([0, 0])
  })
})

describe('estimateSize', () => {
  test('counts strings, numbers, binary data and nested structures', () => {
    expect(estimateSize('abcd')).toBe(8)
    expect(estimateSize(42)).toBe(8)
    expect(estimateSize(new Uint8Array(1_000))).toBe(1_000)
    expect(estimateSize({ id: 'abc' })).toBe(2 * 2 + 8 + 6)
    expect(estimateSize(['ab', 'cd'])).toBe(2 * 8 + 4 + 4)
    expect(estimateSize(new Map([['k', 'v']]))).toBeGreaterThan(4)
  })

  test('an array counts the members it holds, not its length: a sparse one (rows kept by numeric id) is measured by its few members', () => {
    const byId: string[] = []
    byId[1_000_000] = 'ab'
    byId[7] = 'cd'
    expect(estimateSize(byId)).toBe(estimateSize(['ab', 'cd']))
    expect(estimateSize([1, , 3])).toBe(estimateSize([1, 3])) // eslint-disable-line no-sparse-arrays
  })

  test('never throws and counts shared or circular references once', () => {
    const node: Record<string, unknown> = { name: 'x' }
    node.self = node
    expect(() => estimateSize(node)).not.toThrow()
    expect(estimateSize(node)).toBe(estimateSize({ name: 'x', self: null }))
    expect(estimateSize([10n, Symbol('s'), () => undefined, null, undefined, new Date(0)])).toBeGreaterThan(0)
    const guarded = { name: 'x', get secret(): string { throw new Error('no access') } }
    const trapped = new Proxy({}, { ownKeys: () => { throw new Error('no keys') } })
    expect(estimateSize({ guarded, trapped })).toBeGreaterThan(estimateSize({ name: 'x' }))
  })

  test('a view counts the buffer it keeps alive, not only its own bytes: a slice of a large buffer, a small Buffer of the shared pool', () => {
    const large = new ArrayBuffer(1_000_000)
    expect(estimateSize(new Uint8Array(large, 0, 10))).toBe(1_000_000)
    const pooled = Buffer.from('tiny')
    expect(estimateSize(pooled)).toBe(pooled.buffer.byteLength)
    expect(estimateSize(new DataView(large, 100, 4))).toBe(1_000_000)
  })

  test('a buffer several views of one value share counts once, with the buffer itself beside them', () => {
    const shared = new ArrayBuffer(4_096)
    expect(estimateSize([new Uint8Array(shared, 0, 8), new Uint16Array(shared, 8, 8), shared])).toBe(4_096 + 3 * 8)
  })

  test('a collection, a blob or a buffer whose own size getter lies or throws is measured by what it holds, and the sum stays a number', () => {
    class WordyMap extends Map<string, string> {
      override get size(): number {
        return 'many' as unknown as number
      }
    }
    class ThrowingSet extends Set<string> {
      override get size(): number {
        throw new Error('not counted')
      }
    }
    class EndlessBuffer extends ArrayBuffer {
      override get byteLength(): number {
        return Number.NaN
      }
    }
    const textBlob = Object.defineProperty(new Blob(['x'.repeat(3_000)]), 'size', { get: () => '3000' })
    const lyingArray = new Proxy(['ab'], { get: (target, property): unknown => (property === 'length' ? 'one' : Reflect.get(target, property)) })
    expect(estimateSize(new WordyMap([['k', 'v']]))).toBe(estimateSize(new Map([['k', 'v']])))
    expect(estimateSize(new ThrowingSet(['a', 'b']))).toBe(estimateSize(new Set(['a', 'b'])))
    expect(estimateSize(textBlob)).toBe(3_000)
    expect(estimateSize(new EndlessBuffer(64))).toBe(64)
    expect(Number.isFinite(estimateSize({ lyingArray, nested: [new WordyMap(), textBlob] }))).toBe(true)
  })

  test('such a value leaves the byte bound of L1 in force', async () => {
    class WordyMap extends Map<string, string> {
      override get size(): number {
        return 'many' as unknown as number
      }
    }
    const cache = createCache<unknown>({ name: 'odd-sizes', load: (key) => (key === 'odd' ? new WordyMap([['k', 'v']]) : 'x'.repeat(200)), ttl: '1h', l1: { maxBytes: 1_000 } })
    await cache.get('odd')
    for (const key of ['a', 'b', 'c']) await cache.get(key)
    const { bytes, entries, evictions } = cache.stats()
    expect(Number.isFinite(bytes)).toBe(true)
    expect(bytes).toBeLessThanOrEqual(1_000)
    expect([entries, evictions]).toEqual([2, 2])
  })

  test('shared memory and blobs count their bytes', () => {
    expect(estimateSize(new SharedArrayBuffer(2_048))).toBe(2_048)
    expect(estimateSize(new Int32Array(new SharedArrayBuffer(4_096), 0, 1))).toBe(4_096)
    expect(estimateSize(new Blob(['x'.repeat(3_000)]))).toBe(3_000)
  })
})
