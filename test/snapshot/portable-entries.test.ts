import type { Cache } from '../../src/cache/cache.js'
import { createCache, Outcome, Tier } from '../../src/index.js'
import { exportPortableEntries, restorePortableEntries } from '../../src/snapshot/portable-entry.js'
import { manualClock } from '../support/clock.js'

/** The records a snapshot would hold of `cache`, without their sizes. */
const recordsOf = <V>(cache: Cache<V>) => exportPortableEntries(cache).map(({ record }) => record)

const policy = { ttl: '1m', staleWhileRevalidate: '30s', staleIfError: '1h' } as const
const wallStart = 1_800_000_000_000

/** Two processes' monotonic clocks (different origins) and the wall clock, moved together. */
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

describe('exportPortableEntries and restorePortableEntries', () => {
  test('a restored entry keeps the freshness it was created with, whatever the reader\'s clock origin', async () => {
    const time = twoProcesses()
    const writer = createCache({ name: 'products', load: (id: string) => `product ${id}`, ...policy, now: time.writer })
    await writer.get('42')
    time.advance(20_000)
    const load = jest.fn((id: string) => `fresh ${id}`)
    const reader = createCache({ name: 'products', load, ...policy, now: time.reader })
    expect(restorePortableEntries(reader, recordsOf(writer))).toBe(1)

    expect(await reader.lookup('42')).toMatchObject({ value: 'product 42', outcome: Outcome.Hit, tier: Tier.L1 })
    time.advance(39_000)
    expect(await reader.lookup('42')).toMatchObject({ outcome: Outcome.Hit })
    expect(load).not.toHaveBeenCalled()
    // 61 s after the writer loaded it: stale within staleWhileRevalidate, as it would be in the writer.
    time.advance(2_000)
    expect(await reader.lookup('42')).toMatchObject({ value: 'product 42', outcome: Outcome.Stale })
    expect(await writer.lookup('42')).toMatchObject({ value: 'product 42', outcome: Outcome.Stale })
  })

  test('an entry past staleIfError is dropped; one within it comes back to stand in for a failing load', async () => {
    const time = twoProcesses()
    const writer = createCache({ name: 'old', load: (id: string) => `v ${id}`, ...policy, now: time.writer })
    await writer.getMany(['a', 'b'])
    time.advance(30 * 60_000)
    await writer.set('b', 'newer')
    const records = recordsOf(writer)
    time.advance(45 * 60_000)
    const reader = createCache<string>({ name: 'old', load: () => Promise.reject(new Error('source down')), ...policy, now: time.reader })
    // a: 75 minutes old, past 1 m + 1 h. b: 45 minutes old, within staleIfError.
    expect(restorePortableEntries(reader, records)).toBe(1)
    expect(await reader.lookup('b')).toMatchObject({ value: 'newer', outcome: Outcome.StaleOnError })
    await expect(reader.get('a')).rejects.toThrow(/source down/)
  })

  test('left out of an export: hashed keys, values JSON would not bring back, entries already expired; "not found" and bytes travel', async () => {
    const time = twoProcesses()
    const longKey = 'k'.repeat(300)
    const values = new Map<string, unknown>([
      ['date', new Date(0)],
      ['map', new Map([[1, 2]])],
      ['negative zero', { balance: -0 }],
      ['undefined property', { id: '1', note: undefined }],
      ['symbol key', { id: '1', [Symbol('audit')]: true }],
      ['bytes', new Uint8Array([1, 2, 3])],
      ['plain', { nested: [1, 'two', null] }],
      [longKey, 'hashed'],
    ])
    const writer = createCache<unknown>({ name: 'mixed', load: (key) => values.get(key), ttl: '1m', negativeTtl: '30s', now: time.writer })
    await writer.getMany([...values.keys(), 'missing'])
    const records = recordsOf(writer)
    expect(records.map((record) => record.key).sort()).toEqual(['bytes', 'missing', 'plain'])
    expect(JSON.parse(JSON.stringify(records))).toEqual(records)

    const load = jest.fn(() => 'loaded')
    const reader = createCache<unknown>({ name: 'mixed', load, ttl: '1m', negativeTtl: '30s', now: time.reader })
    expect(restorePortableEntries(reader, JSON.parse(JSON.stringify(records)) as unknown[])).toBe(3)
    expect([...(await reader.get('bytes') as Uint8Array)]).toEqual([1, 2, 3])
    expect(await reader.get('plain')).toEqual({ nested: [1, 'two', null] })
    expect(await reader.get('missing')).toBeUndefined()
    expect(load).not.toHaveBeenCalled()

    time.advance(2 * 60_000)
    expect(recordsOf(writer)).toEqual([])
  })

  test('what memory holds already, as recent or more so, is kept; malformed records are skipped, never thrown on', async () => {
    const time = twoProcesses()
    const writer = createCache({ name: 'race', load: (id: string) => `old ${id}`, ttl: '1m', now: time.writer })
    await writer.getMany(['a', 'b'])
    const records = recordsOf(writer)
    time.advance(1_000)
    const reader = createCache({ name: 'race', load: (id: string) => `new ${id}`, ttl: '1m', now: time.reader })
    await reader.get('a')
    const malformed: unknown[] = [null, 'text', 42, [], { key: 1 }, { key: 'x' }, { key: 'y', envelope: { c: 'soon', t: 1, w: 0, e: 0, v: 1 } }, { key: 'z', envelope: { c: wallStart, t: 0, w: 0, e: 0, v: 1 } }]
    expect(restorePortableEntries(reader, [...records, ...malformed])).toBe(1)
    expect(await reader.get('a')).toBe('new a')
    expect(await reader.get('b')).toBe('old b')
    expect(reader.stats().entries).toBe(2)
  })

  test('a record whose windows no option could have written (1e300, past a year) is skipped, not kept fresh for ever', async () => {
    twoProcesses()
    const load = jest.fn((id: string) => `loaded ${id}`)
    const reader = createCache({ name: 'forged', load, ttl: '1m', now: manualClock().now })
    const record = (key: string, windows: Record<string, number>) => ({ key, envelope: { c: wallStart, t: 60_000, w: 0, e: 0, v: 'forged', ...windows } })
    const records = [record('ttl', { t: 1e300 }), record('swr', { w: 366 * 86_400_000 }), record('sie', { e: 1e300 }), record('negative', { t: -1 }), record('fine', {})]
    expect(restorePortableEntries(reader, records)).toBe(1)
    expect(await reader.get('ttl')).toBe('loaded ttl')
    expect(await reader.get('fine')).toBe('forged')
  })

  test('restoring reads no more than l1.maxEntries records: the last ones written, the rest not even decoded', async () => {
    const time = twoProcesses()
    const writer = createCache({ name: 'big', load: (id: string) => id, ttl: '1m', now: time.writer })
    await writer.getMany(['1', '2', '3', '4'])
    const records = recordsOf(writer)
    // Records a reader must not touch: reading their key counts.
    let touched = 0
    const untouchable = Array.from({ length: 3 }, () => ({
      get key(): string {
        touched++
        return 'never'
      },
    }))
    const reader = createCache({ name: 'big', load: (id: string) => id, ttl: '1m', l1: { maxEntries: 2 }, now: time.reader })
    expect(restorePortableEntries(reader, [...untouchable, ...records])).toBe(2)
    expect(touched).toBe(0)
    expect(reader.stats()).toMatchObject({ entries: 2, evictions: 0 })
    expect([...reader.peekEntries()].map(([key]) => key)).toEqual(['3', '4'])
  })

  test('exporting leaves recency as it was: the entry read last outlives the one read before it', async () => {
    const time = twoProcesses()
    const cache = createCache({ name: 'recency', load: (id: string) => id, ttl: '1m', l1: { maxEntries: 2 }, now: time.writer })
    await cache.get('a')
    await cache.get('b')
    await cache.get('a')
    expect(recordsOf(cache).map((record) => record.key)).toEqual(['a', 'b'])
    await cache.set('c', 'c')
    expect([...cache.peekEntries()].map(([key]) => key)).toEqual(['a', 'c'])
  })

  test('each record is measured as the bytes its JSON takes, whatever characters it holds', async () => {
    const time = twoProcesses()
    const writer = createCache<unknown>({ name: 'measured', load: (key) => ({ key, text: 'é€😀 "quoted" \u2028 \\', bytes: key === 'b' ? new Uint8Array([1]) : null }), ttl: '1m', now: time.writer })
    await writer.getMany(['a', 'ключ'])
    await writer.set('bytes', new Uint8Array([1, 2, 3]))
    const measured = exportPortableEntries(writer)
    expect(measured).toHaveLength(3)
    for (const { record, bytes } of measured) expect(bytes).toBe(Buffer.byteLength(JSON.stringify(record)))
  })

  test('with a cap (the reader\'s options, when the writer\'s differ or are unknown), no window outlasts the cap\'s; "not found" is held to its negativeTtl', async () => {
    const time = twoProcesses()
    const values = new Map([['a', 'value a']])
    const writer = createCache<string | undefined>({ name: 'capped', load: (key) => values.get(key), ttl: '1h', staleWhileRevalidate: '1h', staleIfError: '1d', negativeTtl: '1h', now: time.writer })
    await writer.getMany(['a', 'missing'])
    const records = recordsOf(writer)
    const load = jest.fn((key: string) => `reloaded ${key}`)
    const cap = { ttl: '1m', staleWhileRevalidate: '30s', staleIfError: '2m', negativeTtl: '10s' } as const
    const reader = createCache<string | undefined>({ name: 'capped', load, ...cap, now: time.reader })
    expect(restorePortableEntries(reader, records, { cap: reader.policy })).toBe(2)
    const entries = new Map(reader.peekEntries())
    const entry = entries.get('a')
    expect(entry === undefined ? undefined : [entry.freshUntil - entry.createdAt, entry.revalidateUntil - entry.freshUntil, entry.fallbackUntil - entry.freshUntil]).toEqual([60_000, 30_000, 120_000])
    const missing = entries.get('missing')
    expect(missing === undefined ? undefined : [missing.freshUntil - missing.createdAt, missing.fallbackUntil - missing.createdAt]).toEqual([10_000, 10_000])

    // Within the windows the cap leaves, past those it cut.
    time.advance(11_000)
    expect(await reader.lookup('a')).toMatchObject({ value: 'value a', outcome: Outcome.Hit })
    expect(await reader.get('missing')).toBe('reloaded missing')
    time.advance(60_000)
    expect(await reader.lookup('a')).toMatchObject({ value: 'value a', outcome: Outcome.Stale })

    // A reader that remembers no "not found" takes none back; an entry the cap puts past staleIfError is not restored.
    const noNegative = createCache<string | undefined>({ name: 'capped', load, ttl: '1m', now: time.reader })
    expect(restorePortableEntries(noNegative, records, { cap: noNegative.policy })).toBe(0)
  })
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
