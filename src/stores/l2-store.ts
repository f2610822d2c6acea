/** How the engine uses a shared tier; resolved once by the store's factory (`resolveL2Settings`). */
export interface L2Settings {
  /** Longest an operation may take before it counts as failed and is skipped. */
  readonly timeoutMs: number
  /** Consecutive failures that open the circuit, and how long it stays open before one probe. */
  readonly breaker: { readonly failures: number; readonly coolDownMs: number }
  /** The stampede lease across environments; undefined when turned off. */
  readonly lease: { readonly ttlMs: number; readonly waitMs: number } | undefined
  /** Least time between two reads of a cache's namespace version (which `clear()` moves on). */
  readonly versionCheckMs: number
  /** Payloads above this many bytes are compressed. */
  readonly compressAboveBytes: number
  /** Payloads above this many bytes are not written (they stay in L1 only, counted). */
  readonly maxPayloadBytes: number
}

/** What an attempt to take a lease found. */
export interface LeaseAttempt {
  readonly acquired: boolean
  /** The value under the key, read after the attempt (a holder writes before it releases). */
  readonly payload: Uint8Array | undefined
}

/** What a look at a key's lease found: the lease is not taken. */
export interface LeaseState {
  /** Whether an environment holds the lease (it has not expired, nor been given back): its holder may still write the value. */
  readonly held: boolean
  /** The value under the key, read with the lease. */
  readonly payload: Uint8Array | undefined
}

/** One write of `writeMany`: a payload stored as `set` stores it, or none, which removes the key as `delete` does. */
export type L2Write =
  | { readonly key: string; readonly payload: Uint8Array; readonly ttlMs: number }
  | { readonly key: string; readonly payload: undefined }

/** A failure that says a store is set up wrong, which every operation meets until someone fixes it. */
export interface StoreMisconfiguration {
  /** What went wrong, in a word (the error's name, say): the engine warns once per store and kind. */
  readonly kind: string
  /** What is wrong and what to fix, for whoever deploys the function; names no key and no value. */
  readonly advice: string
}

/**
 * A shared tier (L2) as the engine drives it: raw bytes under string keys, a lease, a counter.
 * Drivers only move bytes; the engine decides freshness, leases, timeouts and the circuit breaker.
 * `signal` aborts when the engine stops waiting (timeout); drivers pass it on where they can.
 * A cache's `l2` takes the stores `redisStore(...)` and `dynamoStore(...)` make: they bring the
 * engine's shared-tier code with them (`TieredStore`), so a function without L2 bundles none of it.
 */
export interface L2Store {
  /** Names the store in messages: 'redis', 'dynamodb'. */
  readonly kind: string
  readonly settings: L2Settings
  /**
   * The value under `key`; undefined when there is none, and when the key holds something this store
   * never writes there (another type: another program's data). Such a key is a miss, not a failure,
   * and `set` replaces it.
   */
  get(key: string, signal: AbortSignal): Promise<Uint8Array | undefined>
  /** Values of `keys`, aligned with them, each read as `get` reads it; a key the store could not read is undefined. */
  getMany(keys: readonly string[], signal: AbortSignal): Promise<(Uint8Array | undefined)[]>
  /** Stores `payload`, gone from the store after `ttlMs`. */
  set(key: string, payload: Uint8Array, ttlMs: number, signal: AbortSignal): Promise<void>
  delete(key: string, signal: AbortSignal): Promise<void>
  /**
   * Makes `writes` as `set` and `delete` make each (a key written twice gets its last): for a store
   * that pays a round trip per write and makes many in one (DynamoDB), so that the values a batch
   * loaded go out in fewer requests, and fewer at once. Rejects when any of it fails, the others
   * perhaps made. Without it, a batch writes its values one by one.
   */
  writeMany?(writes: readonly L2Write[], signal: AbortSignal): Promise<void>
  /**
   * Makes `writes` as `writeMany` does, in a request each, a bounded number at once: what the engine
   * falls back to while the store refuses `writeMany` (a DynamoDB role without
   * dynamodb:BatchWriteItem, granted the per-item actions). A store with `writeMany` has it too.
   */
  writeEach?(writes: readonly L2Write[], signal: AbortSignal): Promise<void>
  /** Takes the lease on `key` for `ttlMs` unless another holder has it, then reads `key` as `get` does. */
  acquireLease(key: string, token: string, ttlMs: number, signal: AbortSignal): Promise<LeaseAttempt>
  /**
   * Takes the leases of `keys` under one `token` as `acquireLease` takes each, and reports each,
   * aligned with `keys`, in one operation: so that a batch's misses make fewer requests, and fewer at
   * once, in a store that pays a round trip per lease and reads many keys in one (DynamoDB), and
   * share one round trip and one timeout in one that sends them all before any answer (Redis).
   * Rejects, having given back the leases it took, when any of it fails. A store with it has a
   * getMany's misses read, leased and written as a batch even without `loadMany`; without it, a
   * batch takes the leases one by one.
   */
  acquireLeases?(keys: readonly string[], token: string, ttlMs: number, signal: AbortSignal): Promise<LeaseAttempt[]>
  /**
   * The value under `key` and whether its lease is held, both read as a lease attempt reads them (consistently), taking nothing: how
   * an environment polls while another holds the lease, without a write each time (a conditional
   * put that fails is a write DynamoDB charges; SET NX is one Redis makes). Without it, each poll
   * tries to take the lease.
   */
  peekLease?(key: string, signal: AbortSignal): Promise<LeaseState>
  /** Gives up the lease on `key` if `token` still holds it. */
  releaseLease(key: string, token: string, signal: AbortSignal): Promise<void>
  /**
   * Gives up the leases on `keys` that `token` still holds, as `releaseLease` gives up each, a bounded
   * number at once; every one is tried, then it rejects with the first failure. For the store that
   * takes leases with `acquireLeases`: a batch's leases go back in one operation, under one timeout.
   */
  releaseLeases?(keys: readonly string[], token: string, signal: AbortSignal): Promise<void>
  /**
   * The counter under `key`; 0 when it was never incremented; NaN when the key holds something that
   * is no number (another program's value or type): the store answered, so it is no failure.
   */
  readCounter(key: string, signal: AbortSignal): Promise<number>
  /**
   * The counter under `key` moved on by one, from 0 when there is none. A key that holds no counter
   * (another program's value or type) is replaced by a counter at `restartAt`, which is returned.
   */
  incrementCounter(key: string, restartAt: number, signal: AbortSignal): Promise<number>
  /**
   * Operations went unanswered for the tier's timeout while the process ran, often enough to open
   * the circuit: a connection that looks open may be dead (a failover, a lost NAT mapping, which
   * no packet announces), and the store may replace it before the next probe.
   */
  unanswered?(): void
  /**
   * Tells a failure that comes from how the store is set up (a table that does not exist, say) from
   * one of the moment (a timeout, a throttled call): what to fix, or undefined. Asked of refusals
   * too (a replica's, an ACL user's), whose warning then says what to fix.
   */
  misconfiguration?(error: unknown): StoreMisconfiguration | undefined
  /**
   * What the store said if `error`, which an operation failed with, is its refusal of that kind of
   * operation while it serves the others (Redis out of memory refuses writes, not reads): the
   * engine then skips that kind for a while instead of paying a round trip for it on every miss.
   * Undefined for any other failure (an outage, a timeout), which the circuit breaker judges.
   */
  refusal?(error: unknown): string | undefined
  /** Closes what the store opened (a connection it created); for scripts and tests, never needed in a function. */
  close(): Promise<void>
}
