import { freezeParsed, freezeShared } from '../../src/cache/freeze.js'

class Counter {
  count = 0
  increment(): number {
    return ++this.count
  }
}

describe('freezeShared', () => {
  test('freezes plain objects and arrays however deep, cycles included', () => {
    const inner = { tags: ['a', { deep: true }] }
    const value: Record<string, unknown> = { inner, list: [inner], bare: Object.assign(Object.create(null) as object, { x: 1 }) }
    value.self = value
    expect(freezeShared(value)).toBe(value)
    for (const part of [value, inner, inner.tags, inner.tags[1], value.list, value.bare]) expect(Object.isFrozen(part)).toBe(true)
  })

  test('freezes what a part already frozen holds: Object.freeze, as a loader may call it, goes one level deep', () => {
    const nested = { flag: true, tags: ['a'] }
    const element = Object.freeze({ inner: { x: 1 } })
    const value = Object.freeze({ nested, list: [element] })
    freezeShared(value)
    for (const part of [nested, nested.tags, value.list, element.inner]) expect(Object.isFrozen(part)).toBe(true)
  })

  test('leaves alone what freezing could break: class instances, Maps, bytes, and what they hold', () => {
    const counter = new Counter()
    const map = new Map([['k', { open: true }]])
    const bytes = new Uint8Array([1, 2])
    freezeShared({ counter, map, bytes })
    expect(counter.increment()).toBe(1)
    expect(Object.isFrozen(map.get('k'))).toBe(false)
    bytes[0] = 9
    expect(bytes[0]).toBe(9)
  })

  test('calls no getter, and a proxy that refuses to be frozen is left as it is', () => {
    const getter = jest.fn(() => ({ open: true }))
    const withGetter = Object.defineProperty({}, 'lazy', { get: getter, enumerable: true })
    const stubborn = new Proxy({ a: 1 }, { preventExtensions: () => false })
    expect(() => freezeShared({ withGetter, stubborn, scalars: [1, 'two', null, undefined] })).not.toThrow()
    expect(getter).not.toHaveBeenCalled()
    expect(Object.isFrozen(withGetter)).toBe(true)
  })
})

describe('freezeShared on ordinary arrays, walked by their elements', () => {
  test('a large array of primitives is frozen, and the objects and arrays among its elements too', () => {
    const row = { id: 7, tags: ['a'] }
    const table: unknown[] = Array.from({ length: 200_000 }, (_, index) => index)
    table.push(row, 'text', null, [row])
    expect(freezeShared(table)).toBe(table)
    for (const part of [table, row, row.tags, table.at(-1)]) expect(Object.isFrozen(part)).toBe(true)
  })

  test('an element that is an accessor is not called; holes and non-enumerable elements are walked past or into as data', () => {
    const getter = jest.fn(() => ({ open: true }))
    const hidden = { x: 1 }
    // eslint-disable-next-line no-sparse-arrays -- a hole between members
    const array: unknown[] = [{ a: 1 }, , { b: 2 }]
    Object.defineProperty(array, 3, { get: getter, enumerable: true, configurable: true })
    Object.defineProperty(array, 4, { value: hidden, enumerable: false, writable: true, configurable: true })
    freezeShared(array)
    expect(getter).not.toHaveBeenCalled()
    for (const part of [array, array[0], array[2], hidden]) expect(Object.isFrozen(part)).toBe(true)
  })

  test('a sparse array (rows kept by numeric id under a length of billions) is walked by its members, not by every index', () => {
    const row = { id: 1_000_000 }
    const last = { id: 2 ** 32 - 2 }
    const rows: unknown[] = []
    rows[0] = { id: 0 }
    rows[1_000_000] = row
    rows[2 ** 32 - 2] = last
    freezeShared(rows)
    for (const part of [rows, rows[0], row, last]) expect(Object.isFrozen(part)).toBe(true)
  })

  test('an Array subclass (query rows with their columns in a property defined non-enumerable) is walked by every own property', () => {
    class Rows extends Array<{ id: number }> {}
    const rows = Rows.from([{ id: 1 }])
    const columns = [{ name: 'id' }]
    Object.defineProperty(rows, 'columns', { value: columns, enumerable: false })
    freezeShared({ rows })
    for (const part of [rows, rows[0], columns, columns[0]]) expect(Object.isFrozen(part)).toBe(true)
  })

  test('a proxy of an array is read through no get trap', () => {
    const element = { a: 1 }
    const get = jest.fn((target: object, key: PropertyKey) => Reflect.get(target, key) as unknown)
    freezeShared({ list: new Proxy([element], { get }) })
    expect(get).not.toHaveBeenCalled()
    expect(Object.isFrozen(element)).toBe(true)
  })
})

describe('freezeParsed', () => {
  test('freezes every object and array JSON.parse made, however deep; primitives and null pass through', () => {
    const value = JSON.parse('{"a":{"b":[1,{"c":null}],"__proto__":{"x":1}},"list":[[["deep"]]],"n":null}') as Record<string, unknown>
    expect(freezeParsed(value)).toBe(value)
    const parts: unknown[] = [value]
    for (let next = parts.pop(); next !== undefined; next = parts.pop()) {
      if (typeof next !== 'object' || next === null) continue
      expect(Object.isFrozen(next)).toBe(true)
      parts.push(...(Object.values(next) as unknown[]))
    }
    for (const scalar of ['text', 42, true, null, undefined]) expect(freezeParsed(scalar)).toBe(scalar)
  })

  test('bytes are left as they are, as freezeShared leaves them', () => {
    const bytes = new Uint8Array([1, 2])
    expect(freezeParsed(bytes)).toBe(bytes)
    bytes[0] = 9
    expect(bytes[0]).toBe(9)
  })

  test('a nesting far deeper than the call stack allows is frozen without recursion', () => {
    const depth = 100_000
    const value = JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown[]
    expect(() => freezeParsed(value)).not.toThrow()
    expect(Object.isFrozen(value)).toBe(true)
  })
})
