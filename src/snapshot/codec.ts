import { promisify } from 'node:util'
import { gunzip, gzip } from 'node:zlib'
import { isMilliseconds } from '../cache/duration.js'
import { CacheError } from '../cache/errors.js'
import { isRecord } from '../cache/options.js'
import { parseJsonSafely } from '../cache/safe-json.js'
import type { PolicyWindows } from './policy-windows.js'
import type { PortableEntry } from './portable-entry.js'

const gzipAsync = promisify(gzip)
const gunzipAsync = promisify(gunzip)

/**
 * Marks a document as a snapshot of this layout; another layout reads as unreadable. `policies` and
 * `namespaceVersions` came later without a new mark: an older reader ignores them, and a snapshot
 * without them still reads.
 */
const format = 'middy-cache-snapshot/1'

/**
 * The most a snapshot's JSON may take, in bytes, written or read (inflated, or still compressed).
 * Parsing it is synchronous work the first invocation waits for past `timeout`, which bounds only
 * the wait for S3, and JSON.parse takes about 4-10 ms per MiB. A covered cache at its default
 * `l1.maxEntries` (10,000) of typical records (a product of ~200 bytes of JSON) takes about 2.5 MiB:
 * 8 MiB leaves room for three such caches and keeps the parse within tens of ms.
 */
export const maxSnapshotBytes = 8 * 1024 * 1024

/** What a snapshot holds: per cache, the entries memory held, with wall-clock times. */
export interface SnapshotContent {
  /** The `version` option of the environment that wrote it. */
  readonly version: string
  /** When it was written, ms since the epoch. */
  readonly createdAt: number
  /**
   * Per cache, the windows its options gave entries. Left out for a cache whose instances disagreed,
   * and by writers older than this field: a reader then holds the entries to its own options.
   */
  readonly policies?: ReadonlyMap<string, PolicyWindows>
  /**
   * Per cache with a shared tier, the namespace version its entries belong to (`clear()` moves it on
   * in L2). Left out for a cache that knew none, or whose instances disagreed, and by writers older
   * than this field: a reader with a shared tier then restores none of its entries.
   */
  readonly namespaceVersions?: ReadonlyMap<string, number>
  readonly caches: ReadonlyMap<string, readonly PortableEntry[]>
}

/** A snapshot read back: its records are still unchecked, each is checked as it is restored. */
export interface ReadSnapshot {
  readonly version: string
  readonly createdAt: number
  /** Unchecked too: `sameWindows` tells a policy that matches from anything else. */
  readonly policies: ReadonlyMap<string, unknown>
  /** Unchecked too: a version is a safe integer. */
  readonly namespaceVersions: ReadonlyMap<string, unknown>
  readonly caches: ReadonlyMap<string, readonly unknown[]>
}

const documentText = ({ version, createdAt, policies, namespaceVersions, caches }: SnapshotContent): string =>
  JSON.stringify({
    format,
    version,
    createdAt,
    ...(policies === undefined ? {} : { policies: Object.fromEntries(policies) }),
    ...(namespaceVersions === undefined ? {} : { namespaceVersions: Object.fromEntries(namespaceVersions) }),
    caches: Object.fromEntries(caches),
  })

/**
 * How many bytes of records a snapshot of the caches `names` may hold: `maxSnapshotBytes` less the
 * JSON around them (`frame`, and each cache's empty list). A record takes its own JSON and a comma.
 */
export const recordBudgetBytes = (frame: Omit<SnapshotContent, 'caches'>, names: Iterable<string>): number =>
  maxSnapshotBytes - Buffer.byteLength(documentText({ ...frame, caches: new Map([...names].map((name) => [name, []])) }))

/**
 * The object's body: gzipped JSON, `{"format":"middy-cache-snapshot/1","version":"v1","createdAt":ms,
 * "policies":{"products":{"ttlMs":300000,...}},"namespaceVersions":{"products":3},
 * "caches":{"products":[{"key":"42","envelope":{...}}]}}`.
 * Compressed off the main thread (zlib's pool), so a large snapshot does not stall concurrent work.
 * Rejects with a CacheError when the JSON passes `maxSnapshotBytes`: no reader would take it.
 */
export const encodeSnapshot = async (content: SnapshotContent): Promise<Buffer> => {
  const json = Buffer.from(documentText(content))
  if (json.length > maxSnapshotBytes) {
    throw new CacheError(`middy-cache: the snapshot would take ${json.length} bytes, more than the ${maxSnapshotBytes} a reader takes; cover fewer caches, or lower their l1.maxEntries`)
  }
  return gzipAsync(json)
}

/**
 * The snapshot a body holds; undefined for anything else (corrupt or truncated gzip, which fails its
 * CRC or ends early; a body inflating past `maxSnapshotBytes`; JSON that is malformed, poisoned with `__proto__`,
 * or of another layout). Never rejects.
 */
export const decodeSnapshot = async (body: Uint8Array): Promise<ReadSnapshot | undefined> => {
  let text: string
  try {
    text = (await gunzipAsync(body, { maxOutputLength: maxSnapshotBytes })).toString('utf8')
  } catch {
    return undefined
  }
  const document = parseJsonSafely(text)
  if (!isRecord(document) || document.format !== format || typeof document.version !== 'string' || !isMilliseconds(document.createdAt)) return undefined
  if (!isRecord(document.caches)) return undefined
  const caches = new Map<string, readonly unknown[]>()
  for (const [name, records] of Object.entries(document.caches)) {
    if (!Array.isArray(records)) return undefined
    caches.set(name, records as unknown[])
  }
  // Malformed policies spoil no entry: each cache is then held to the reader's options. Malformed
  // namespace versions are versions unknown: a cache with a shared tier then restores nothing.
  const policies = new Map(isRecord(document.policies) ? Object.entries(document.policies) : [])
  const namespaceVersions = new Map(isRecord(document.namespaceVersions) ? Object.entries(document.namespaceVersions) : [])
  return { version: document.version, createdAt: document.createdAt, policies, namespaceVersions, caches }
}
