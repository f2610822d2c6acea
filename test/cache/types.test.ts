import { createCache } from '../../src/index.js'
import type { Cache } from '../../src/index.js'

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
    expect(typeIs<Equal<typeof product, Product>>(true)).toBe(true)
    expect(product.price).toBe(10)
  })

  test('a loader that may find nothing gives a value that may be undefined', async () => {
    const cache = createCache({ name: 'typed-optional', load: (id) => Promise.resolve(id === 'x' ? undefined : { id }), ttl: '1m' })
    const found = await cache.get('x')
    expect(typeIs<Equal<typeof found, { id: string } | undefined>>(true)).toBe(true)
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
