import { fromAttribute, fromAttributes, toKeyAttribute } from '../../src/sources/attribute-values.js'

describe('DynamoDB attribute values as plain values', () => {
  test('every type, nested', () => {
    expect(
      fromAttributes({
        s: { S: 'text' }, n: { N: '12.5' }, t: { BOOL: true }, z: { NULL: true }, b: { B: new Uint8Array([1, 2]) },
        m: { M: { inner: { L: [{ S: 'a' }, { N: '1' }] } } }, ss: { SS: ['x', 'y'] }, ns: { NS: ['1', '2'] },
      }),
    ).toEqual({ s: 'text', n: 12.5, t: true, z: null, b: new Uint8Array([1, 2]), m: { inner: ['a', 1] }, ss: ['x', 'y'], ns: [1, 2] })
    expect(fromAttribute({} as never)).toBeUndefined()
    expect(toKeyAttribute(7)).toEqual({ N: '7' })
  })

  test('an attribute named __proto__ stays data: it sets no prototype, at the top or in a map', () => {
    // JSON.parse makes own __proto__ keys, as the SDK's parsing of a DynamoDB answer does; a literal would set a prototype.
    const item = fromAttributes(JSON.parse('{"__proto__":{"M":{"isAdmin":{"BOOL":true}}},"nested":{"M":{"__proto__":{"S":"x"}}}}') as never)
    expect(Object.getPrototypeOf(item)).toBe(Object.prototype)
    expect((item as { isAdmin?: unknown }).isAdmin).toBeUndefined()
    expect(Object.hasOwn(item, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(item.nested)).toBe(Object.prototype)
    expect(Object.keys(item.nested as object)).toEqual(['__proto__'])
  })
})
