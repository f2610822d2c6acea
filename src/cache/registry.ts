import type { Cache } from './cache.js'
import { CacheOptionsError } from './errors.js'
import { processWide } from './process-state.js'

/** What a cache holds, which decides where its values may go. */
export const CacheKind = {
  Config: 'config',
  Secrets: 'secrets',
  Data: 'data',
} as const
export type CacheKind = (typeof CacheKind)[keyof typeof CacheKind]

export interface CacheRegistration {
  readonly cache: Cache<unknown>
  readonly kind: CacheKind
  /** Values that must stay in memory: never written to a shared tier, a snapshot or a log. */
  readonly secret: boolean
  /**
   * 'principal': each value belongs to one caller (dataCache with `scope: 'principal'`), so the
   * cache is never written to nor restored from a snapshot. Default 'shared'.
   */
  readonly scope?: 'shared' | 'principal'
}

/**
 * Every cache the middlewares created in this process, so that warm-up, metrics and snapshots
 * reach them whatever the order of the chain. One per process, whichever copy of the package made the cache.
 */
const registrations = processWide('caches', () => new Set<CacheRegistration>())

/** Adds a cache to the registry; returns the function that removes it again. Refuses a secret cache with a shared tier. */
export const registerCache = (registration: CacheRegistration): (() => void) => {
  if (registration.secret && registration.cache.shared) {
    throw new CacheOptionsError('l2', `cannot be used by cache "${registration.cache.name}": its values are secrets, which stay in memory`)
  }
  registrations.add(registration)
  return () => {
    registrations.delete(registration)
  }
}

export const registeredCaches = (): readonly CacheRegistration[] => [...registrations]
