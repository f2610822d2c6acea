import type { Context } from 'aws-lambda'
import { invoke } from '../support/invoke.js'
import { inEnvironment, objectKeyOf, patientTimeouts, readObject, snapshotTests, withAnotherCopy } from './environments.js'

/**
 * Two handlers built in one module, each with a coldStartSnapshot of its own caches, as a module
 * that exports several handlers builds them all in every function it is deployed as. S3 is the
 * global moto_server.
 */

const snapshots = snapshotTests('two-handlers')
const { bucket } = snapshots

type Handler = (event: unknown, context: Context) => Promise<unknown>

type CacheName = 'products' | 'prices'

interface Module {
  readonly products: Handler
  readonly prices: Handler
  readonly loads: Record<CacheName, jest.Mock>
  /** The entries each handler's cache holds. */
  readonly entries: (name: CacheName) => number
}

/** The modules a handler is built from, in the copy of the package being loaded. */
const loadModules = () =>
  Promise.all([
    import('@middy/core'),
    import('../../entrypoints/snapshot.js'),
    import('../../middlewares/warmup.js'),
    import('../../middlewares/data-cache.js'),
    import('../../src/cache/registry.js'),
  ])
type Modules = Awaited<ReturnType<typeof loadModules>>

const loadsOf = (): Record<CacheName, jest.Mock> => ({
  products: jest.fn((id: string) => Promise.resolve(`product ${id}`)),
  prices: jest.fn((id: string) => Promise.resolve(`price ${id}`)),
})

/** The handler of `name`: warmup first, its snapshot, and its dataCache. */
const handlerOf = ([{ default: middy }, { coldStartSnapshot }, { warmup }, { dataCache }]: Modules, name: CacheName, load: jest.Mock): Handler =>
  middy<{ ids?: string[] }>()
    .use(warmup())
    .use(coldStartSnapshot({ bucket, caches: [name], logger: { warn: () => undefined }, ...patientTimeouts }))
    .use(dataCache({ name, load, ttl: '5m' }))
    .handler((event, context) => {
      const { caches } = context as unknown as { caches: Record<string, { getMany: (keys: readonly string[]) => Promise<unknown[]> }> }
      return caches[name]?.getMany(event.ids ?? [])
    }) as unknown as Handler

const entriesIn =
  ([, , , , { registeredCaches }]: Modules) =>
  (name: CacheName): number =>
    registeredCaches().find(({ cache }) => cache.name === name)?.cache.stats().entries ?? 0

/** The module: a products handler and a prices handler. */
const twoHandlerModule = (): Promise<Module> =>
  inEnvironment(async () => {
    const modules = await loadModules()
    const loads = loadsOf()
    return { products: handlerOf(modules, 'products', loads.products), prices: handlerOf(modules, 'prices', loads.prices), loads, entries: entriesIn(modules) }
  })

/** The same two handlers in a new environment, each built from a copy of the package of its own. */
const twoCopiesModule = async (): Promise<Module> => {
  const loads = loadsOf()
  const productsModules = await inEnvironment(loadModules)
  const pricesModules = await withAnotherCopy(loadModules)
  return { products: handlerOf(productsModules, 'products', loads.products), prices: handlerOf(pricesModules, 'prices', loads.prices), loads, entries: entriesIn(pricesModules) }
}

test('each writes its own object, so neither replaces the snapshot of the other', async () => {
  const first = await twoHandlerModule()
  await invoke(first.products, { ids: ['1', '2'] })
  await invoke(first.prices, { ids: ['9'] })
  // A ping runs the due writes of every instance in the process: none is due any more.
  expect(await invoke(first.products, { warmer: true })).toMatchObject({ warmed: true })

  const productsSnapshot = await readObject(bucket, objectKeyOf(snapshots.functionName, ['products']))
  const pricesSnapshot = await readObject(bucket, objectKeyOf(snapshots.functionName, ['prices']))
  expect(Object.keys(productsSnapshot?.caches ?? {})).toEqual(['products'])
  expect(productsSnapshot?.caches.products?.map((record) => record.key).sort()).toEqual(['1', '2'])
  expect(Object.keys(pricesSnapshot?.caches ?? {})).toEqual(['prices'])
  expect(pricesSnapshot?.caches.prices?.map((record) => record.key)).toEqual(['9'])

  // A new environment of the same function: each handler starts from its own snapshot.
  const next = await twoHandlerModule()
  expect(await invoke(next.products, { ids: ['1', '2'] })).toEqual(['product 1', 'product 2'])
  expect(await invoke(next.prices, { ids: ['9'] })).toEqual(['price 9'])
  expect(next.loads.products).not.toHaveBeenCalled()
  expect(next.loads.prices).not.toHaveBeenCalled()
})

test('built from two copies of the package, a first warm-up ping restores the snapshot of each', async () => {
  const first = await twoHandlerModule()
  await invoke(first.products, { ids: ['1', '2'] })
  await invoke(first.prices, { ids: ['9'] })

  // Neither coldStartSnapshot sees the ping (warmup answers before them): each restores through its flusher.
  const next = await twoCopiesModule()
  expect(await invoke(next.products, { warmer: true })).toMatchObject({ warmed: true })
  expect(next.entries('products')).toBe(2)
  expect(next.entries('prices')).toBe(1)
})
