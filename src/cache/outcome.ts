/** What a get ended with. */
export const Outcome = {
  /** A fresh value was served. */
  Hit: 'hit',
  /** No usable value was cached: the get waited for a load. */
  Miss: 'miss',
  /** A stale value inside `staleWhileRevalidate` was served while a refresh runs beside the caller. */
  Stale: 'stale',
  /** The load failed or timed out and a stale value inside `staleIfError` was served instead. */
  StaleOnError: 'stale-on-error',
  /** The load failed or timed out and nothing could stand in: the get threw. */
  Error: 'error',
} as const
export type Outcome = (typeof Outcome)[keyof typeof Outcome]

/** Where a value came from. */
export const Tier = {
  L1: 'l1',
  L2: 'l2',
  Source: 'source',
} as const
export type Tier = (typeof Tier)[keyof typeof Tier]

/** A get's value with how it was obtained. */
export interface Lookup<V> {
  readonly value: V
  readonly outcome: Outcome
  readonly tier: Tier
}
