import type { L2Store, StoreMisconfiguration } from '../stores/l2-store.js'
import type { Logger } from './options.js'

/** The kinds of misconfiguration already told of, per store: caches that share a store share what it told. */
const toldByStore = new WeakMap<L2Store, Set<string>>()

/**
 * What `error` says is wrong with how `store` is set up, the first time for its kind on this store;
 * undefined when it says nothing of the kind, or was told already: every operation meets it, and a
 * warning repeated for each would bury the others.
 */
export const newMisconfiguration = (store: L2Store, error: unknown): StoreMisconfiguration | undefined => {
  const misconfiguration = store.misconfiguration?.(error)
  if (misconfiguration === undefined) return undefined
  let told = toldByStore.get(store)
  if (told === undefined) {
    told = new Set()
    toldByStore.set(store, told)
  }
  if (told.has(misconfiguration.kind)) return undefined
  told.add(misconfiguration.kind)
  return misconfiguration
}

/**
 * Warns through `logger` when `error` says `store` is set up wrong: once per store and kind, since
 * a deployment that only counts `l2Errors` and opens the circuit would otherwise never say why.
 */
export const warnIfMisconfigured = (store: L2Store, error: unknown, cacheName: string, logger: Logger): void => {
  const misconfiguration = newMisconfiguration(store, error)
  if (misconfiguration === undefined) return
  logger.warn(
    `middy-cache: cache "${cacheName}" cannot use its shared tier: ${misconfiguration.advice}. Until then every L2 operation fails (counted in l2Errors) and the values come from the loader (warned once per store)`,
  )
}
