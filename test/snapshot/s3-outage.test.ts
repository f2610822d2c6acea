import type { S3Client } from '@aws-sdk/client-s3'
import { startTcpProxy, type TcpProxy } from '../harness/index.js'
import { samplesOf } from '../support/emf.js'
import { deferred, flushPromises } from '../support/deferred.js'
import { invoke } from '../support/invoke.js'
import { lambdaContext } from '../support/lambda-context.js'
import { reservedMs } from '../../src/lambda/budget.js'
import { inEnvironment, namespace, objectKeyOf, productFunction, readObject, service, snapshotTests, timeForTheReadOnly } from './environments.js'

const product = (id: string) => ({ id, name: `Product ${id}` })
const snapshots = snapshotTests('outage')
const { bucket } = snapshots

let proxy: TcpProxy
beforeEach(async () => {
  const moto = new URL(process.env.AWS_ENDPOINT_URL ?? '')
  proxy = await startTcpProxy({ target: { host: moto.hostname, port: Number(moto.port) } })
})
afterEach(async () => {
  await proxy.close()
})

const viaProxy = (): string => proxy.url('http')
const products = (name: string): number[] => samplesOf(snapshots.output.blobs(), { namespace, name, dimensions: { service, cache: 'products' } })

/** A snapshot of product 1 in S3, written by an environment that reached S3 directly. */
const writeSnapshotOfProduct1 = async (): Promise<void> => {
  const writer = await productFunction({ bucket })
  await invoke(writer.handler, { ids: ['1'] })
  expect((await readObject(bucket, objectKeyOf(snapshots.functionName)))?.caches.products).toHaveLength(1)
}

