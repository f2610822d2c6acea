import type { L2Store } from '../stores/l2-store.js'
import type { Logger } from './options.js'

/** The kinds of misconfiguration already warned of, per store: caches that share a store share its warnings. */
const warnedByStore = new WeakMap<L2Store, Set<string>>()

/**
 * Warns through `logger` when `error` says `store` is set up wrong: once per store and kind, since
 * every operation meets it, and a deployment that only counts `l2Errors` and opens the circuit
 * would otherwise never say why.
 */
export const warnIfMisconfigured = (store: L2Store, error: unknown, cacheName: string, logger: Logger): void => {
  const misconfiguration = store.misconfiguration?.(error)
  if (misconfiguration === undefined) return
  let warned = warnedByStore.get(store)
  if (warned === undefined) {
    warned = new Set()
    warnedByStore.set(store, warned)
  }
  if (warned.has(misconfiguration.kind)) return
  warned.add(misconfiguration.kind)
  logger.warn(
    `middy-cache: cache "${cacheName}" cannot use its shared tier: ${misconfiguration.advice}. Until then every L2 operation fails (counted in l2Errors) and the values come from the loader (warned once per store)`,
  )
}
