import type { L2Store } from '../stores/l2-store.js'
import type { TierHost, TieredStore } from './shared-tier.js'

const isTieredStore = (store: L2Store): store is TieredStore => typeof (store as Partial<TieredStore>).sharedTier === 'function'

/**
 * `store` with a cache's keys (and namespace version) under `<cache name><suffix>` instead of the
 * name alone: for a cache whose keys mean something else than those of another cache of that name,
 * which may share the store from another function. Not a store `createCache` accepts: as it is.
 */
export const storeApart = <S extends L2Store | undefined>(store: S, suffix: string): S => {
  if (store === undefined || !isTieredStore(store)) return store
  const sharedTier = <V>(host: TierHost<V>) => store.sharedTier<V>({ ...host, cacheName: `${host.cacheName}${suffix}` })
  return Object.create(store, { sharedTier: { value: sharedTier } }) as S
}
