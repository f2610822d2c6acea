import { entryOfEnvelope, envelopeText, UnserialisableValue, type Envelope } from './json-envelope.js'
import { phaseOf, Phase, type Entry } from './freshness.js'
import { callerKeyOf, storeKeyOf } from './keys.js'
import { isRecord } from './options.js'
import { estimateSize } from '../stores/memory/index.js'

/**
 * One in-memory entry as it can leave the process (in a cold-start snapshot): the caller's key and
 * the entry's envelope, whose times are on the wall clock, so that another process restores it
 * with the freshness it had. Plain JSON.
 */
export interface PortableEntry {
  readonly key: string
  readonly envelope: Envelope
}

/** An entry brought back, under the key memory keeps it by. */
export interface RestoredEntry<V> {
  readonly storeKey: string
  readonly entry: Entry<V>
}

/**
 * The portable form of an entry; undefined for one that cannot travel: stored under a hashed key (the
 * caller's key is gone), already past staleIfError, or holding a value JSON would not bring back as it was.
 */
const portableEntryOf = (storeKey: string, entry: Entry<unknown>, monoNow: number, wallNow: number): PortableEntry | undefined => {
  const key = callerKeyOf(storeKey)
  if (key === undefined || phaseOf(entry, monoNow) === Phase.Expired) return undefined
  let text: string
  try {
    text = envelopeText(entry, monoNow, wallNow)
  } catch (error) {
    if (error instanceof UnserialisableValue) return undefined
    throw error
  }
  // Our own text: parsed back into plain JSON, which also leaves the snapshot no reference to a live value.
  return { key, envelope: JSON.parse(text) as Envelope }
}

/** The portable form of every entry that can travel, in the order given. */
export const portableEntriesOf = (entries: Iterable<readonly [string, Entry<unknown>]>, monoNow: number, wallNow: number): PortableEntry[] => {
  const records: PortableEntry[] = []
  for (const [storeKey, entry] of entries) {
    const record = portableEntryOf(storeKey, entry, monoNow, wallNow)
    if (record !== undefined) records.push(record)
  }
  return records
}

/**
 * The entry a record (from `portableEntryOf`, read back from JSON by anyone) describes, its times on
 * the monotonic clock read as `monoNow`; undefined for a malformed record or an entry past staleIfError.
 */
export const restoredEntryOf = <V>(record: unknown, monoNow: number, wallNow: number): RestoredEntry<V> | undefined => {
  if (!isRecord(record) || typeof record.key !== 'string') return undefined
  const storeKey = storeKeyOf(record.key)
  const decoded = entryOfEnvelope<V>(record.envelope, monoNow, wallNow, 0)
  if (decoded === undefined || phaseOf(decoded, monoNow) === Phase.Expired) return undefined
  return { storeKey, entry: { ...decoded, size: estimateSize(decoded.value) + storeKey.length * 2 } }
}
