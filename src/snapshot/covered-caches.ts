import type { Cache } from '../cache/cache.js'
import { isRecord } from '../cache/options.js'
import { registeredCaches, type CacheRegistration } from '../cache/registry.js'
import type { ReadSnapshot } from './codec.js'
import { sameWindows, windowsOf, type PolicyWindows } from './policy-windows.js'
import { exportPortableEntries, restorePortableEntries, type MeasuredEntry } from './portable-entry.js'

/**
 * Whether an entry of a covered cache may be written, or restored: the middleware keeps per-user
 * and decrypted values out both ways, so that no such value is served from S3 (planted there, or
 * written by another program) in place of its source's.
 */
export type EntryFilter = (registration: CacheRegistration, key: string) => boolean

/**
 * The registered caches named in `names`, read at the moment of asking (a cache may be created after
 * the snapshot's middleware), never one registered as secret or as principal-scoped: those are
 * neither written nor restored, whatever their keys look like.
 */
export const coveredCaches = (names: readonly string[]): CacheRegistration[] =>
  registeredCaches().filter((registration) => !registration.secret && registration.scope !== 'principal' && names.includes(registration.cache.name))

/** Told of an entry of the cache `cache` left out for what JSON would change in its value. */
export type Unportable = (cache: string, key: string, reason: string) => void

/** What may be written of each covered cache, by name (caches that share a name share a list). */
export const collectEntries = (registrations: readonly CacheRegistration[], keep: EntryFilter, unportable: Unportable): Map<string, MeasuredEntry[]> => {
  const entries = new Map<string, MeasuredEntry[]>()
  for (const registration of registrations) {
    const { name } = registration.cache
    const kept = exportPortableEntries(registration.cache, {
      keep: (key) => keep(registration, key),
      unportable: (key, reason) => { unportable(name, key, reason) },
    })
    entries.set(name, [...(entries.get(name) ?? []), ...kept])
  }
  return entries
}

/**
 * What `valueOf` gives each covered cache, by name; none for a name one of whose caches has none, or
 * whose caches disagree (`same`): their shared list of entries has no one value.
 */
const agreedByName = <T>(registrations: readonly CacheRegistration[], valueOf: (cache: Cache<unknown>) => T | undefined, same: (known: T, value: T) => boolean): Map<string, T> => {
  const agreed = new Map<string, T>()
  const disagreeing = new Set<string>()
  for (const { cache } of registrations) {
    if (disagreeing.has(cache.name)) continue
    const value = valueOf(cache)
    const known = agreed.get(cache.name)
    if (value !== undefined && (known === undefined || same(known, value))) {
      agreed.set(cache.name, value)
    } else {
      agreed.delete(cache.name)
      disagreeing.add(cache.name)
    }
  }
  return agreed
}

/** The windows each covered cache's options give, by name; none for a name whose caches disagree. */
export const collectPolicies = (registrations: readonly CacheRegistration[]): Map<string, PolicyWindows> =>
  agreedByName(registrations, (cache) => windowsOf(cache.policy), sameWindows)

/** The namespace version each covered cache's entries belong to, by name; none for a cache without one known (or without L2), or whose caches disagree. */
export const collectNamespaceVersions = (registrations: readonly CacheRegistration[]): Map<string, number> =>
  agreedByName(registrations, (cache) => cache.namespaceVersion, (known, version) => known === version)

/** A namespace version as a snapshot holds it (unchecked): undefined for anything but a safe integer. */
const namespaceVersionOf = (written: unknown): number | undefined => (typeof written === 'number' && Number.isSafeInteger(written) ? written : undefined)

/** The records (unchecked) whose key `keep` lets into `registration`'s cache. */
const admitted = (registration: CacheRegistration, records: readonly unknown[], keep: EntryFilter): unknown[] =>
  records.filter((record) => isRecord(record) && typeof record.key === 'string' && keep(registration, record.key))

/**
 * Puts a snapshot's records back into the covered caches, those `keep` admits; how many each name
 * took (0 for one the snapshot lacks). Entries keep the freshness they had only when the writer's
 * cache had the windows this one has; otherwise (a deploy changed the options, or the snapshot does
 * not say) no window of theirs outlasts this cache's own. A cache with L2 takes them only under the
 * namespace version the snapshot records for them (see `Cache.adoptEntries`).
 */
export const restoreEntries = (registrations: readonly CacheRegistration[], snapshot: ReadSnapshot | undefined, keep: EntryFilter): Map<string, number> => {
  const restored = new Map<string, number>()
  for (const registration of registrations) {
    const { cache } = registration
    const records = snapshot?.caches.get(cache.name)
    const cap = sameWindows(snapshot?.policies.get(cache.name), cache.policy) ? undefined : cache.policy
    const namespaceVersion = namespaceVersionOf(snapshot?.namespaceVersions.get(cache.name))
    restored.set(cache.name, (restored.get(cache.name) ?? 0) + (records === undefined ? 0 : restorePortableEntries(cache, admitted(registration, records, keep), { cap, namespaceVersion })))
  }
  return restored
}

const never = new Promise<never>(() => undefined)

/**
 * Resolves true once every covered cache has what it loads by itself (its prefetch at INIT) without
 * the snapshot: each holds values or is loading some, and all its loads now running succeed.
 * Otherwise never: a cache that holds and loads nothing (it loads nothing by itself), or a load that
 * fails, still needs the snapshot.
 */
export const loadedWithoutSnapshot = (registrations: readonly CacheRegistration[]): Promise<true> => {
  if (registrations.length === 0) return never
  if (registrations.some(({ cache }) => {
    const { entries, inFlight } = cache.stats()
    return entries === 0 && inFlight === 0
  })) return never
  return Promise.all(registrations.map(({ cache }) => cache.whenLoaded())).then((loaded) => (loaded.every(Boolean) ? true : never))
}
