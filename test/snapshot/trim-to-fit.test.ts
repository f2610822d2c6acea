import type { MeasuredEntry } from '../../src/snapshot/portable-entry.js'
import { trimToFit } from '../../src/snapshot/trim-to-fit.js'

/** `count` records of `bytes` each (a comma after each makes one more), keys `${prefix}1` oldest. */
const records = (prefix: string, count: number, bytes: number): MeasuredEntry[] =>
  Array.from({ length: count }, (_, index) => ({ record: { key: `${prefix}${index + 1}`, envelope: { c: 0, t: 1, w: 0, e: 0, v: index } }, bytes }))

const keysOf = (caches: ReadonlyMap<string, readonly { readonly key: string }[]>): Record<string, string[]> =>
  Object.fromEntries([...caches].map(([name, kept]) => [name, kept.map((record) => record.key)]))

describe('trimming a snapshot to what a reader takes', () => {
  test('everything is kept when it fits', () => {
    const trimmed = trimToFit(new Map([['products', records('p', 3, 99)], ['config', records('c', 1, 99)]]), 400)
    expect(keysOf(trimmed.caches)).toEqual({ products: ['p1', 'p2', 'p3'], config: ['c1'] })
    expect(trimmed).toMatchObject({ kept: 4, dropped: 0 })
  })

  test('each cache keeps the same share of its bytes, made of its newest records: a small cache loses little', () => {
    // 1,000 bytes of products, 200 of config, 600 allowed: each keeps half of its own.
    const trimmed = trimToFit(new Map([['products', records('p', 10, 99)], ['config', records('c', 2, 99)]]), 600)
    expect(keysOf(trimmed.caches)).toEqual({ products: ['p6', 'p7', 'p8', 'p9', 'p10'], config: ['c2'] })
    expect(trimmed).toMatchObject({ kept: 6, dropped: 6 })
  })

  test('what is kept never passes the budget, however the shares round', () => {
    const entries = new Map([['a', records('a', 7, 13)], ['b', records('b', 5, 29)], ['c', records('c', 3, 71)]])
    for (const budget of [0, 1, 50, 99, 100, 250, 333, 400]) {
      const { caches, kept, dropped } = trimToFit(entries, budget)
      const used = [...caches.values()].flat().reduce((sum, record) => sum + (entries.get(record.key.charAt(0))?.[0]?.bytes ?? 0) + 1, 0)
      expect(used).toBeLessThanOrEqual(budget)
      expect(kept + dropped).toBe(15)
    }
  })

  test('a cache whose newest record alone passes its share keeps nothing; the others keep theirs', () => {
    // 1,020 bytes of big, 100 of config, 600 allowed: big's share (546) is less than its newest record.
    const trimmed = trimToFit(new Map([['big', [...records('small', 3, 9), ...records('huge', 1, 989)]], ['config', records('c', 2, 49)]]), 600)
    expect(keysOf(trimmed.caches)).toEqual({ big: [], config: ['c2'] })
    expect(trimmed).toMatchObject({ kept: 1, dropped: 5 })
  })
})
