import { setTimeout as sleep } from 'node:timers/promises'
import { gzipSync } from 'node:zlib'
import { Redis } from 'ioredis'
import { startRedis, type RedisHandle } from '../harness/index.js'
import type { Duration } from '../../src/cache/duration.js'
import { invoke } from '../support/invoke.js'
import { movableTime, objectKeyOf, productFunction, putRawObject, readObject, snapshotTests, type Product, type ProductFunction } from './environments.js'

/**
 * The products cache of every environment shares a private redis-server (its L2), as Lambda
 * environments of one function share an ElastiCache: a `clear()` in one of them moves the cache's
 * namespace version on in L2, and a snapshot written before it must not bring its entries back.
 */

const snapshots = snapshotTests('cleared-elsewhere')
const { bucket } = snapshots
const minute = 60_000

let redis: RedisHandle
let admin: Redis
const environments: ProductFunction[] = []

beforeAll(async () => {
  redis = await startRedis()
  admin = new Redis(redis.url, { lazyConnect: true })
})

afterEach(async () => {
  if (redis.paused) redis.resume()
  await Promise.all(environments.splice(0).map((environment) => environment.close()))
  // Every test starts from an empty L2: the version key of the products cache included.
  await admin.flushall()
})

afterAll(async () => {
  admin.disconnect()
  await redis.stop()
})

/**
 * A new execution environment of the function, whose products cache has the private Redis as L2,
 * waited for up to `l2Timeout`: long, so that a busy machine's slow answer is not taken for Redis
 * being down, unless the test stops Redis.
 */
const environment = async (l2Timeout: Duration = '5s'): Promise<ProductFunction> => {
  const made = await productFunction({ bucket, l2: { url: redis.url, timeout: l2Timeout, versionCheck: '1h', breaker: { failures: 1, coolDown: '200ms' } } })
  environments.push(made)
  return made
}

const product = (id: string, name = `Product ${id}`): Product => ({ id, name })
const loadedAs = (made: ProductFunction, name: (id: string) => string): void => {
  made.load.mockImplementation((id) => Promise.resolve(product(id, name(id))))
}
const loadedIds = (made: ProductFunction): string[] => made.load.mock.calls.map(([id]) => id)
const puts = (made: ProductFunction): number => made.commands.get('PutObjectCommand') ?? 0

