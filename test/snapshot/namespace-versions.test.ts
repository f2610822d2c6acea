import { setTimeout as sleep } from 'node:timers/promises'
import { redisStore } from '../../entrypoints/redis.js'
import type { Cache } from '../../src/cache/cache.js'
import type { Duration } from '../../src/cache/duration.js'
import { createCache, Outcome, Tier } from '../../src/index.js'
import { CacheKind } from '../../src/cache/registry.js'
import type { ReadSnapshot } from '../../src/snapshot/codec.js'
import { restoreEntries } from '../../src/snapshot/covered-caches.js'
import { exportPortableEntries, restorePortableEntries } from '../../src/snapshot/portable-entry.js'
import { startRedis, uniqueName, type RedisHandle } from '../harness/index.js'

/**
 * Restoring a snapshot's entries into a cache with a shared tier: only under the namespace version
 * (moved on by every clear()) the cache's memory belongs to. Each test's cache has a name, and so a
 * version key, of its own in a private redis-server.
 */

let redis: RedisHandle
const stores: { close: () => Promise<void> }[] = []

beforeAll(async () => {
  redis = await startRedis()
})

afterEach(async () => {
  if (redis.paused) redis.resume()
  await Promise.all(stores.splice(0).map((store) => store.close()))
})

afterAll(async () => {
  await redis.stop()
})

/**
 * A cache named `name` in an environment of its own: its own connection to the private Redis,
 * waited for up to `l2Timeout`: long, so that a busy machine's slow answer is not taken for Redis
 * being down, unless the test stops Redis.
 */
const environment = (name: string, load: (id: string) => string = (id) => `loaded ${id}`, l2Timeout: Duration = '5s'): Cache<string> => {
  const store = redisStore({ url: redis.url, timeout: l2Timeout, breaker: { failures: 1, coolDown: '200ms' }, versionCheck: '1h' })
  stores.push(store)
  return createCache({ name, load, ttl: '1m', l2: store })
}

/**
 * The L2 timeout of an environment whose Redis the test stops: each of its operations then waits it
 * out, and those made before Redis stops are not taken for Redis being down on a busy machine.
 */
const stoppedRedisTimeout: Duration = '1s'

/** What a snapshot of `cache` would hold: its records, read back from JSON, and its namespace version. */
const snapshotOf = (cache: Cache<string>) => ({
  records: JSON.parse(JSON.stringify(exportPortableEntries(cache).map(({ record }) => record))) as unknown[],
  namespaceVersion: cache.namespaceVersion,
})

