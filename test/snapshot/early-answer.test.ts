import type { MiddlewareObj } from '@middy/core'
import { samplesOf } from '../support/emf.js'
import { invoke } from '../support/invoke.js'
import { inEnvironment, namespace, patientTimeouts, service, snapshotTests } from './environments.js'

/**
 * flushOnEarlyReturn with coldStartSnapshot placed after a middleware that answers the
 * environment's first invocation early (a validator's 400): the snapshot is restored for that
 * request by coldStartSnapshot's flusher, and its figures must reach cacheMetrics' blob.
 */

const snapshots = snapshotTests('early-answer-snapshots')
const { bucket } = snapshots
const products = (name: string): number[] => samplesOf(snapshots.output.blobs(), { namespace, name, dimensions: { service, cache: 'products' } })

type Event = { ids?: string[]; invalid?: boolean; malformed?: boolean }

const build = () =>
  inEnvironment(async () => {
    const [{ default: middy }, { coldStartSnapshot }, { cacheMetrics }, { dataCache }, { flushOnEarlyReturn }, { S3Client }] = await Promise.all([
      import('@middy/core'),
      import('../../entrypoints/snapshot.js'),
      import('../../middlewares/cache-metrics.js'),
      import('../../middlewares/data-cache.js'),
      import('../../middlewares/flush-on-early-return.js'),
      import('@aws-sdk/client-s3'),
    ])
    const client = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL ?? '', region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
    const validator: MiddlewareObj<Event> = {
      before: (request) => {
        if (request.event.malformed === true) throw new Error('malformed event')
        return request.event.invalid === true ? { statusCode: 400 } : undefined
      },
    }
    return middy<Event>({ requestEnd: flushOnEarlyReturn })
      .use(cacheMetrics({ namespace, service }) as MiddlewareObj<Event>)
      .use(validator)
      .use(coldStartSnapshot({ bucket, caches: ['products'], client, ...patientTimeouts }) as MiddlewareObj<Event>)
      .use(dataCache({ name: 'products', load: (id: string) => Promise.resolve({ id }), ttl: '5m' }) as MiddlewareObj<Event>)
      .handler((event, context) => (context as unknown as { caches: { products: { getMany: (ids: string[]) => Promise<unknown> } } }).caches.products.getMany(event.ids ?? []))
  })

test("the environment's first invocation answered early: its snapshot read (none found) is written with it, once", async () => {
  const handler = await build()
  expect(await invoke(handler, { invalid: true })).toEqual({ statusCode: 400 })
  expect(products('SnapshotMisses')).toEqual([1])
  await invoke(handler, { ids: ['1'] })
  expect(products('SnapshotMisses')).toEqual([1])
})

test("the environment's first invocation failed ahead of coldStartSnapshot: its onError ran, so the plugin does not restore for a request already written; the next invocation counts the read", async () => {
  const handler = await build()
  await expect(invoke(handler, { malformed: true })).rejects.toThrow('malformed event')
  await invoke(handler, { ids: ['1'] })
  expect(products('SnapshotMisses')).toEqual([1])
})