describe('a clear() in one environment reaches the entries a snapshot written before it brings to another', () => {
  test('A writes a snapshot, B clears the cache, C starts from the snapshot: C loads every value again, never serving one from before the clear', async () => {
    const a = await environment()
    expect(await invoke(a.handler, { ids: ['1', '2'] })).toEqual([product('1'), product('2')])
    expect(puts(a)).toBe(1)

    const b = await environment()
    expect(await invoke(b.handler, { clear: true })).toEqual([])

    const c = await environment()
    loadedAs(c, (id) => `Product ${id}, after the clear`)
    expect(await invoke(c.handler, { ids: ['1', '2'] })).toEqual([product('1', 'Product 1, after the clear'), product('2', 'Product 2, after the clear')])
    expect(loadedIds(c)).toEqual(['1', '2'])
    expect([...a.warnings, ...b.warnings, ...c.warnings]).toEqual([])
  })

  test('the snapshot records the namespace version its entries belong to; the first environment to find it outdated writes it again, and the next starts warm from it', async () => {
    const a = await environment()
    await invoke(a.handler, { ids: ['1'] })
    const before = await readObject(bucket, objectKeyOf(snapshots.functionName))
    const b = await environment()
    await invoke(b.handler, { clear: true })
    // B's memory holds nothing after its clear: nothing to write.
    expect(puts(b)).toBe(0)

    const c = await environment()
    loadedAs(c, (id) => `Product ${id}, after the clear`)
    await invoke(c.handler, { ids: ['1'] })
    // Found fresh by age, yet of a version the cache has left: replaced as a missing one is.
    expect(puts(c)).toBe(1)
    const after = await readObject(bucket, objectKeyOf(snapshots.functionName))
    const versionBefore = before?.namespaceVersions?.products
    expect(Number.isSafeInteger(versionBefore)).toBe(true)
    expect(after?.namespaceVersions?.products).toBeGreaterThan(versionBefore as number)

    const d = await environment()
    expect(await invoke(d.handler, { ids: ['1'] })).toEqual([product('1', 'Product 1, after the clear')])
    expect(d.load).not.toHaveBeenCalled()
    expect(puts(d)).toBe(0)
  })

  test('without a clear, the snapshot restores into a cache with L2 as it does without: no load, no write', async () => {
    const a = await environment()
    await invoke(a.handler, { ids: ['1', '2'] })
    const b = await environment()
    expect(await invoke(b.handler, { ids: ['1', '2'] })).toEqual([product('1'), product('2')])
    expect(b.load).not.toHaveBeenCalled()
    expect(puts(b)).toBe(0)
  })

  test('a snapshot of a writer that recorded no namespace version (an older release of the library): a cache with L2 restores none of it, and the first environment to read it writes it again', async () => {
    const a = await environment()
    await invoke(a.handler, { ids: ['1'] })
    const key = objectKeyOf(snapshots.functionName)
    const written = await readObject(bucket, key)
    expect(written?.namespaceVersions).toEqual({ products: expect.any(Number) as unknown })
    await putRawObject(bucket, key, gzipSync(JSON.stringify({ ...written, namespaceVersions: undefined })))
    // Without A's copy in L2, what C serves comes from the snapshot or from the source.
    await admin.flushall()

    const c = await environment()
    expect(await invoke(c.handler, { ids: ['1'] })).toEqual([product('1')])
    expect(loadedIds(c)).toEqual(['1'])
    expect(puts(c)).toBe(1)
    expect(c.warnings).toEqual([])
    const d = await environment()
    await invoke(d.handler, { ids: ['1'] })
    expect(d.load).not.toHaveBeenCalled()
  })

  test('L2 down when C starts: the restored entries are served as memory is while the version cannot be read, then dropped at the first version read that succeeds', async () => {
    const a = await environment()
    await invoke(a.handler, { ids: ['1', '2'] })
    const b = await environment()
    await invoke(b.handler, { clear: true })

    redis.pause()
    // Waited out while Redis is stopped; the version read once it is back must not meet it on a busy machine.
    const c = await environment('1s')
    loadedAs(c, (id) => `Product ${id}, after the clear`)
    // The one L2 timeout of the invocation goes to the version read; memory is what is left, as for any environment.
    expect(await invoke(c.handler, { ids: ['1', '2'] })).toEqual([product('1'), product('2')])
    expect(c.load).not.toHaveBeenCalled()

    redis.resume()
    // The breaker's cool-down: its probe is the next version read.
    await sleep(250)
    expect(await invoke(c.handler, { ids: ['1', '2'] })).toEqual([product('1', 'Product 1, after the clear'), product('2', 'Product 2, after the clear')])
    expect(loadedIds(c)).toEqual(['1', '2'])
  })
})

describe('a set() or delete() in one environment reaches a restored entry when it would reach the writer\'s memory: once the entry is no longer fresh', () => {
  test('B deletes one key and sets another: C serves both as A wrote them until their ttl ends, then the deleted one from the source and the set one from L2', async () => {
    const time = movableTime()
    const a = await environment()
    await invoke(a.handler, { ids: ['1', '2'] })
    const b = await environment()
    await invoke(b.handler, { delete: ['1'], set: { 2: product('2', 'Product 2, set by B') }, setTtl: '1h' })

    const c = await environment()
    loadedAs(c, (id) => `Product ${id}, reloaded`)
    // As A itself still serves them: other environments keep what they hold until it goes stale.
    expect(await invoke(c.handler, { ids: ['1', '2'] })).toEqual([product('1'), product('2')])
    expect(await invoke(a.handler, { ids: ['1', '2'] })).toEqual([product('1'), product('2')])
    expect(c.load).not.toHaveBeenCalled()

    // Past A's ttl of 5 minutes, counted from A's loads, not from C's start.
    time.advance(5 * minute + 1_000)
    expect(await invoke(c.handler, { ids: ['1', '2'] })).toEqual([product('1', 'Product 1, reloaded'), product('2', 'Product 2, set by B')])
    expect(loadedIds(c)).toEqual(['1'])
  })
})