describe('S3 slow or down never fails an invocation', () => {
  test('S3 slower than timeout: the first invocation goes on without the snapshot after the timeout', async () => {
    await writeSnapshotOfProduct1()
    // Six times the timeout; no more, since the proxy holds its delayed bytes that long even once closed.
    proxy.setLatency(600)
    const slow = await productFunction({ bucket, endpoint: viaProxy(), snapshot: { timeout: '100ms' } })
    expect(await invoke(slow.handler, { ids: ['1'] })).toEqual([product('1')])
    // The snapshot holds product 1, but it did not arrive in time: loaded from the source.
    expect(slow.load).toHaveBeenCalledTimes(1)
    expect(slow.warnings).toEqual([expect.stringMatching(/did not arrive within 100 ms; starting without it/)])
    // The writer's first invocation found none, and this one none in time.
    expect(products('SnapshotMisses')).toEqual([1, 1])
    // S3 looked unhealthy: no write is tried before half maxAge.
    expect(slow.commands.get('PutObjectCommand')).toBeUndefined()
  })

  test('S3 that never answers (packets dropped): the same, the read is given up', async () => {
    await writeSnapshotOfProduct1()
    proxy.setBlackhole(true)
    const silent = await productFunction({ bucket, endpoint: viaProxy(), snapshot: { timeout: '100ms' } })
    expect(await invoke(silent.handler, { ids: ['1'] })).toEqual([product('1')])
    expect(silent.load).toHaveBeenCalledTimes(1)
    expect(silent.warnings).toEqual([expect.stringMatching(/did not arrive within 100 ms/)])
    // Later invocations do not wait again.
    expect(await invoke(silent.handler, { ids: ['2'] })).toEqual([product('2')])
    expect(silent.commands.get('GetObjectCommand')).toBe(1)
  })

  test('S3 that never answers, with a timeout longer than the invocation has left: the wait is what the invocation has left, less the reserve', async () => {
    proxy.setBlackhole(true)
    const silent = await productFunction({ bucket, endpoint: viaProxy(), snapshot: { timeout: '5s' } })
    // 400 ms left, by a clock that stands still: Lambda would time the invocation out long before the 5 s it was told to wait.
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => 400 }
    expect(await invoke(silent.handler, { ids: ['1'] }, context)).toEqual([product('1')])
    expect(silent.load).toHaveBeenCalledTimes(1)
    expect(silent.warnings).toEqual([expect.stringMatching(new RegExp(`did not arrive within ${400 - reservedMs} ms; starting without it`))])
  })

  test('S3 down (connections refused): the invocation is served from the source', async () => {
    await proxy.setRefusing(true)
    const down = await productFunction({ bucket, endpoint: viaProxy() })
    expect(await invoke(down.handler, { ids: ['1'] })).toEqual([product('1')])
    expect(down.load).toHaveBeenCalledTimes(1)
    expect(down.warnings).toEqual([expect.stringMatching(/could not be read \(.*\); starting without it/)])
    expect(products('SnapshotMisses')).toEqual([1])
    expect(down.commands.get('PutObjectCommand')).toBeUndefined()
  })

  test('a logger that throws as it is told of S3 being down fails nothing either', async () => {
    await proxy.setRefusing(true)
    const warn = jest.fn(() => {
      throw new Error('the logger is down too')
    })
    const down = await productFunction({ bucket, endpoint: viaProxy(), snapshot: { logger: { warn } } })
    expect(await invoke(down.handler, { ids: ['1'] })).toEqual([product('1')])
    expect(warn).toHaveBeenCalledTimes(1)
  })

  test('a read denied (S3\'s answer for a missing object without s3:ListBucket) is taken for a missing snapshot: one is written', async () => {
    const denied = await productFunction({ bucket, failReads: 'AccessDenied' })
    expect(await invoke(denied.handler, { ids: ['1'] })).toEqual([product('1')])
    expect(denied.warnings).toEqual([expect.stringMatching(/was denied; taken for a missing one, as S3 answers so without s3:ListBucket/)])
    expect(products('SnapshotMisses')).toEqual([1])
    expect(denied.commands.get('PutObjectCommand')).toBe(1)
    expect((await readObject(bucket, objectKeyOf(snapshots.functionName)))?.caches.products?.map((record) => record.key)).toEqual(['1'])
  })

  test("a missing snapshot is told by the error's name (NoSuchKey), not its class, which another copy of the SDK has its own of: a miss, and one is written", async () => {
    const missing = await productFunction({ bucket, failReads: 'NoSuchKey' })
    expect(await invoke(missing.handler, { ids: ['1'] })).toEqual([product('1')])
    expect(missing.warnings).toEqual([])
    expect(products('SnapshotMisses')).toEqual([1])
    expect(missing.commands.get('PutObjectCommand')).toBe(1)
  })

  test('S3 gone by the time of the write: the write fails quietly, the invocation answers', async () => {
    const environment = await productFunction({ bucket, endpoint: viaProxy() })
    // The read finds no snapshot; time to wait for it, but not to write in this one.
    await invoke(environment.handler, { ids: [] }, lambdaContext(timeForTheReadOnly))
    await proxy.setRefusing(true)
    proxy.dropConnections()
    expect(await invoke(environment.handler, { ids: ['1'] })).toEqual([product('1')])
    expect(environment.commands.get('PutObjectCommand')).toBe(1)
    expect(environment.warnings).toEqual([expect.stringMatching(/could not be written to s3:\/\/.*\.json\.gz: /)])
    expect(await readObject(bucket, objectKeyOf(snapshots.functionName))).toBeUndefined()
  })

  test('a read that fails during INIT with nothing waiting for it raises no unhandled rejection', async () => {
    await proxy.setRefusing(true)
    const readFailed = deferred<undefined>()
    await inEnvironment(async () => {
      const [{ coldStartSnapshot }, { S3Client: Client }] = await Promise.all([import('../../entrypoints/snapshot.js'), import('@aws-sdk/client-s3')])
      const client: S3Client = new Client({ endpoint: viaProxy(), region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
      client.middlewareStack.add(
        (next) => async (args) => {
          try {
            return await next(args)
          } finally {
            readFailed.resolve(undefined)
          }
        },
        { step: 'initialize', name: 'observeTheRead' },
      )
      // Module load: the read starts, and no invocation ever comes.
      return coldStartSnapshot({ bucket, caches: ['products'], client, logger: { warn: () => undefined } })
    })
    await readFailed.promise
    // Node reports a rejection left unhandled once the microtasks of the turn that made it have run,
    // and Jest fails the running test with it (a listener added here to `process` would never hear
    // of it: the test's `process` is Jest's copy).
    await flushPromises()
    await flushPromises()
  })
})
