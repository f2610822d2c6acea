import type { Cache } from '../../src/cache/cache.js'
import { createCache, Outcome } from '../../src/index.js'
import { exportPortableEntries, restorePortableEntries } from '../../src/snapshot/portable-entry.js'
import { manualClock } from '../support/clock.js'

const recordsOf = <V>(cache: Cache<V>) => exportPortableEntries(cache).map(({ record }) => record)
const wallStart = 1_800_000_000_000

const twoProcesses = () => {
  let wall = wallStart
  jest.spyOn(Date, 'now').mockImplementation(() => wall)
  const writer = manualClock(5_000)
  const reader = manualClock(777)
  return {
    writer: writer.now,
    reader: reader.now,
    advance: (ms: number): void => {
      wall += ms
      writer.advance(ms)
      reader.advance(ms)
    },
  }
}

afterEach(() => {
  jest.restoreAllMocks()
})

describe('restoring a snapshot into memory at its bounds', () => {
  test('older snapshot entries never evict a newer value memory already held (a prefetch that finished first)', async () => {
    const time = twoProcesses()
    const writer = createCache({ name: 'bounded', load: (id: string) => `old ${id}`, ttl: '1h', now: time.writer })
    await writer.getMany(['a', 'b', 'c'])
    const records = recordsOf(writer)
    time.advance(1_000)
    const load = jest.fn((id: string) => `new ${id}`)
    const reader = createCache({ name: 'bounded', load, ttl: '1h', l1: { maxEntries: 3 }, now: time.reader })
    await reader.get('x')
    restorePortableEntries(reader, records)
    // 'x' was loaded after the snapshot was written: it is the newest value of all, and must stay a hit.
    expect(await reader.lookup('x')).toMatchObject({ value: 'new x', outcome: Outcome.Hit })
    expect(load).toHaveBeenCalledTimes(1)
  })

  test('the count of entries restored (SnapshotHydrated) is what memory holds of them, not what it took in and evicted at once', async () => {
    const time = twoProcesses()
    const writer = createCache({ name: 'bytes', load: (id: string) => `value ${id}`, ttl: '1h', now: time.writer })
    await writer.getMany(['a', 'b', 'c', 'd'])
    const records = recordsOf(writer)
    // Room for two of them: each takes 2 bytes of key and 14 of value.
    const reader = createCache({ name: 'bytes', load: (id: string) => id, ttl: '1h', l1: { maxBytes: 32 }, now: time.reader })
    const restored = restorePortableEntries(reader, records)
    expect(reader.stats().entries).toBe(2)
    expect(restored).toBe(reader.stats().entries)
  })
})
