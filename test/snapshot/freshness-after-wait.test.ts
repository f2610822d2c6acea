import type { MiddlewareObj, Request } from '@middy/core'
import { putParameters, uniqueName } from '../harness/index.js'
import { deferred } from '../support/deferred.js'
import { invoke } from '../support/invoke.js'
import { inEnvironment, movableTime, namespace, patientTimeouts, service, snapshotTests } from './environments.js'

/**
 * The caches after coldStartSnapshot judge freshness by the invocation's one clock reading, taken
 * by the first of the suite's middlewares: a cold start that waited for the snapshot makes that
 * reading as old as the wait, so they must read the clock again.
 */

const { bucket } = snapshotTests('freshness-after-wait')
const parameter = `/${uniqueName('after-wait')}/table`
const minute = 60_000

/**
 * warmup, cacheMetrics, coldStartSnapshot (covering a products dataCache, with its read from S3 held
 * until `s3Gate` settles) and a configCache whose one-minute value is prefetched at module load. `reached`
 * resolves once an invocation has passed cacheMetrics; `waited` tells, per invocation, whether the
 * middlewares after the snapshot were told it waited.
 */
const settingsFunction = (s3Gate: Promise<unknown>) =>
  inEnvironment(async () => {
    const [{ default: middy }, { coldStartSnapshot }, { cacheMetrics }, { warmup }, { configCache }, { dataCache }, { invocationOf }, { registeredCaches }, { S3Client }, { SSMClient }] = await Promise.all([
      import('@middy/core'),
      import('../../entrypoints/snapshot.js'),
      import('../../middlewares/cache-metrics.js'),
      import('../../middlewares/warmup.js'),
      import('../../middlewares/config-cache.js'),
      import('../../middlewares/data-cache.js'),
      import('../../middlewares/shared/invocation.js'),
      import('../../src/cache/registry.js'),
      import('@aws-sdk/client-s3'),
      import('@aws-sdk/client-ssm'),
    ])
    const clientOptions = { endpoint: process.env.AWS_ENDPOINT_URL ?? '', region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }
    const s3 = new S3Client(clientOptions)
    const ssm = new SSMClient(clientOptions)
    s3.middlewareStack.add((next) => async (args) => {
      await s3Gate
      return next(args)
    }, { step: 'initialize', name: 'holdSnapshotRead' })
    const reached = deferred<undefined>()
    const reachedSnapshot: MiddlewareObj = {
      before: () => {
        reached.resolve(undefined)
      },
    }
    const waited: boolean[] = []
    const waitSeen: MiddlewareObj = {
      before: (request: Request) => {
        waited.push(invocationOf(request).waitedInBefore)
      },
    }
    const handler = middy<{ id?: string }>()
      .use(warmup())
      .use(cacheMetrics({ namespace, service }))
      .use(reachedSnapshot)
      .use(coldStartSnapshot({ bucket, caches: ['products'], client: s3, ...patientTimeouts, timeout: '10s', logger: { warn: () => undefined } }))
      .use(waitSeen)
      .use(configCache({ parameters: { table: parameter }, ttl: '1m', awsSdkV3Client: ssm }))
      .use(dataCache({ name: 'products', key: (event: { id?: string }) => event.id, load: (id) => Promise.resolve({ id }), ttl: '5m' }))
      .handler((_event, context) => Promise.resolve(context.config.table))
    const prefetched = (): boolean => registeredCaches().some(({ cache }) => cache.name === 'config' && cache.stats().entries > 0)
    return { handler, reached: reached.promise, waited, prefetched, destroy: () => {
      s3.destroy()
      ssm.destroy()
    } }
  })

describe('a cold start that waited for the snapshot', () => {
  test('a value whose ttl ended during the wait is not served as fresh by a cache after the snapshot; a warm invocation is told of no wait', async () => {
    await putParameters({ [parameter]: 'prefetched' })
    const time = movableTime()
    const s3 = deferred<undefined>()
    const fn = await settingsFunction(s3.promise)
    while (!fn.prefetched()) await new Promise((resolve) => setTimeout(resolve, 10))
    await putParameters({ [parameter]: 'current' })

    const answer = invoke(fn.handler, { id: '1' })
    // The invocation's clock reading is taken; the snapshot's read then takes two minutes, past the value's ttl.
    await fn.reached
    time.advance(2 * minute)
    s3.resolve(undefined)
    expect(await answer).toBe('current')

    expect(await invoke(fn.handler, { id: '1' })).toBe('current')
    expect(fn.waited).toEqual([true, false])
    fn.destroy()
  })
})
