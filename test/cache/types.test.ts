import { createCache } from '../../src/index.js'
import type { Cache, Frozen } from '../../src/index.js'

// Compile-time checks, enforced by `npm run typecheck` (which includes test/): the value type of a
// cache is inferred from its loader, so callers never annotate what they get back.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the standard exact type-equality idiom
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const typeIs = <T extends true>(value: T): T => value

interface Product {
  id: string
  price: number
}

describe('types inferred from the loader', () => {
  test('an async loader gives a cache of its resolved type', async () => {
    const cache = createCache({ name: 'typed-async', load: (id) => Promise.resolve<Product>({ id, price: 10 }), ttl: '1m' })
    const product = await cache.get('p1')
    expect(typeIs<Equal<typeof cache, Cache<Product>>>(true)).toBe(true)
    expect(typeIs<Equal<typeof product, Frozen<Product>>>(true)).toBe(true)
    expect(product.price).toBe(10)
  })

  test('a loader that may find nothing gives a value that may be undefined', async () => {
    const cache = createCache({ name: 'typed-optional', load: (id) => Promise.resolve(id === 'x' ? undefined : { id }), ttl: '1m' })
    const found = await cache.get('x')
    expect(typeIs<Equal<typeof found, { readonly id: string } | undefined>>(true)).toBe(true)
    expect(found).toBeUndefined()
  })

  test('a synchronous loader works too, and getMany returns an array of the value type', async () => {
    const cache = createCache({ name: 'typed-sync', load: (key) => key.length, ttl: '1m' })
    const lengths = await cache.getMany(['a', 'bb'])
    expect(typeIs<Equal<typeof lengths, number[]>>(true)).toBe(true)
    expect(lengths).toEqual([1, 2])
    // @ts-expect-error a cache of numbers does not accept a string
    void cache.set('k', 'not a number')
  })
})

interface Order {
  id: string
  lines: { sku: string; quantity: number }[]
  placedAt: Date
  receipt: Uint8Array
}

const newOrder = (id: string): Order => ({ id, lines: [{ sku: 'a', quantity: 1 }], placedAt: new Date(0), receipt: new Uint8Array([1]) })
const quantityOf = (lines: readonly { readonly sku: string; quantity: number }[]): number => lines.reduce((sum, line) => sum + line.quantity, 0)

describe('types of what a cache hands out: frozen however deep, as it is at run time', () => {
  test('every read is typed Frozen: changing the value in place is a compile error, as it throws at run time', async () => {
    const cache = createCache({ name: 'typed-frozen', load: newOrder, ttl: '1m' })
    const order = await cache.get('o-1')
    const many = await cache.getMany(['o-1'])
    const looked = await cache.lookup('o-1')
    const fresh = cache.getIfFresh('o-1')
    const allFresh = cache.getManyIfFresh(['o-1'])
    expect(typeIs<Equal<typeof order, Frozen<Order>>>(true)).toBe(true)
    expect(typeIs<Equal<typeof many, Frozen<Order>[]>>(true)).toBe(true)
    expect(typeIs<Equal<typeof looked.value, Frozen<Order>>>(true)).toBe(true)
    expect(typeIs<Equal<typeof fresh, { readonly value: Frozen<Order> } | undefined>>(true)).toBe(true)
    expect(typeIs<Equal<typeof allFresh, readonly Frozen<Order>[] | undefined>>(true)).toBe(true)
    for (const value of [order, many[0], looked.value, fresh?.value, allFresh?.[0]]) expect(value).toBe(order)
    expect(() => {
      // @ts-expect-error shared with every later caller: its arrays are read-only
      order.lines.push({ sku: 'b', quantity: 2 }) // eslint-disable-line @typescript-eslint/no-unsafe-call -- the call the line above expects to fail to compile
    }).toThrow(TypeError)
    // Frozen: these assignments are dropped (they throw in strict-mode code).
    for (const line of order.lines) {
      // @ts-expect-error its properties too, however deep
      line.quantity = 5
    }
    // @ts-expect-error and the value's own
    order.id = 'o-2'
    expect(order).toMatchObject({ id: 'o-1', lines: [{ sku: 'a', quantity: 1 }] })
  })

  test('read-only use stays easy: a frozen value goes where it is only read, and what is not frozen keeps its type', async () => {
    const cache = createCache({ name: 'typed-reads', load: newOrder, ttl: '1m' })
    const order = await cache.get('o-1')
    // Read-only arrays and objects pass where nothing changes them.
    expect(quantityOf(order.lines)).toBe(1)
    const described: { readonly id: string; readonly placedAt: Date } = order
    expect(described.id).toBe('o-1')
    // A Date and bytes are left as they are by the freeze, and keep their own types.
    expect(typeIs<Equal<typeof order.placedAt, Date>>(true)).toBe(true)
    expect(typeIs<Equal<typeof order.receipt, Uint8Array>>(true)).toBe(true)
    expect(Object.isFrozen(order.receipt)).toBe(false)
    expect(Buffer.from(order.receipt).toString('hex')).toBe('01')
    // A copy changes freely once it is the caller's own.
    const copy = { ...order, lines: [...order.lines, { sku: 'b', quantity: 2 }] }
    copy.lines.push({ sku: 'c', quantity: 3 })
    expect(quantityOf(copy.lines)).toBe(6)
  })

  test('loadUncached and loadManyUncached keep nothing and freeze nothing: their values are typed as loaded', async () => {
    const cache = createCache({ name: 'typed-uncached', load: newOrder, ttl: '1m' })
    const order = await cache.loadUncached('o-1')
    const [other] = await cache.loadManyUncached(['o-2'])
    expect(typeIs<Equal<typeof order, Order>>(true)).toBe(true)
    expect(typeIs<Equal<typeof other, Order | undefined>>(true)).toBe(true)
    order.lines.push({ sku: 'b', quantity: 2 })
    other?.lines.push({ sku: 'b', quantity: 2 })
    expect([order, other].map((loaded) => quantityOf(loaded?.lines ?? []))).toEqual([3, 3])
  })
})
