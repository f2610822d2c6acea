import type { Cache } from '../cache/cache.js'
import { phaseOf, Phase, type Entry, type FreshnessPolicy } from '../cache/freshness.js'
import { entryOfEnvelope, envelopeText, UnserialisableValue, type Envelope } from '../cache/json-envelope.js'
import { callerKeyOf, storeKeyOf } from '../cache/keys.js'
import { isRecord } from '../cache/options.js'
import { estimateSize } from '../stores/memory/index.js'
import { cappedEntry } from './policy-windows.js'

/**
 * Turning a cache's entries into JSON and back lives here, with the snapshot, rather than in the
 * engine: only `middy-cache/snapshot` bundles it (and the envelope code it uses), not every handler.
 */

/**
 * One in-memory entry as it can leave the process (in a cold-start snapshot): the caller's key and
 * the entry's envelope, whose times are on the wall clock, so that another process restores it
 * with the freshness it had. Plain JSON.
 */
export interface PortableEntry {
  readonly key: string
  readonly envelope: Envelope
}

/** A record with the bytes its JSON takes in a snapshot, measured from the text it was made of. */
export interface MeasuredEntry {
  readonly record: PortableEntry
  readonly bytes: number
}

/** What JSON.stringify writes around a record's key and envelope: `{"key":` `,"envelope":` `}`. */
const recordFrameBytes = '{"key":,"envelope":}'.length

/** An entry brought back, under the key memory keeps it by. */
interface RestoredEntry<V> {
  readonly storeKey: string
  readonly entry: Entry<V>
}

/**
 * The portable form of the entry under the caller's `key`; or, for a value JSON would not bring back
 * as it was, the UnserialisableValue that says what and where.
 */
const portableEntryOf = (key: string, entry: Entry<unknown>, monoNow: number, wallNow: number): MeasuredEntry | UnserialisableValue => {
  let text: string
  try {
    text = envelopeText(entry, monoNow, wallNow)
  } catch (error) {
    if (error instanceof UnserialisableValue) return error
    throw error
  }
  // Our own text: parsed back into plain JSON, which also leaves the snapshot no reference to a live value.
  // JSON.stringify writes that JSON back as this very text, so its length is the record's share of the snapshot.
  const bytes = recordFrameBytes + Buffer.byteLength(JSON.stringify(key)) + Buffer.byteLength(text)
  return { record: { key, envelope: JSON.parse(text) as Envelope }, bytes }
}

/**
 * The entry a record (from `portableEntryOf`, read back from JSON by anyone) describes, its times on
 * the monotonic clock read as `monoNow`, its windows no longer than `cap`'s when given; undefined for
 * a malformed record or an entry past staleIfError.
 */
const restoredEntryOf = <V>(record: unknown, monoNow: number, wallNow: number, cap: FreshnessPolicy | undefined): RestoredEntry<V> | undefined => {
  if (!isRecord(record) || typeof record.key !== 'string') return undefined
  const storeKey = storeKeyOf(record.key)
  const decoded = entryOfEnvelope<V>(record.envelope, monoNow, wallNow, 0)
  if (decoded === undefined) return undefined
  const entry = cap === undefined ? decoded : cappedEntry(decoded, cap)
  if (phaseOf(entry, monoNow) === Phase.Expired) return undefined
  return { storeKey, entry: { ...entry, size: estimateSize(entry.value) + storeKey.length * 2 } }
}

/** Which entries an export takes, and who hears of those whose values cannot travel. */
export interface ExportOptions {
  /** Whether the entry under a caller's key may leave the process; every key when left out. */
  readonly keep?: (key: string) => boolean
  /** Told of each entry left out for what JSON would change in its value (`value.items[2].price is NaN`). */
  readonly unportable?: (key: string, reason: string) => void
}

const everyKey = (): boolean => true
const nobody = (): void => undefined

/**
 * What `cache` holds in memory under the keys `keep` lets out, as plain JSON records with wall-clock
 * times and their size, oldest write first; reading them leaves recency as it was. Left out: entries
 * under a hashed key (their key cannot be recovered), entries past staleIfError, and values JSON
 * would not bring back as they were (told to `unportable`).
 */
export const exportPortableEntries = <V>(cache: Cache<V>, { keep = everyKey, unportable = nobody }: ExportOptions = {}): MeasuredEntry[] => {
  const monoNow = cache.clock()
  const wallNow = Date.now()
  const records: MeasuredEntry[] = []
  for (const [storeKey, entry] of cache.peekEntries()) {
    const key = callerKeyOf(storeKey)
    if (key === undefined || phaseOf(entry, monoNow) === Phase.Expired || !keep(key)) continue
    const record = portableEntryOf(key, entry, monoNow, wallNow)
    if (record instanceof UnserialisableValue) unportable(key, record.message)
    else records.push(record)
  }
  return records
}

/** Where restored records come from, beside their own times. */
export interface RestoreOptions {
  /** The freshness no window of theirs may outlast: the reader's own, when the writer's options differ or are unknown. */
  readonly cap?: FreshnessPolicy | undefined
  /** The namespace version (`Cache.namespaceVersion`) of the cache they were exported from; undefined: unknown. */
  readonly namespaceVersion?: number | undefined
}

/**
 * Puts records from `exportPortableEntries` (of this or another process, read back from JSON) into
 * `cache`'s memory with the freshness they had, each window cut to `cap`'s when given; returns how
 * many it kept. Only the last `l1.maxEntries` records are read. Skipped, never thrown on: malformed
 * records, entries past staleIfError (or past `cap`'s), keys memory already holds as recent or more
 * so, records that do not fit in memory's bounds beside what it holds and the newer records, and
 * every record a cache with L2 would not take (see `Cache.adoptEntries`): of another namespace
 * version than its own, or of an unknown one.
 */
export const restorePortableEntries = <V>(cache: Cache<V>, records: readonly unknown[], { cap, namespaceVersion }: RestoreOptions = {}): number => {
  const monoNow = cache.clock()
  const wallNow = Date.now()
  const found: (readonly [string, Entry<V>])[] = []
  // Records come oldest write first, and memory keeps at most maxEntries: the records before the
  // last maxEntries would not fit beside those after them, so they are not even decoded. This bounds
  // the restore, which the first invocation waits for, by the cache's own bound. Memory takes back
  // as many as fit beside what it holds, the newest first: a record evicts neither a value memory
  // held (loaded after the snapshot was written) nor a newer record, and the count is what it keeps.
  for (let index = Math.max(0, records.length - cache.l1Bounds.maxEntries); index < records.length; index++) {
    const restored = restoredEntryOf<V>(records[index], monoNow, wallNow, cap)
    if (restored !== undefined) found.push([restored.storeKey, restored.entry])
  }
  return cache.adoptEntries(found, namespaceVersion)
}