describe('a cache with L2 takes back entries from elsewhere only under the namespace version its memory belongs to', () => {
  test('one that has read its version (a snapshot restored after the caches\' own loads): entries of that version, never of an older one nor of an unknown one', async () => {
    const name = uniqueName('known')
    const writer = environment(name)
    await writer.get('1')
    const before = snapshotOf(writer)
    expect(Number.isSafeInteger(before.namespaceVersion)).toBe(true)

    const reader = environment(name)
    await reader.get('other')
    expect(restorePortableEntries(reader, before.records, { namespaceVersion: before.namespaceVersion })).toBe(1)
    expect(await reader.lookup('1')).toMatchObject({ value: 'loaded 1', outcome: Outcome.Hit, tier: Tier.L1 })

    await environment(name).clear()
    const afterClear = environment(name, (id) => `reloaded ${id}`)
    await afterClear.get('other')
    expect(afterClear.namespaceVersion).toBeGreaterThan(before.namespaceVersion as number)
    expect(restorePortableEntries(afterClear, before.records, { namespaceVersion: before.namespaceVersion })).toBe(0)
    expect(restorePortableEntries(afterClear, before.records)).toBe(0)
    expect(await afterClear.get('1')).toBe('reloaded 1')
  })

  test('one that knows no version yet takes them, and its first version read drops them if a clear() moved the version on meanwhile', async () => {
    const name = uniqueName('unknown')
    const writer = environment(name)
    await writer.get('1')
    const snapshot = snapshotOf(writer)

    const unchanged = environment(name)
    expect(restorePortableEntries(unchanged, snapshot.records, { namespaceVersion: snapshot.namespaceVersion })).toBe(1)
    expect(unchanged.namespaceVersion).toBe(snapshot.namespaceVersion)
    expect(await unchanged.lookup('1')).toMatchObject({ value: 'loaded 1', tier: Tier.L1 })

    const cleared = environment(name, (id) => `reloaded ${id}`)
    expect(restorePortableEntries(cleared, snapshot.records, { namespaceVersion: snapshot.namespaceVersion })).toBe(1)
    await environment(name).clear()
    expect(await cleared.lookup('1')).toMatchObject({ value: 'reloaded 1', tier: Tier.Source })
    expect(cleared.namespaceVersion).toBeGreaterThan(snapshot.namespaceVersion as number)
  })

  test('a snapshot\'s namespace version that is no safe integer (a string, a fraction) is an unknown one: a cache with L2 restores none of its entries', async () => {
    const name = uniqueName('malformed')
    const writer = environment(name)
    await writer.get('1')
    const { records, namespaceVersion } = snapshotOf(writer)
    const snapshotWith = (written: unknown): ReadSnapshot => ({ version: 'v1', createdAt: Date.now(), policies: new Map(), namespaceVersions: new Map([[name, written]]), caches: new Map([[name, records]]) })
    const restoredWith = (written: unknown): number | undefined => {
      const registration = { cache: environment(name) as Cache<unknown>, kind: CacheKind.Data, secret: false }
      return restoreEntries([registration], snapshotWith(written), () => true).get(name)
    }
    expect(restoredWith(String(namespaceVersion))).toBe(0)
    expect(restoredWith((namespaceVersion as number) + 0.5)).toBe(0)
    expect(restoredWith(namespaceVersion)).toBe(1)
  })

  test('a cache without L2 takes them whatever the version: it has none to check', async () => {
    const writer = environment(uniqueName('no-l2'))
    await writer.get('1')
    const snapshot = snapshotOf(writer)
    const reader = createCache({ name: 'no-l2', load: (id: string) => `loaded ${id}`, ttl: '1m' })
    expect(reader.namespaceVersion).toBeUndefined()
    expect(restorePortableEntries(reader, snapshot.records)).toBe(1)
  })
})

describe('a clear() or delete() in this environment is not undone by entries from elsewhere that arrive after it', () => {
  test('without L2: after a clear() or a delete(), no entry from elsewhere is taken', async () => {
    const writer = createCache({ name: 'local', load: (id: string) => `old ${id}`, ttl: '1m' })
    await writer.getMany(['1', '2'])
    const { records } = snapshotOf(writer)
    const cleared = createCache({ name: 'local', load: (id: string) => `new ${id}`, ttl: '1m' })
    await cleared.clear()
    expect(restorePortableEntries(cleared, records)).toBe(0)
    expect(await cleared.get('1')).toBe('new 1')
    const deleted = createCache({ name: 'local', load: (id: string) => `new ${id}`, ttl: '1m' })
    await deleted.delete('1')
    expect(restorePortableEntries(deleted, records)).toBe(0)
    expect(await deleted.get('1')).toBe('new 1')
  })

  test('L2 down during the clear() (the version did not move): the entries of the version it knew are not taken either', async () => {
    const name = uniqueName('down')
    const writer = environment(name)
    await writer.get('1')
    const snapshot = snapshotOf(writer)
    const reader = environment(name, (id) => `new ${id}`, stoppedRedisTimeout)
    await reader.get('other')
    redis.pause()
    await reader.clear()
    expect(reader.namespaceVersion).toBe(snapshot.namespaceVersion)
    expect(restorePortableEntries(reader, snapshot.records, { namespaceVersion: snapshot.namespaceVersion })).toBe(0)
    expect(await reader.get('1')).toBe('new 1')
  })

  test('while its clear() moves the version on, entries of the version it leaves are refused, even those made after the clear() began', async () => {
    const name = uniqueName('moving')
    const reader = environment(name, (id) => `new ${id}`, stoppedRedisTimeout)
    await reader.get('other')
    const version = reader.namespaceVersion
    redis.pause()
    const clearing = reader.clear()
    await sleep(20)
    // Made elsewhere after the clear() began, by an environment that has not learnt of it yet.
    const writer = createCache({ name, load: (id: string) => `old ${id}`, ttl: '1m' })
    await writer.get('1')
    expect(restorePortableEntries(reader, snapshotOf(writer).records, { namespaceVersion: version })).toBe(0)
    await clearing
  })
})
