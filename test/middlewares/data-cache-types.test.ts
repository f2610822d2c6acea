import middy from '@middy/core'
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyWithLambdaAuthorizerEvent, SQSEvent } from 'aws-lambda'
import { dataCache, type DataCacheHandle } from '../../middlewares/data-cache.js'
import { dynamoItem } from '../../entrypoints/dynamodb.js'
import type { Frozen } from '../../src/cache/freeze.js'
import { CacheOptionsError } from '../../src/cache/errors.js'
import { invoke } from '../support/invoke.js'

// Compile-time checks, enforced by `npm run typecheck` (which includes test/): what dataCache puts on
// the context is typed from its options, as DESIGN.md's example promises.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the standard exact type-equality idiom
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const typeIs = <T extends true>(value: T): T => value

interface Product {
  id: string
  price: number
}

const getProduct = (id: string, _options: { signal: AbortSignal }): Promise<Product | undefined> => Promise.resolve({ id, price: 10 })

describe('types of what dataCache adds to the context', () => {
  test("DESIGN.md's example: an unannotated key reads an API Gateway event; the value and the handle are typed", async () => {
    const products = dataCache({
      name: 'products',
      key: (event) => event.pathParameters?.id,
      load: (id, { signal }) => getProduct(id, { signal }),
      ttl: '5m',
      staleWhileRevalidate: '1m',
      staleIfError: '1h',
      negativeTtl: '30s',
    })
    const handler = middy()
      .use(products)
      .handler((_event, context) => {
        expect(typeIs<Equal<typeof context.products, Frozen<Product> | undefined>>(true)).toBe(true)
        expect(typeIs<Equal<typeof context.caches.products, DataCacheHandle<Product>>>(true)).toBe(true)
        return Promise.resolve(context.products?.price)
      })
    expect(await invoke(handler, { pathParameters: { id: '1' } })).toBe(10)
  })

  test('a literal name the Lambda context already has, or inherits, fails to compile, as it fails construction; a name typed string compiles, and is checked at construction', () => {
    const refused = /option "name" cannot be "(functionName|caches|constructor|awsRequestId)": the context already has a property of that name/
    // @ts-expect-error the context's own property
    expect(() => dataCache({ name: 'functionName', key: (event) => event.pathParameters?.id, load: getProduct, ttl: '5m' })).toThrow(refused)
    // @ts-expect-error where dataCache puts its handles
    expect(() => dataCache({ name: 'caches', load: getProduct, ttl: '5m' })).toThrow(refused)
    // @ts-expect-error inherited by the context, a plain object
    expect(() => dataCache({ name: 'constructor', load: getProduct, ttl: '5m' })).toThrow(refused)
    // @ts-expect-error the context's own, with an annotated event
    expect(() => dataCache({ name: 'awsRequestId', key: (event: SQSEvent) => event.Records[0]?.body, load: getProduct, ttl: '5m' })).toThrow(refused)
    const fromEnvironment: string = process.env.UNSET_CACHE_NAME ?? 'functionName'
    expect(() => dataCache({ name: fromEnvironment, load: getProduct, ttl: '5m' })).toThrow(CacheOptionsError)
  })

  test('a lazy cache adds only its handle; an annotated key types the event; ready loaders type the value', async () => {
    const lazy = dataCache({ name: 'prices', load: (id: string) => Number(id), ttl: '1m' })
    const items = dataCache({ name: 'items', key: (event: SQSEvent) => event.Records[0]?.body, load: dynamoItem<Product>({ table: 'items', key: 'id' }), ttl: '1m' })
    const handler = middy()
      .use(lazy)
      .use(items)
      .handler(async (event, context) => {
        expect(typeIs<Equal<typeof context.caches.prices, DataCacheHandle<number>>>(true)).toBe(true)
        expect(typeIs<Equal<typeof context.items, Frozen<Product> | undefined>>(true)).toBe(true)
        expect(typeIs<Equal<typeof event, SQSEvent>>(true)).toBe(true)
        // @ts-expect-error a lazy cache puts no value on the context
        expect(context.prices).toBeUndefined()
        return context.caches.prices.get('3')
      })
    expect(await invoke(handler, { Records: [] })).toBe(3)
  })

  test('the value on the context is frozen however deep: changing it in place is a compile error, as it would throw at run time', async () => {
    const tagged = dataCache({ name: 'tagged', key: () => 'p-1', load: (id) => ({ id, price: 10, tags: ['new'], dimensions: { width: 3 } }), ttl: '1m' })
    const handler = middy()
      .use(tagged)
      .handler((_event, context) => {
        const product = context.tagged
        if (product === undefined) return Promise.resolve(undefined)
        expect(() => {
          // @ts-expect-error the value is shared by every invocation: its arrays are read-only
          product.tags.push('personal discount') // eslint-disable-line @typescript-eslint/no-unsafe-call -- the call the line above expects to fail to compile
        }).toThrow(TypeError)
        // Frozen: these assignments are dropped (they throw in strict-mode code).
        // @ts-expect-error its properties too
        product.price = 99
        // @ts-expect-error however deep
        product.dimensions.width = 4
        expect(product).toEqual({ id: 'p-1', price: 10, tags: ['new'], dimensions: { width: 3 } })
        // Read-only arrays still go where one is read, and copies are the handler's own.
        const copy = { ...product, tags: [...product.tags, 'personal discount'] }
        return Promise.resolve(copy.tags)
      })
    expect(await invoke(handler)).toEqual(['new', 'personal discount'])
  })

  test("the handle's get, getMany and lookup give the values frozen as the context's: changing one in place is a compile error", async () => {
    const catalog = dataCache({ name: 'catalog', load: (id) => ({ id, tags: ['new'] }), ttl: '1m' })
    const handler = middy()
      .use(catalog)
      .handler(async (_event, context) => {
        const handle = context.caches.catalog
        const one = await handle.get('p-1')
        const many = await handle.getMany(['p-1', 'p-2'])
        const looked = await handle.lookup('p-1')
        type Item = Frozen<{ id: string; tags: string[] }>
        expect(typeIs<Equal<typeof one, Item | undefined>>(true)).toBe(true)
        expect(typeIs<Equal<typeof many, (Item | undefined)[]>>(true)).toBe(true)
        expect(typeIs<Equal<typeof looked.value, Item | undefined>>(true)).toBe(true)
        if (one === undefined) return undefined
        expect(looked.value).toBe(one)
        expect(() => {
          // @ts-expect-error the value is shared by every invocation: its arrays are read-only
          one.tags.push('personal discount') // eslint-disable-line @typescript-eslint/no-unsafe-call -- the call the line above expects to fail to compile
        }).toThrow(TypeError)
        // Read-only arrays still go where one is read.
        const countTags = (tags: readonly string[]): number => tags.length
        return many.map((item) => countTags(item?.tags ?? []))
      })
    expect(await invoke(handler)).toEqual([1, 1])
  })

  test('bytes are not frozen and keep their type, on the context and from the handle', async () => {
    const receipts = dataCache({ name: 'receipt', key: () => 'r-1', load: (id) => new TextEncoder().encode(id), ttl: '1m' })
    const handler = middy()
      .use(receipts)
      .handler(async (_event, context) => {
        const fromHandle = await context.caches.receipt.get('r-1')
        expect(typeIs<Equal<typeof context.receipt, Uint8Array<ArrayBuffer> | undefined>>(true)).toBe(true)
        expect(typeIs<Equal<typeof fromHandle, Uint8Array<ArrayBuffer> | undefined>>(true)).toBe(true)
        expect(fromHandle).toBe(context.receipt)
        expect(Object.isFrozen(fromHandle)).toBe(false)
        return Buffer.from(fromHandle ?? new Uint8Array()).toString()
      })
    expect(await invoke(handler)).toBe('r-1')
  })

  test("README's principal for an HTTP API Lambda authorizer: the annotated event types it, the loader is told the caller, and a route without the authorizer or its context names nobody", async () => {
    type HttpApiEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<{ userId: string } | null>
    const load = jest.fn((key: string, { principal }: { principal: string | undefined }) => `${key} of ${principal ?? 'nobody'}`)
    const handler = middy<HttpApiEvent>()
      .use(dataCache({
        name: 'cart',
        key: () => 'cart',
        load,
        ttl: '30s',
        scope: 'principal',
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as in the README: a route without the authorizer has none, whatever the type says
        principal: (event: HttpApiEvent) => event.requestContext.authorizer?.lambda?.userId,
      }))
      .handler((_event, context) => {
        expect(typeIs<Equal<typeof context.cart, string | undefined>>(true)).toBe(true)
        return Promise.resolve(context.cart)
      })
    expect(await invoke(handler, { requestContext: { authorizer: { lambda: { userId: 'u-1' } } } })).toBe('cart of u-1')
    expect(await invoke(handler, { requestContext: { http: { method: 'GET' } } })).toBe('cart of nobody')
    expect(await invoke(handler, { requestContext: { authorizer: { lambda: null } } })).toBe('cart of nobody')
    expect(load).toHaveBeenCalledTimes(3)
  })

  test("README's principal for a REST API Lambda authorizer that returns the same principalId for every caller (AWS's blueprint: 'user'): its context names the caller", async () => {
    type AuthorizedEvent = APIGatewayProxyWithLambdaAuthorizerEvent<{ userId: string }>
    const load = jest.fn((key: string, { principal }: { principal: string | undefined }) => `${key} of ${principal ?? 'nobody'}`)
    const handlerWith = (principal?: (event: AuthorizedEvent) => string | undefined) =>
      middy<AuthorizedEvent>()
        .use(dataCache({ name: 'cart', key: () => 'cart', load, ttl: '30s', scope: 'principal', ...(principal === undefined ? {} : { principal }) }))
        .handler((_event, context) => Promise.resolve(context.cart))
    const callers = ['u-1', 'u-2'].map((userId) => ({ requestContext: { authorizer: { principalId: 'user', userId } } }))

    const byDefault = handlerWith()
    expect(await invoke(byDefault, callers[0])).toBe('cart of authorizer:user')
    // The default lookup cannot tell a constant principalId from a real one: the second caller is served the first one's entry.
    expect(await invoke(byDefault, callers[1])).toBe('cart of authorizer:user')

    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- as in the README: a route without the authorizer has none, whatever the type says
    const named = handlerWith((event) => event.requestContext.authorizer?.userId)
    expect(await invoke(named, callers[0])).toBe('cart of u-1')
    expect(await invoke(named, callers[1])).toBe('cart of u-2')
    expect(await invoke(named, { requestContext: { resourcePath: '/cart' } })).toBe('cart of nobody')
  })
})
