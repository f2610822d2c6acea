/** How long entries live, in milliseconds; resolved once from the options. */
export interface FreshnessPolicy {
  readonly ttlMs: number
  readonly staleWhileRevalidateMs: number
  readonly staleIfErrorMs: number
  readonly negativeTtlMs: number
  /** Fraction by which each entry's ttl is shortened at random, in [0, 1). */
  readonly jitter: number
}

/** A cached value with the moments, on the cache's monotonic clock, at which it changes phase. */
export interface Entry<V> {
  readonly value: V
  readonly createdAt: number
  readonly freshUntil: number
  readonly revalidateUntil: number
  readonly fallbackUntil: number
  /** Approximate bytes held, key included. */
  readonly size: number
}

/** The phases an entry moves through. `phaseOf` is the only place that decides which one applies. */
export const Phase = {
  /** Serve it. */
  Fresh: 'fresh',
  /** Serve it now and refresh it beside the caller (stale-while-revalidate). */
  Revalidate: 'revalidate',
  /** Load; if the load fails or times out, serve it (stale-if-error; the timeout is soft). */
  Fallback: 'fallback',
  /** Load; if the load fails or times out, throw (the timeout is hard). */
  Expired: 'expired',
} as const
export type Phase = (typeof Phase)[keyof typeof Phase]

export const phaseOf = (entry: Entry<unknown> | undefined, now: number): Phase => {
  if (entry === undefined) return Phase.Expired
  if (now < entry.freshUntil) return Phase.Fresh
  if (now < entry.revalidateUntil) return Phase.Revalidate
  if (now < entry.fallbackUntil) return Phase.Fallback
  return Phase.Expired
}

/** Whether `entry` may still stand in for a load that failed at `now`. */
export const canFallBack = <V>(entry: Entry<V> | undefined, now: number): entry is Entry<V> =>
  entry !== undefined && now < entry.fallbackUntil

/**
 * Builds an entry created at `now`. "Not found" (undefined) lives `negativeTtl` and is never served
 * stale: a value that did not exist is no fallback.
 */
export const createEntry = <V>(value: V, now: number, policy: FreshnessPolicy, size: number): Entry<V> => {
  if (value === undefined) {
    const freshUntil = now + policy.negativeTtlMs
    return { value, createdAt: now, freshUntil, revalidateUntil: freshUntil, fallbackUntil: freshUntil, size }
  }
  const ttlMs = policy.jitter === 0 ? policy.ttlMs : policy.ttlMs * (1 - policy.jitter * Math.random())
  const freshUntil = now + ttlMs
  return {
    value,
    createdAt: now,
    freshUntil,
    revalidateUntil: freshUntil + policy.staleWhileRevalidateMs,
    fallbackUntil: freshUntil + policy.staleIfErrorMs,
    size,
  }
}
