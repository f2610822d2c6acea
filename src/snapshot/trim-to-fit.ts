import type { MeasuredEntry, PortableEntry } from './portable-entry.js'

/** What fits in a snapshot, by cache, and how many records were left out to make it fit. */
export interface TrimmedEntries {
  readonly caches: Map<string, PortableEntry[]>
  readonly kept: number
  readonly dropped: number
}

/** A record's bytes in the snapshot: its JSON, and the comma that may follow it. */
const costOf = (entry: MeasuredEntry): number => entry.bytes + 1

/** Where the newest records of `measured` that take at most `allowance` bytes begin. */
const newestWithin = (measured: readonly MeasuredEntry[], allowance: number): number => {
  let used = 0
  // From the newest back, the first record that no longer fits: it and every older one are left out.
  const lastLeftOut = measured.findLastIndex((entry) => {
    used += costOf(entry)
    return used > allowance
  })
  return lastLeftOut + 1
}

/**
 * The records that fit in `budgetBytes` of JSON. When all do not, each cache keeps the same share of
 * its own bytes, made of its newest records (records come oldest write first, and the newest are the
 * ones a reader restores last, so they outlive the rest in its memory anyway): a small cache loses
 * little, and every cache still starts partly warm.
 */
export const trimToFit = (entries: ReadonlyMap<string, readonly MeasuredEntry[]>, budgetBytes: number): TrimmedEntries => {
  const costs = new Map([...entries].map(([name, measured]) => [name, measured.reduce((sum, entry) => sum + costOf(entry), 0)]))
  const totalBytes = [...costs.values()].reduce((sum, bytes) => sum + bytes, 0)
  const share = totalBytes <= budgetBytes ? 1 : Math.max(0, budgetBytes) / totalBytes
  const caches = new Map<string, PortableEntry[]>()
  let dropped = 0
  for (const [name, measured] of entries) {
    // Floored, the shares add up to no more than the budget.
    const first = newestWithin(measured, Math.floor((costs.get(name) ?? 0) * share))
    caches.set(name, measured.slice(first).map(({ record }) => record))
    dropped += first
  }
  return { caches, kept: [...caches.values()].reduce((sum, records) => sum + records.length, 0), dropped }
}
