import type { Entry, FreshnessPolicy } from '../cache/freshness.js'
import { isRecord } from '../cache/options.js'

/**
 * The windows a cache's own options give its entries, which a snapshot records for each cache it
 * holds. The snapshot's key changes only with the function version, and a function invoked
 * unqualified runs every deploy as `$LATEST`: a reader whose cache has other windows (a deploy
 * changed its options) holds each restored entry to its own windows, since the writer's per-entry
 * freshness (a parameter's own ttl, a loader's setFreshness) was set under options no longer in force.
 */
export type PolicyWindows = Pick<FreshnessPolicy, 'ttlMs' | 'staleWhileRevalidateMs' | 'staleIfErrorMs' | 'negativeTtlMs'>

const windowNames = ['ttlMs', 'staleWhileRevalidateMs', 'staleIfErrorMs', 'negativeTtlMs'] as const satisfies readonly (keyof PolicyWindows)[]

export const windowsOf = (policy: FreshnessPolicy): PolicyWindows => ({
  ttlMs: policy.ttlMs,
  staleWhileRevalidateMs: policy.staleWhileRevalidateMs,
  staleIfErrorMs: policy.staleIfErrorMs,
  negativeTtlMs: policy.negativeTtlMs,
})

/** Whether `written` (as a snapshot holds it, unchecked) has every window of `policy`; false when the snapshot recorded none. */
export const sameWindows = (written: unknown, policy: PolicyWindows): boolean =>
  isRecord(written) && windowNames.every((name) => written[name] === policy[name])

/** `entry` with no window longer than `policy` gives one: "not found" is held to `negativeTtl`, a value to the other three. */
export const cappedEntry = <V>(entry: Entry<V>, policy: FreshnessPolicy): Entry<V> => {
  if (entry.value === undefined) {
    const freshUntil = Math.min(entry.freshUntil, entry.createdAt + policy.negativeTtlMs)
    return { ...entry, freshUntil, revalidateUntil: freshUntil, fallbackUntil: freshUntil }
  }
  const freshUntil = Math.min(entry.freshUntil, entry.createdAt + policy.ttlMs)
  return {
    ...entry,
    freshUntil,
    revalidateUntil: freshUntil + Math.min(entry.revalidateUntil - entry.freshUntil, policy.staleWhileRevalidateMs),
    fallbackUntil: freshUntil + Math.min(entry.fallbackUntil - entry.freshUntil, policy.staleIfErrorMs),
  }
}
