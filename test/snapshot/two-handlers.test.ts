import type { Context } from 'aws-lambda'
import { invoke } from '../support/invoke.js'
import { inEnvironment, objectKeyOf, readObject, snapshotTests } from './environments.js'

/**
 * Two handlers built in one module, each with a coldStartSnapshot of its own caches, as a module
 * that exports several handlers builds them all in every function it is deployed as. S3 is the
 * global moto_server.
 */

const snapshots = snapshotTests('two-handlers')
const { bucket } = snapshots

type Handler = (event: unknown, context: Context) => Promise<unknown>

interface Module {
  readonly products: Handler
  readonly prices: Handler
  readonly loads: { products: jest.Mock; prices: jest.Mock }
}

/** The module: a products handler and a prices handler, each with warmup first, its snapshot, and its dataCache. */
const twoHandlerModule = (): Promise<Module> =>
  inEnvironment(async () => {
    const [{ default: middy }, { coldStartSnapshot }, { warmup }, { dataCache }] = await Promise.all([
      import('@middy/core'),
      import('../../entrypoints/snapshot.js'),
      import('../../middlewares/warmup.js'),
      import('../../middlewares/data-cache.js'),
    ])
    const loads = {
      products: jest.fn((id: string) => Promise.resolve(`product ${id}`)),
      prices: jest.fn((id: string) => Promise.resolve(`price ${id}`)),
    }
    const handlerOf = (name: 'products' | 'prices'): Handler =>
      middy<{ ids?: string[] }>()
        .use(warmup())
        .use(coldStartSnapshot({ bucket, caches: [name], logger: { warn: () => undefined } }))
        .use(dataCache({ name, load: loads[name], ttl: '5m' }))
        .handler((event, context) => {
          const { caches } = context as unknown as { caches: Record<string, { getMany: (keys: readonly string[]) => Promise<unknown[]> }> }
          return caches[name]?.getMany(event.ids ?? [])
        }) as unknown as Handler
    return { products: handlerOf('products'), prices: handlerOf('prices'), loads }
  })

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
