import { samplesOf } from '../support/emf.js'
import { invoke } from '../support/invoke.js'
import { lambdaContext } from '../support/lambda-context.js'
import { encodeSnapshot } from '../../src/snapshot/codec.js'
import { ChainOrder, namespace, objectKeyOf, productFunction, putRawObject, readObject, service, snapshotTests, timeForTheReadOnly } from './environments.js'

/**
 * coldStartSnapshot beside warmup, in every order: a ping answered by warmup ends the chain in
 * warmup's `before`, so Middy runs neither the hooks of the middlewares after it nor the `after` of
 * those before it. S3 is the global moto_server.
 */

const product = (id: string) => ({ id, name: `Product ${id}` })
const snapshots = snapshotTests('snapshots')
const { bucket } = snapshots
const orders = Object.values(ChainOrder)

const products = (name: string): number[] => samplesOf(snapshots.output.blobs(), { namespace, name, dimensions: { service, cache: 'products' } })
const pings = (): number[] => samplesOf(snapshots.output.blobs(), { namespace, name: 'WarmupPing', dimensions: { service } })
const puts = (commands: Map<string, number>): number => commands.get('PutObjectCommand') ?? 0

describe.each(orders)('%s', (order) => {
  test('a write the invocation had no time left for is made by the next warm-up ping that has time for it, once', async () => {
    const environment = await productFunction({ bucket, order })
    // Time to wait for the read, not for the whole writeTimeout past the reserve.
    expect(await invoke(environment.handler, { ids: ['1'] }, lambdaContext(timeForTheReadOnly))).toEqual([product('1')])
    expect(puts(environment.commands)).toBe(0)
    // A ping is held to its own remaining time too.
    expect(await invoke(environment.handler, { warmer: true }, lambdaContext(40))).toMatchObject({ warmed: true })
    expect(puts(environment.commands)).toBe(0)

    expect(await invoke(environment.handler, { warmer: true })).toMatchObject({ warmed: true })
    expect(puts(environment.commands)).toBe(1)
    expect((await readObject(bucket, objectKeyOf(snapshots.functionName)))?.caches.products?.map((record) => record.key)).toEqual(['1'])
    // Written once: neither a ping nor a request after it finds a write due.
    await invoke(environment.handler, { warmer: true })
    await invoke(environment.handler, { ids: ['2'] })
    expect(puts(environment.commands)).toBe(1)
    expect(pings()).toEqual([1, 1, 1])
    expect(environment.warnings).toEqual([])
  })

  test("a ping as an environment's first invocation restores the snapshot before the refresh, counted on the ping; later requests make no source call for the restored keys", async () => {
    const first = await productFunction({ bucket })
    await invoke(first.handler, { ids: ['1', '2', '3'] })
    expect(puts(first.commands)).toBe(1)
    expect(products('SnapshotMisses')).toEqual([1])

    const second = await productFunction({ bucket, order })
    // Restored before warmup's refresh, whatever the order: the ping reloads the 3 restored entries
    // that would stop being fresh (5-minute ttl) before the next ping (5 minutes).
    expect(await invoke(second.handler, { warmer: true })).toMatchObject({ warmed: true, refreshed: 3 })
    // Restored and counted by the ping itself.
    expect(products('SnapshotHydrated')).toEqual([3])
    expect(products('SnapshotLoadLatency')).toHaveLength(2)
    expect(second.commands.get('GetObjectCommand')).toBe(1)
    second.load.mockClear()

    expect(await invoke(second.handler, { ids: ['1', '2', '3'] })).toEqual([product('1'), product('2'), product('3')])
    expect(second.load).not.toHaveBeenCalled()
    // Counted once; read once; the snapshot it found is fresh, so nothing is written.
    expect(products('SnapshotHydrated')).toEqual([3])
    expect(second.commands.get('GetObjectCommand')).toBe(1)
    expect(puts(second.commands)).toBe(0)
    expect([...first.warnings, ...second.warnings]).toEqual([])
  })

  test("entries restored by a first ping that stay fresh past the next ping are served to later requests without a source call", async () => {
    const hour = 60 * 60_000
    const records = ['1', '2', '3'].map((id) => ({ key: id, envelope: { c: Date.now(), t: hour, w: 0, e: 0, v: { id, name: `Snapshot product ${id}` } } }))
    await putRawObject(bucket, objectKeyOf(snapshots.functionName), await encodeSnapshot({ version: 'v1', createdAt: Date.now(), caches: new Map([['products', records]]) }))

    // A snapshot that records no options is held to the reader's: here an hour too.
    const environment = await productFunction({ bucket, order, freshness: { ttl: '1h' } })
    // Fresh for an hour: nothing for warmup to refresh, so only the restore can spare the loads below.
    expect(await invoke(environment.handler, { warmer: true })).toMatchObject({ warmed: true, refreshed: 0 })
    expect(products('SnapshotHydrated')).toEqual([3])
    expect(await invoke(environment.handler, { ids: ['1', '2', '3'] })).toEqual(['1', '2', '3'].map((id) => ({ id, name: `Snapshot product ${id}` })))
    expect(environment.load).not.toHaveBeenCalled()
    expect(products('SnapshotHydrated')).toEqual([3])
    expect(products('SnapshotMisses')).toEqual([])
  })

  test("a ping as an environment's first invocation finds no snapshot: counted as a miss on the ping; the first request with values writes one", async () => {
    const environment = await productFunction({ bucket, order })
    expect(await invoke(environment.handler, { warmer: true })).toMatchObject({ warmed: true })
    expect(products('SnapshotMisses')).toEqual([1])
    // The caches hold nothing yet: nothing is written, and no attempt is spent.
    expect(puts(environment.commands)).toBe(0)

    await invoke(environment.handler, { ids: ['1'] })
    expect(puts(environment.commands)).toBe(1)
    expect((await readObject(bucket, objectKeyOf(snapshots.functionName)))?.caches.products?.map((record) => record.key)).toEqual(['1'])
    expect(products('SnapshotMisses')).toEqual([1])
    expect(environment.commands.get('GetObjectCommand')).toBe(1)
  })
})
