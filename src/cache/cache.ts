import { settleFlights, unlessAborted, type SettleReport } from './background.js'
import type { CircuitState } from './breaker.js'
import { leftRunningAcrossFreeze, type Clock } from './clock.js'
import { CacheCounters, Tally } from './counters.js'
import { batchSubject, loadManyError, valuesOfBatch } from './batch.js'
import { checkCallOptions, freshnessCall, getOptionsError, refreshAheadCall, setCall } from './call-options.js'
import { CacheError, CacheLoadError, CacheTimeoutError, keyTypeError } from './errors.js'
import { settleAtMost } from './concurrency.js'
import { failedByAbandon, Flight, timedOut } from './flight.js'
import { freezeShared, type Frozen } from './freeze.js'
import { canFallBack, createEntry, Phase, phaseOf, type Entry, type FreshnessPolicy } from './freshness.js'
import { callerKeyOf, storeKeyOf } from './keys.js'
import { ignore, policyWith, resolveCacheOptions, type BatchLoadContext, type BatchLoader, type CacheOptions, type EntryFreshness, type ResolvedOptions } from './options.js'
import { Outcome, Tier, type Lookup } from './outcome.js'
import { markPrefetchCounted } from './prefetch-counts.js'
import { CacheScope } from './scope.js'
// Types only: the shared tier's code comes with the L2 store (`TieredStore`), never from here.
import type { BatchClaims, BatchLoaded, SharedTier, TierSession } from './shared-tier.js'
import { estimateSize, MemoryStore, type MemoryStoreBounds } from '../stores/memory/index.js'

export interface GetOptions {
  /** The invocation this call belongs to: its counters and the loads it leaves running are kept there. */
  readonly scope?: CacheScope
}

/** Freshness for one entry written with `set`, overriding the cache's options. */
export interface SetOptions extends EntryFreshness, GetOptions {}

export interface RefreshAheadOptions extends GetOptions {
  /** The caller's deadline: once it aborts, no reload starts, since one would outlive the caller. */
  readonly signal?: AbortSignal
  /**
   * With a shared tier, how long before this refresh the others of its round (a warm-up ping fanned
   * out to many environments) may have begun: a copy in L2 one of them loaded up to this long before
   * this refresh began serves as a reload here would. Default 0.
   */
  readonly roundMs?: number
}

/** What a refresh ahead came to. */
export interface RefreshReport {
  /** Entries reloaded. */
  readonly refreshed: number
  /** Entries whose reload failed; their last good value is kept. */
  readonly failed: number
}

/** An entry a refresh ahead reloads, and how long a copy of it in L2 must stay fresh to serve instead. */
interface DueEntry extends Miss {
  readonly freshBeyond: number
}

/** A loaded value with the freshness it is stored with. */
interface Loaded<V> {
  readonly value: V
  readonly policy: FreshnessPolicy
}

/** What a flight came back with, and the entry L1 keeps for it (undefined: "not found", not remembered). */
export interface Fetched<V> {
  readonly value: V
  readonly entry: Entry<V> | undefined
  readonly outcome: Outcome
  readonly tier: Tier
  /** An L2 operation of the flight outlasted the store's timeout: every caller that waited for the flight waited that out too. */
  readonly l2TimedOut?: true
}

export interface FlightControl {
  readonly signal: AbortSignal
  /** False once the flight was abandoned or superseded by `set`/`delete`/`clear`: its result is not stored. */
  readonly isCurrent: () => boolean
}

/**
 * What a flight may take from L2 before it loads. `usable`: for callers with nothing to serve, a
 * fresh value or a stale one within staleWhileRevalidate (refreshed beside them). `fresh`: for a
 * refresh of a stale value already served, only a fresh value, written by another environment.
 * `skip`: no read (L2 was just read, or the entry must be reloaded); taking the lease may still
 * find a fresh value.
 */
export type SharedRead = 'usable' | 'fresh' | 'skip'

export interface Miss {
  readonly key: string
  readonly storeKey: string
  readonly read: SharedRead
}

export interface CacheStats {
  readonly name: string
  readonly entries: number
  readonly bytes: number
  readonly evictions: number
  readonly inFlight: number
  readonly hits: number
  readonly l2Hits: number
  readonly l2Misses: number
  readonly l2Errors: number
  readonly l2TimeMs: number
  readonly l2Operations: number
  readonly l2Skipped: number
  /** The shared tier's circuit; undefined without one. */
  readonly l2Circuit: CircuitState | undefined
  readonly misses: number
  readonly staleServed: number
  readonly staleOnError: number
  readonly errors: number
  readonly loads: number
  readonly loadErrors: number
  readonly loadTimeouts: number
  readonly notCached: number
  readonly loadTimeMs: number
}

/** A value `getIfFresh` found fresh. */
export interface FreshValue<V> {
  readonly value: V
}

/** An answer of `getManyIfFresh` and how long it holds. */
interface FreshRead<V> {
  readonly keys: readonly string[]
  readonly values: readonly V[]
  /** The memory store's `changes` when it was read. */
  readonly changes: number
  /** The earliest moment one of its entries stops being fresh, or the namespace version is due. */
  readonly freshUntil: number
}

/** What the flights of one `loadMany` call share. */
interface Batch {
  /** Whether a timeout of the call was counted: its keys' flights time out together. */
  timeoutCounted: boolean
  /**
   * The keys that failed with each error: every key of the call when the call failed, else those
   * the loader failed (`fail`) with one error (a request of its own that failed them all), for each
   * key's error to name the others.
   */
  readonly failedTogether: Map<unknown, readonly string[]>
}

/** The leases a batch tried, once it has: how the flights of the keys it left to load finish. */
interface Claimed<V> {
  claims: BatchClaims<V> | undefined
}

const valueOf = <V>(lookup: Lookup<V>): V => lookup.value
/**
 * What a cache hands out from what it keeps, typed as it is: frozen when it was kept (`#entryFor`,
 * or `freezeParsed` for a copy from elsewhere), whether it came from memory or from the load that
 * made the entry, so that a caller that would change it in place fails to compile.
 */
const kept = <V>(value: V): Frozen<V> => value as Frozen<V>
const keptValueOf = <V>(lookup: Lookup<V>): Frozen<V> => kept(lookup.value)
const isArray = (value: unknown): value is readonly unknown[] => Array.isArray(value)
/** A flight whose result is stored nowhere is never current. */
const never = (): boolean => false
const abandonIfUnwanted = (flight: Flight<unknown>): boolean => flight.abandonIfUnwanted()
/** Keys of one cache a refresh ahead loads at once, each a loader call (and, with a shared tier, a lease) of its own. */
const reloadsAtOnce = 8

/**
 * A cache in front of a loader: fresh values from memory, stale ones while they refresh, one load
 * per key however many callers want it, and the last good value kept when the source fails.
 * With `l2`, a shared tier sits between memory and the loader. Freshness is read lazily from a
 * monotonic clock; nothing runs on a timer between calls.
 */
export class Cache<V> {
  readonly name: string
  readonly #options: ResolvedOptions<V>
  readonly #store: MemoryStore<Entry<V>>
  readonly #inFlight = new Map<string, Flight<Fetched<V>>>()
  readonly #lifetime = new CacheCounters()
  readonly #now: () => number
  readonly #tier: SharedTier<V> | undefined
  /** When the namespace version in L2 is next read (it tells that another environment cleared the cache); never without L2. */
  #versionDueAt = Number.POSITIVE_INFINITY
  /**
   * This environment deleted a key or cleared the cache: it adopts no entries made elsewhere from
   * then on, as any of them may be what it forgot, and neither L2 (down, or absent) nor the clocks
   * of two machines can tell which came first.
   */
  #forgotSome = false
  /** The last answer of `getManyIfFresh`; see there. */
  #freshRead: FreshRead<V> | undefined
  /**
   * Stale entries whose refresh failed, and until when the source is not asked again for them. By
   * entry, so a value that replaces one ends its backoff, and a forgotten entry takes its time along.
   */
  readonly #retryAfter = new WeakMap<Entry<V>, number>()
  /** The `loadMany` call each flight of a batch loads with. */
  readonly #batchOf = new WeakMap<Flight<Fetched<V>>, Batch>()
  /**
   * Flights that stopped being their key's load while running: superseded by `set`, `delete` or
   * `clear`, or replaced by a newer load. What the key holds from then on is what the cache was told,
   * so their callers fall back on nothing older (see `#standIn`).
   */
  readonly #retired = new WeakSet<Flight<Fetched<V>>>()
  /**
   * What this cache's prefetches counted that no scope took yet (see `movePrefetchCounts`): one
   * record however many prefetches ran, made by the first.
   */
  #prefetchCounts: CacheCounters | undefined

  constructor(options: CacheOptions<V>) {
    this.#options = resolveCacheOptions(options)
    this.name = this.#options.name
    this.#now = this.#options.now
    this.#store = new MemoryStore(this.#options.bounds)
    this.#tier = this.#options.l2?.sharedTier({
      cacheName: this.name,
      describeKey: this.#options.describeKey,
      now: this.#now,
      logger: this.#options.logger,
      loadTimeoutMs: this.#options.timeoutMs,
      memory: this.#store,
      tally: (scope) => this.#tally(scope),
      load: (key, storeKey, signal, scope) => this.#loadFetched(key, storeKey, signal, scope),
      forget: () => {
        this.#supersedeAll()
        this.#store.clear()
      },
      versionDue: (at) => {
        this.#versionDueAt = at
      },
    })
  }

  /** Whether a shared tier (L2) sits behind memory. */
  get shared(): boolean {
    return this.#tier !== undefined
  }

  /** The value for `key`: cached when fresh, else loaded (or stale, as the freshness options allow). */
  get(key: string, options?: GetOptions): Promise<Frozen<V>> {
    const refused = this.#refusal(key, options)
    if (refused !== undefined) return Promise.reject(refused)
    const storeKey = storeKeyOf(key)
    const entry = this.#store.get(storeKey)
    if (this.#servesFresh(entry, this.#now(), options?.scope)) return Promise.resolve(kept(entry.value))
    return this.#resolve(key, storeKey, entry, options?.scope).then(keptValueOf)
  }

  /**
   * `key`'s value, at once (no promise), when it is fresh in memory, counted as a hit; otherwise
   * undefined, counting nothing: the caller goes on with `get`. The warm path of a middleware that
   * needs one value before the handler.
   */
  getIfFresh(key: string, scope?: CacheScope, now: number = this.#now()): FreshValue<Frozen<V>> | undefined {
    if (typeof key !== 'string') throw keyTypeError(this.name, key)
    const entry = this.#store.get(storeKeyOf(key))
    return this.#servesFresh(entry, now, scope) ? (entry as FreshValue<Frozen<V>>) : undefined
  }

  /** Like `get`, and tells how the value was obtained. */
  lookup(key: string, options?: GetOptions): Promise<Lookup<Frozen<V>>> {
    const refused = this.#refusal(key, options)
    if (refused !== undefined) return Promise.reject(refused)
    const storeKey = storeKeyOf(key)
    return this.#resolve(key, storeKey, this.#store.get(storeKey), options?.scope) as Promise<Lookup<Frozen<V>>>
  }

  /**
   * Values for many keys, in the order given. Misses load together through `loadMany` when the cache
   * has one, else one by one, concurrently; a key asked twice loads once. With `loadMany`, or an L2
   * that takes leases together (Redis, DynamoDB), the misses are read from L2, leased and written back
   * as a batch, else each key as a lone get does. Rejects with the first key that cannot be served.
   */
  async getMany(keys: readonly string[], options?: GetOptions): Promise<Frozen<V>[]> {
    this.#checkKeys(keys, 'getMany', options)
    const scope = options?.scope
    const versionSync = this.#versionSync(scope)
    if (versionSync !== undefined) await versionSync
    if (this.#batchesMisses) this.#startBatch(this.#missesOf(keys), scope)
    return Promise.all(
      keys.map((key) => {
        const storeKey = storeKeyOf(key)
        return this.#resolvePhase(key, storeKey, this.#store.get(storeKey), scope).then(keptValueOf)
      }),
    )
  }

  /**
   * Starts loading the keys of `keys` that are neither fresh nor loading yet, as `getMany` would,
   * and returns at once: a prefetch at INIT, which nobody waits for. A get that comes while such a
   * load runs joins it, and its wait (or scope) then keeps it running. Until then nothing does: it
   * is abandoned once nobody wants it any more, when a new load replaces it (one left running
   * across a freeze), when `set`/`delete`/`clear` supersede it, when a scope that joined it gives
   * up on it, or when `settle` runs out of budget. A failure is dropped: the next get loads again.
   * Its work (loads, their durations and failures, L2 operations) belongs to no invocation: it is
   * counted apart, for the first to take it (`movePrefetchCounts`), and its L2 failures spare the
   * rest of the same prefetch the store, as an invocation's do.
   */
  prefetch(keys: readonly string[]): void {
    this.#checkKeys(keys, 'prefetch')
    const scope = new CacheScope().countInto(this.name, (this.#prefetchCounts ??= new CacheCounters()))
    markPrefetchCounted()
    const start = (): void => {
      // Again after the version check, which counted its L2 read meanwhile.
      markPrefetchCounted()
      const misses = this.#missesOf(keys)
      this.#startBatch(misses, scope)
      for (const { key, storeKey, read } of misses) this.#flightFor(key, storeKey, scope, read).promise.then(markPrefetchCounted, markPrefetchCounted)
    }
    const versionSync = this.#versionSync(scope)
    if (versionSync === undefined) start()
    else versionSync.then(start).catch(ignore)
  }

  /**
   * Moves what this cache's prefetches counted since the last call into `scope`'s counters: each
   * count is taken once. A load still running counts its end (duration, failure) for the next call.
   */
  movePrefetchCounts(scope: CacheScope): void {
    const counts = this.#prefetchCounts
    if (counts !== undefined && !counts.empty) counts.moveTo(scope.countersFor(this.name))
  }

  /** Refuses what a call of `method` for many keys is given: keys that are no array of strings, or options a get-like call refuses. */
  #checkKeys(keys: readonly string[], method: string, options?: GetOptions): void {
    if (!isArray(keys)) throw new CacheError(`middy-cache: cache "${this.name}" ${method} needs an array of string keys`)
    for (const key of keys) if (typeof key !== 'string') throw keyTypeError(this.name, key)
    const refused = getOptionsError(options)
    if (refused !== undefined) throw refused
  }

  /** Why a get-like call for `key` cannot run (a key that is no string, options it refuses); undefined when it can. */
  #refusal(key: string, options: GetOptions | undefined): CacheError | undefined {
    return typeof key === 'string' ? getOptionsError(options) : keyTypeError(this.name, key)
  }

  /**
   * The values for `keys`, in order, when every one is fresh in memory: counted as hits (in `scope`
   * too) and returned synchronously. Otherwise undefined, counting nothing: the caller goes on with
   * `getMany`. The warm path of a middleware that needs all of its values before the handler; `now`,
   * a reading of this cache's `clock` taken moments ago, spares another reading. Its arguments are
   * positional, as `getIfFresh`'s: an options object made on every warm invocation cost about 10 ns
   * a call, 0.02x of bare in `npm run bench -- warm`.
   */
  getManyIfFresh(keys: readonly string[], scope?: CacheScope, now: number = this.#now()): readonly Frozen<V>[] | undefined {
    // The last answer again when asked for the same frozen array of keys, memory has not changed since
    // and none of its entries has aged out: a middleware asks for the same keys on every invocation,
    // and this spares it a lookup per key. Such reads leave the entries' recency as it was.
    const last = this.#freshRead
    const values =
      last !== undefined && last.keys === keys && last.changes === this.#store.changes && now < last.freshUntil ? last.values : this.#readAllFresh(keys, now)
    if (values === undefined) return undefined
    this.#lifetime.hits += keys.length
    scope?.countHits(this.name, keys.length)
    return values as readonly Frozen<V>[]
  }

  /**
   * Whether `values`, an answer of `getManyIfFresh`, would be its answer again at `now`: it was the
   * last, memory has not changed since and none of its entries has aged out. Counted as hits when
   * so. For a caller that keeps what it built from the answer, and then need not compare it.
   */
  stillFresh(values: readonly unknown[], now: number): boolean {
    const last = this.#freshRead
    if (last === undefined || last.values !== values || last.changes !== this.#store.changes || now >= last.freshUntil) return false
    this.#lifetime.hits += values.length
    return true
  }

  /** How the error of `key`'s failed `flight` names it: with the other keys of its `loadMany` call that failed with `error`. */
  #failedLoadSubject(key: string, flight: Flight<Fetched<V>>, error: unknown): string {
    const keys = this.#batchOf.get(flight)?.failedTogether.get(error)
    return keys === undefined ? this.#options.describeKey(key) : batchSubject(key, keys, this.#options.describeKey)
  }

  /** Whether `entry` is fresh at `now`, with no check of the L2 namespace version due; if so, counted as a hit. */
  #servesFresh(entry: Entry<V> | undefined, now: number, scope: CacheScope | undefined): entry is Entry<V> {
    if (entry === undefined || phaseOf(entry, now) !== Phase.Fresh || now >= this.#versionDueAt) return false
    this.#lifetime.hits++
    scope?.countHits(this.name, 1)
    return true
  }

  #readAllFresh(keys: readonly string[], now: number): readonly V[] | undefined {
    if (now >= this.#versionDueAt) return undefined
    const values = new Array<V>(keys.length)
    let freshUntil = this.#versionDueAt
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index]
      if (typeof key !== 'string') throw keyTypeError(this.name, key)
      const entry = this.#store.get(storeKeyOf(key))
      if (entry === undefined || phaseOf(entry, now) !== Phase.Fresh) return undefined
      values[index] = entry.value
      freshUntil = Math.min(freshUntil, entry.freshUntil)
    }
    // Frozen: the same array goes to every caller while it holds, and one that changed it would change what the others read.
    Object.freeze(values)
    // Kept only for keys that cannot change in place: the next call tells them by identity alone, and
    // an array changed since would be answered with the values of the keys it held.
    if (Object.isFrozen(keys)) this.#freshRead = { keys, values, changes: this.#store.changes, freshUntil }
    return values
  }

  /** The monotonic millisecond clock this cache reads freshness from. */
  get clock(): Clock {
    return this.#now
  }

  /** The bounds of its memory (the `l1` option resolved): what a copy from elsewhere need not exceed. */
  get l1Bounds(): MemoryStoreBounds {
    return this.#options.bounds
  }

  /** The freshness its options give an entry that sets none of its own: what a copy from elsewhere is held to when its writer's options are unknown or differ. */
  get policy(): FreshnessPolicy {
    return this.#options.policy
  }

  /**
   * Loads `key` without caching it anywhere (say, per-user data with no user to key it by): one
   * loader call, within `timeout`, counted as not cached. Joins no other load and is joined by none.
   */
  loadUncached(key: string, options?: GetOptions): Promise<V> {
    const refused = this.#refusal(key, options)
    if (refused !== undefined) return Promise.reject(refused)
    const scope = options?.scope
    this.#tally(scope).add('notCached')
    return this.#waitFor(key, undefined, this.#uncachedLoad(key, scope), undefined, scope).then(valueOf)
  }

  /**
   * Loads `keys` as `loadUncached` loads one, and answers their values in the order given: in one
   * `loadMany` call when the cache has one (else a loader call each, concurrently), a key asked twice
   * loaded once. Rejects with the first key that cannot be served.
   */
  async loadManyUncached(keys: readonly string[], options?: GetOptions): Promise<V[]> {
    this.#checkKeys(keys, 'loadManyUncached', options)
    const scope = options?.scope
    const distinct = [...new Set(keys)]
    this.#tally(scope).add('notCached', distinct.length)
    const loadMany = this.#options.loadMany
    // Stored nowhere, a key is its own store key.
    const flights =
      loadMany !== undefined && distinct.length > 1
        ? this.#batchFlights(distinct.map((key): Miss => ({ key, storeKey: key, read: 'skip' })), loadMany, scope, false)
        : new Map(distinct.map((key) => [key, this.#uncachedLoad(key, scope)]))
    return Promise.all(keys.map((key) => this.#waitFor(key, undefined, flights.get(key) as Flight<Fetched<V>>, undefined, scope).then(valueOf)))
  }

  /** `key` loaded alone by a flight cached nowhere. */
  #uncachedLoad(key: string, scope: CacheScope | undefined): Flight<Fetched<V>> {
    return this.#uncachedFlight(scope, async ({ signal }) => ({ value: (await this.#loadOne(key, signal, scope)).value, entry: undefined, outcome: Outcome.Miss, tier: Tier.Source }))
  }

  /** A flight whose result is stored nowhere: nobody joins it, and once its callers stop waiting, nothing keeps it running. */
  #uncachedFlight(scope: CacheScope | undefined, run: (control: FlightControl) => Promise<Fetched<V>>, batch?: Batch): Flight<Fetched<V>> {
    return new Flight((signal) => run({ signal, isCurrent: never }), this.#options.timeoutMs, this.#now(), this.#flightHooks(scope, ignore, ignore, batch))
  }

  /**
   * Stores a fresh value, replacing whatever a load still running would have stored. Memory holds it
   * at once; the promise settles once L2 holds it too (an L2 failure is counted, never thrown). A
   * key that is no string, or options that cannot work, reject it, storing nothing.
   */
  async set(key: string, value: V, options?: SetOptions): Promise<void> {
    if (typeof key !== 'string') throw keyTypeError(this.name, key)
    if (options !== undefined) checkCallOptions(options, setCall)
    const storeKey = storeKeyOf(key)
    const entry = this.#entryFor(storeKey, value, policyWith(this.#options.policy, options))
    this.#supersede(storeKey)
    this.#keep(storeKey, entry, options?.scope)
    await this.#tier?.writeThrough(key, storeKey, entry, options?.scope)
  }

  /**
   * Forgets `key` here and in L2; a load still running for it will not store its result. Resolves to
   * whether memory held it. Other environments keep their in-memory copy until it expires.
   */
  async delete(key: string, options?: GetOptions): Promise<boolean> {
    const refused = this.#refusal(key, options)
    if (refused !== undefined) throw refused
    const storeKey = storeKeyOf(key)
    this.#supersede(storeKey)
    this.#forgotSome = true
    const held = this.#store.delete(storeKey)
    await this.#tier?.removeKey(storeKey, options?.scope)
    return held
  }

  /**
   * Forgets every entry; loads still running will not store their results. With L2, moves the
   * cache's namespace version on, which empties L2 for everyone and the memory of every environment
   * at its next version check (`versionCheck` of the store), entries a snapshot written before
   * brings back included (see `adoptEntries`).
   */
  async clear(options?: GetOptions): Promise<void> {
    const refused = getOptionsError(options)
    if (refused !== undefined) throw refused
    this.#supersedeAll()
    this.#forgotSome = true
    this.#store.clear()
    await this.#tier?.bumpVersion(options?.scope)
  }

  /** Resolves once the loads now running have settled: true when every one succeeded. Never abandons them. */
  whenLoaded(): Promise<boolean> {
    return Promise.allSettled([...this.#inFlight.values()].map((flight) => flight.promise)).then((outcomes) => outcomes.every((outcome) => outcome.status === 'fulfilled'))
  }

  /**
   * Waits at most `budgetMs` for every load of this cache still running, then abandons those that
   * no scope tracks and no caller waits for: a load an invocation started or joined is its scope's
   * to give up on, never another invocation's.
   */
  settle(budgetMs: number): Promise<SettleReport> {
    return settleFlights([...this.#inFlight.values()], budgetMs, abandonIfUnwanted)
  }

  /**
   * Reloads every entry that stops being fresh within `horizonMs` and waits for the reloads, so that
   * no caller meets them stale before then, as far as their ttl reaches (a warm-up ping's work). With
   * a shared tier, a copy another environment loaded in the same round (`roundMs`) serves instead of
   * a reload (see `#reloadedBeyond`). Entries stored under a hashed key are left
   * to refresh on their next get. A reload that fails or outlives `timeout` keeps the old value, as
   * does an entry left unreloaded because `signal` aborted first: both count as failed, as does a
   * reload still running when `signal` aborts, which is not waited for any longer. Keys already
   * loading (a batch included) are joined at once; of the others, at most `reloadsAtOnce` load at a
   * time, so that a large cache does not start a load per entry together.
   */
  async refreshAhead(horizonMs: number, options?: RefreshAheadOptions): Promise<RefreshReport> {
    if (options !== undefined) checkCallOptions(options, refreshAheadCall)
    const scope = options?.scope
    const signal = options?.signal
    const versionSync = this.#versionSync(scope)
    // A version check on a slow L2 can outlast the caller's deadline: no reason to wait past it.
    if (versionSync !== undefined) await unlessAborted(versionSync, signal)
    const now = this.#now()
    const horizon = now + horizonMs
    const roundBegan = now - (options?.roundMs ?? 0)
    const due: DueEntry[] = []
    for (const [storeKey, entry] of this.#store.entries()) {
      const key = callerKeyOf(storeKey)
      if (key !== undefined && entry.freshUntil <= horizon) due.push({ key, storeKey, read: 'skip', freshBeyond: this.#reloadedBeyond(entry, roundBegan, horizon) })
    }
    if (signal?.aborted === true) return { refreshed: 0, failed: due.length }
    this.#startReloadBatch(due, scope)
    const reload = ({ key, storeKey, freshBeyond }: DueEntry): Promise<Fetched<V> | typeof timedOut | undefined> => {
      // Out of time: a reload started now would outlive the caller.
      if (signal?.aborted === true) return Promise.resolve(undefined)
      const flight = this.#flightFor(key, storeKey, scope, 'skip', freshBeyond)
      scope?.track(flight)
      // Undefined once the caller is out of time: a reload that another invocation also tracks is
      // left running for it rather than abandoned, and the caller must not wait for it past its deadline.
      return unlessAborted(flight.wait(), signal)
    }
    const joined = due.filter(({ storeKey }) => this.#joinable(storeKey) !== undefined)
    const own = due.filter(({ storeKey }) => this.#joinable(storeKey) === undefined)
    const results = (await Promise.all([Promise.allSettled(joined.map(reload)), settleAtMost(own, reloadsAtOnce, reload)])).flat()
    const refreshed = results.filter((result) => result.status === 'fulfilled' && result.value !== undefined && result.value !== timedOut).length
    return { refreshed, failed: results.length - refreshed }
  }

  /**
   * Without a shared tier, the due keys not loading yet load together through `loadMany` when the
   * cache has one, as getMany's misses do (a source that throttles sees one call per batch, not one
   * per key). With one, each key takes its lease, so that a ping fanned out to many environments
   * still loads each key once among them (see `#reloadedBeyond` for the copies that serve instead).
   */
  #startReloadBatch(due: readonly Miss[], scope: CacheScope | undefined): void {
    if (this.#tier === undefined && this.#options.loadMany !== undefined) this.#startBatch(due.filter(({ storeKey }) => this.#joinable(storeKey) === undefined), scope)
  }

  /**
   * How long a copy of `entry` in L2 must stay fresh to serve instead of a reload here: past the
   * horizon, or as long as a reload begun with the round (`roundBegan`) surely would, whichever
   * comes first. A reload lasts the entry's own ttl (a loader's `setFreshness`, `negativeTtl` for
   * "not found"), shortened by `jitter` at most. The horizon alone would ask, of an entry whose ttl
   * is shorter, what no load gives, and every environment would load every key itself. A copy as
   * old as this environment's own, from an earlier round, still falls short: it is reloaded.
   */
  #reloadedBeyond(entry: Entry<V>, roundBegan: number, horizon: number): number {
    const surelyFreshFor = (entry.freshUntil - entry.createdAt) * (1 - this.#options.policy.jitter)
    return Math.min(horizon, roundBegan + surelyFreshFor)
  }

  /**
   * Every entry memory holds, under the key it is stored by, oldest write first; times are on
   * `clock`. Reading them here moves none up the recency list, so code that copies them out (the
   * cold-start snapshot) does not change what is evicted next.
   */
  peekEntries(): IterableIterator<[string, Entry<V>]> {
    return this.#store.entries()
  }

  /**
   * The namespace version (in L2) memory's entries belong to, which a copy of them made elsewhere
   * records; undefined without L2, or while this environment knows none (see `adoptEntries`).
   */
  get namespaceVersion(): number | undefined {
    return this.#tier?.memoryVersion
  }

  /**
   * Keeps entries made elsewhere (read back from a cold-start snapshot, their times moved onto
   * `clock`), given oldest first: each unless memory holds one under its key created as recently or
   * more so, and only as many as fit within the l1 bounds beside what memory holds, the newest
   * first. None of them evicts a value memory held (one loaded after they were made) nor a newer one
   * of them. With L2, only entries of the namespace version memory belongs to (`namespaceVersion`
   * where they were made; undefined: unknown) are kept, so none from before a clear() comes back:
   * while this environment knows no version yet, they are kept and memory is taken to belong to
   * theirs, which its first version read checks (see `SharedTier.adoptVersion`). None once this
   * environment has deleted a key or cleared the cache. Returns how many it kept.
   */
  adoptEntries(entries: readonly (readonly [storeKey: string, entry: Entry<V>])[], namespaceVersion: number | undefined): number {
    if (entries.length === 0 || this.#forgotSome) return 0
    if (this.#tier !== undefined && (namespaceVersion === undefined || !this.#tier.adoptVersion(namespaceVersion))) return 0
    const { maxEntries, maxBytes } = this.#options.bounds
    let count = this.#store.size
    let bytes = this.#store.bytes
    const chosen = new Set<number>()
    const decided = new Set<string>()
    for (let index = entries.length - 1; index >= 0; index--) {
      const [storeKey, entry] = entries[index] as readonly [string, Entry<V>]
      if (decided.has(storeKey)) continue
      decided.add(storeKey)
      const held = this.#store.peek(storeKey)
      if (held !== undefined && held.createdAt >= entry.createdAt) continue
      const nextCount = count + (held === undefined ? 1 : 0)
      const nextBytes = bytes - (held?.size ?? 0) + entry.size
      if (nextCount > maxEntries || nextBytes > maxBytes) continue
      count = nextCount
      bytes = nextBytes
      chosen.add(index)
    }
    let adopted = 0
    entries.forEach(([storeKey, entry], index) => {
      if (chosen.has(index) && this.#store.set(storeKey, entry)) adopted++
    })
    return adopted
  }

  /** Counters over the cache's lifetime, and what it holds now. */
  stats(): CacheStats {
    const lifetime = this.#lifetime
    return {
      name: this.name,
      entries: this.#store.size,
      bytes: this.#store.bytes,
      evictions: this.#store.evictions,
      inFlight: this.#inFlight.size,
      hits: lifetime.hits,
      l2Hits: lifetime.l2Hits,
      l2Misses: lifetime.l2Misses,
      l2Errors: lifetime.l2Errors,
      l2TimeMs: lifetime.l2TimeMs,
      l2Operations: lifetime.l2Operations,
      l2Skipped: lifetime.l2Skipped,
      l2Circuit: this.#tier?.circuit,
      misses: lifetime.misses,
      staleServed: lifetime.staleServed,
      staleOnError: lifetime.staleOnError,
      errors: lifetime.errors,
      loads: lifetime.loads,
      loadErrors: lifetime.loadErrors,
      loadTimeouts: lifetime.loadTimeouts,
      notCached: lifetime.notCached,
      loadTimeMs: lifetime.loadTimeMs,
    }
  }

  #resolve(key: string, storeKey: string, entry: Entry<V> | undefined, scope: CacheScope | undefined): Promise<Lookup<V>> {
    const versionSync = this.#versionSync(scope)
    if (versionSync === undefined) return this.#resolvePhase(key, storeKey, entry, scope)
    return versionSync.then(() => this.#resolvePhase(key, storeKey, this.#store.get(storeKey), scope))
  }

  /** The one place that turns an entry's phase into what a get does. */
  #resolvePhase(key: string, storeKey: string, entry: Entry<V> | undefined, scope: CacheScope | undefined): Promise<Lookup<V>> {
    const now = this.#now()
    switch (phaseOf(entry, now)) {
      case Phase.Fresh:
        return Promise.resolve(this.#served((entry as Entry<V>).value, Outcome.Hit, Tier.L1, scope))
      case Phase.Revalidate: {
        if (!this.#backingOff(entry, now)) {
          const refresh = this.#flightFor(key, storeKey, scope, 'fresh')
          scope?.track(refresh)
        }
        return Promise.resolve(this.#served((entry as Entry<V>).value, Outcome.Stale, Tier.L1, scope))
      }
      case Phase.Fallback:
        if (this.#backingOff(entry, now)) return Promise.resolve(this.#served((entry as Entry<V>).value, Outcome.StaleOnError, Tier.L1, scope))
        return this.#waitFor(key, storeKey, this.#flightFor(key, storeKey, scope, 'usable'), entry, scope)
      case Phase.Expired:
        return this.#waitFor(key, storeKey, this.#flightFor(key, storeKey, scope, 'usable'), undefined, scope)
    }
  }

  /** Waits for `flight`; `storeKey` undefined for a load that is not cached (nothing may stand in, nothing refreshes). */
  async #waitFor(key: string, storeKey: string | undefined, flight: Flight<Fetched<V>>, fallback: Entry<V> | undefined, scope: CacheScope | undefined): Promise<Lookup<V>> {
    // A scope holds the flight for its caller until the scope settles (so a get the handler never
    // awaited does not keep the load past the invocation); a caller without one holds it while it waits.
    if (scope === undefined) flight.waiters++
    else scope.track(flight)
    let result: Fetched<V> | typeof timedOut
    try {
      result = await flight.wait()
    } catch (error) {
      return this.#fallBackOrThrow(this.#standIn(storeKey, flight, fallback), new CacheLoadError(this.name, this.#options.errorKey(key), error, this.#failedLoadSubject(key, flight, error)), scope)
    } finally {
      if (scope === undefined) this.#stopWaiting(flight, storeKey)
    }
    if (result === timedOut) {
      // The flight's own timer started one period at its timeout, but a load that hangs on (held by
      // another invocation) is joined again once the period is over: this wait starts the next one,
      // so that the hang costs one timeout per period rather than one per get.
      if (storeKey !== undefined && this.#isCurrent(storeKey, flight)) this.#backOff(storeKey)
      return this.#fallBackOrThrow(this.#standIn(storeKey, flight, fallback), new CacheTimeoutError(this.name, this.#options.errorKey(key), this.#options.timeoutMs ?? 0, this.#options.describeKey(key)), scope)
    }
    // A caller that joined a flight another invocation started waited out its L2 timeout too: the
    // rest of its invocation skips the store, as the starter's does, so that it meets one L2 timeout in all.
    if (result.l2TimedOut === true && scope !== undefined) this.#tier?.skipFor(scope)
    if (result.outcome === Outcome.Stale && storeKey !== undefined) {
      // Served stale from L2: refreshed beside the caller, as a stale L1 entry is.
      // Started whether or not a scope tracks it (`scope?.track(start())` would skip the start).
      const refresh = this.#flightFor(key, storeKey, scope, 'skip')
      scope?.track(refresh)
    }
    return this.#served(result.value, result.outcome, result.tier, scope)
  }

  /**
   * What may stand in for `flight`'s failure: what memory holds for the key now (an entry a flight
   * brought from L2 meanwhile, newer than any it held before), else the entry the caller saw (evicted
   * since). Once the flight was superseded, only what memory holds: the value `set` since, nothing
   * after `delete` or `clear`, as if the entry the caller saw were gone. Read without touching
   * recency: the get that saw the entry has already counted as its use.
   */
  #standIn(storeKey: string | undefined, flight: Flight<Fetched<V>>, seen: Entry<V> | undefined): Entry<V> | undefined {
    if (storeKey === undefined) return undefined
    const held = this.#store.peek(storeKey)
    return this.#retired.has(flight) ? held : (held ?? seen)
  }

  #fallBackOrThrow(fallback: Entry<V> | undefined, error: CacheError, scope: CacheScope | undefined): Lookup<V> {
    if (canFallBack(fallback, this.#now())) {
      return this.#served(fallback.value, Outcome.StaleOnError, Tier.L1, scope)
    }
    this.#count(Outcome.Error, Tier.Source, scope)
    throw error
  }

  /** `freshBeyond`: an L2 value found while taking the lease serves only if it stays fresh past this moment. */
  #flightFor(key: string, storeKey: string, scope: CacheScope | undefined, read: SharedRead, freshBeyond = Number.NEGATIVE_INFINITY): Flight<Fetched<V>> {
    return this.#joinable(storeKey) ?? this.#startFlight(storeKey, scope, (control) =>
      this.#tier === undefined ? this.#loadFetched(key, storeKey, control.signal, scope) : this.#tier.fetch(key, storeKey, control, scope, read, freshBeyond),
    )
  }

  /** The flight loading `storeKey` that a new caller may join, if any. */
  #joinable(storeKey: string): Flight<Fetched<V>> | undefined {
    const running = this.#inFlight.get(storeKey)
    // An abandoned flight stays listed until its rejection has run its course: joined meanwhile, it
    // would fail a caller (another invocation) whose own load nobody abandoned. One left running
    // across a freeze may wait for an answer that never comes: the caller starts a new load, which
    // replaces it (see `#startFlight`).
    if (running === undefined || running.signal.aborted || leftRunningAcrossFreeze(running.startedAt, this.#now())) return undefined
    return running
  }

  async #loadFetched(key: string, storeKey: string, signal: AbortSignal, scope: CacheScope | undefined): Promise<Fetched<V>> {
    const loaded = await this.#loadOne(key, signal, scope)
    return { value: loaded.value, entry: this.#entryFor(storeKey, loaded.value, loaded.policy), outcome: Outcome.Miss, tier: Tier.Source }
  }

  async #loadOne(key: string, signal: AbortSignal, scope: CacheScope | undefined): Promise<Loaded<V>> {
    let policy = this.#options.policy
    const context = {
      signal,
      // Checked at once: a name it does not know, or a window no option allows (past a year, say),
      // throws at the loader's own call.
      setFreshness: (requested: EntryFreshness) => {
        checkCallOptions(requested, freshnessCall)
        policy = policyWith(this.#options.policy, requested)
      },
    }
    const value = await this.#callSource(scope, signal, () => this.#options.load(key, context))
    return { value, policy }
  }

  /** Starts a flight whose result is kept in memory unless it was abandoned or superseded by `set`/`delete`/`clear`. */
  #startFlight(storeKey: string, scope: CacheScope | undefined, run: (control: FlightControl) => Promise<Fetched<V>>, batch?: Batch): Flight<Fetched<V>> {
    const isCurrent = (): boolean => this.#isCurrent(storeKey, flight)
    const backOffIfCurrent = (): void => {
      if (isCurrent()) this.#backOff(storeKey)
    }
    const flight: Flight<Fetched<V>> = new Flight(
      async (signal) => {
        let fetched: Fetched<V>
        try {
          fetched = await run({ signal, isCurrent })
        } catch (error) {
          backOffIfCurrent()
          throw error
        }
        if (isCurrent()) this.#keep(storeKey, fetched.entry, scope)
        return fetched
      },
      this.#options.timeoutMs,
      this.#now(),
      this.#flightHooks(
        scope,
        () => {
          if (this.#inFlight.get(storeKey) === flight) this.#inFlight.delete(storeKey)
        },
        backOffIfCurrent,
        batch,
      ),
    )
    // The flight this one replaces, if any, was abandoned or left running across a freeze (see
    // `#joinable`): no longer current, its late answer is dropped; callers still waiting for it keep
    // it running until the last of them leaves (`#stopWaiting`), else it is abandoned now, as nobody
    // will ask for it again.
    const replaced = this.#inFlight.get(storeKey)
    if (replaced !== undefined) this.#retire(replaced)
    this.#inFlight.set(storeKey, flight)
    return flight
  }

  /**
   * Forgets the load running for `storeKey` (a `set`, `delete` or `clear` wins over it): it stores
   * nothing, answers the callers still waiting for it, and is abandoned now when there are none,
   * as nobody can join it any more.
   */
  #supersede(storeKey: string): void {
    const flight = this.#inFlight.get(storeKey)
    if (flight === undefined) return
    this.#inFlight.delete(storeKey)
    this.#retire(flight)
  }

  #supersedeAll(): void {
    const flights = [...this.#inFlight.values()]
    this.#inFlight.clear()
    for (const flight of flights) this.#retire(flight)
  }

  /** `flight` is no longer its key's load (superseded or replaced): it is abandoned now when nobody wants it. */
  #retire(flight: Flight<Fetched<V>>): void {
    this.#retired.add(flight)
    flight.abandonIfUnwanted()
  }

  /**
   * A caller without a scope stops waiting for `flight`. The last one to leave a flight that is no
   * longer current (replaced, or a load cached nowhere: `storeKey` undefined) abandons it: nobody
   * can join it again, and nothing else would end it. A current one stays: the next get joins it.
   */
  #stopWaiting(flight: Flight<Fetched<V>>, storeKey: string | undefined): void {
    flight.waiters--
    if (storeKey === undefined || !this.#isCurrent(storeKey, flight)) flight.abandonIfUnwanted()
  }

  /** Neither abandoned nor superseded by `set`/`delete`/`clear`: what `flight` brings, or its failure, is still `storeKey`'s. */
  #isCurrent(storeKey: string, flight: Flight<Fetched<V>>): boolean {
    return !flight.signal.aborted && this.#inFlight.get(storeKey) === flight
  }

  /** Whether `entry`'s refresh failed (or outlived `timeout`) less than `retryAfterError` ago. */
  #backingOff(entry: Entry<V> | undefined, now: number): boolean {
    return entry !== undefined && now < (this.#retryAfter.get(entry) ?? Number.NEGATIVE_INFINITY)
  }

  /**
   * The refresh of `storeKey` failed or outlived `timeout`: its stale entry, if any, is served without
   * a source call for a while. Read without touching recency: a refresh that keeps failing (a warm-up
   * ping's, say) is no use of the entry, and must not keep one nobody reads from being evicted.
   */
  #backOff(storeKey: string): void {
    const entry = this.#store.peek(storeKey)
    if (entry !== undefined && this.#options.retryAfterErrorMs > 0) this.#retryAfter.set(entry, this.#now() + this.#options.retryAfterErrorMs)
  }

  /**
   * `backOff`: for a cached load, which then backs off as a failed one does once it outlives
   * `timeout`. `batch`: shared by the flights of one `loadMany` call, which counts one timeout, as
   * it counts one load.
   */
  #flightHooks(scope: CacheScope | undefined, onSettled: () => void, backOff = ignore, batch?: Batch): { onTimeout: () => void; onSettled: () => void } {
    return {
      onTimeout: () => {
        if (batch === undefined || !batch.timeoutCounted) this.#tally(scope).add('loadTimeouts')
        if (batch !== undefined) batch.timeoutCounted = true
        backOff()
      },
      onSettled,
    }
  }

  /**
   * The keys of `keys` a get would load now, each once: neither fresh, nor loading, nor served stale
   * without a load while their refresh backs off. Read without touching recency: a prefetch uses no
   * value, and `getMany` reads each key again as it serves it.
   */
  #missesOf(keys: readonly string[]): Miss[] {
    const now = this.#now()
    const misses: Miss[] = []
    for (const key of new Set(keys)) {
      const storeKey = storeKeyOf(key)
      const entry = this.#store.peek(storeKey)
      const phase = phaseOf(entry, now)
      // A key in its retryAfterError period is served stale without a load; one past every window has nothing to serve, and loads.
      if (this.#joinable(storeKey) !== undefined || phase === Phase.Fresh || (phase !== Phase.Expired && this.#backingOff(entry, now))) continue
      misses.push({ key, storeKey, read: phase === Phase.Revalidate ? 'fresh' : 'usable' })
    }
    return misses
  }

  /**
   * One flight per miss, all served by one L2 read and lease attempt: with `loadMany`, and one call
   * of it; without it, when L2 takes leases together (Redis, DynamoDB), each key loaded by its own
   * loader call. None otherwise, nor for a single miss, which loads as a lone get does.
   */
  #startBatch(misses: readonly Miss[], scope: CacheScope | undefined): void {
    if (misses.length > 1 && this.#batchesMisses) this.#batchFlights(misses, this.#options.loadMany, scope, true)
  }

  get #batchesMisses(): boolean {
    return this.#options.loadMany !== undefined || this.#tier?.takesLeasesTogether === true
  }

  /**
   * One flight per miss, all served by one `loadMany` call, by key, or without it each by a loader
   * call of its own. `cached`: the keys' own flights, which later gets join, served by one L2 read
   * first, their values kept in memory and L2. Else flights nobody joins, which neither read L2 nor
   * store what they load anywhere.
   */
  #batchFlights(misses: readonly Miss[], loadMany: BatchLoader<V> | undefined, scope: CacheScope | undefined, cached: boolean): ReadonlyMap<string, Flight<Fetched<V>>> {
    const controller = new AbortController()
    const flights = new Map<string, Flight<Fetched<V>>>()
    const tier = cached ? this.#tier : undefined
    const session = tier?.open(scope)
    const isCurrent = (storeKey: string) => (): boolean => flights.get(storeKey) === this.#inFlight.get(storeKey)
    const claimed: Claimed<V> = { claims: undefined }
    const heldElsewhere = new Set<string>()
    const failures = new Map<string, unknown>()
    const together: Batch = { timeoutCounted: false, failedTogether: new Map() }
    const batch = this.#fetchBatch(misses, session, scope, { signal: controller.signal, loadMany, isCurrent, claimed, heldElsewhere, failures, together, cached })
    let abandoned = 0
    for (const miss of misses) {
      const { key, storeKey } = miss
      // Its value written, then its lease given back (after the load's failure too): another environment waiting for the key then reads it, or takes over.
      const finish = async (loaded: BatchLoaded<V> | undefined): Promise<void> => {
        await claimed.claims?.finish(miss, loaded)
      }
      const run = async (control: FlightControl): Promise<Fetched<V>> => {
        // The batch is aborted only once every key it serves has been abandoned.
        control.signal.addEventListener('abort', () => { if (++abandoned === misses.length) controller.abort(control.signal.reason) }, { once: true })
        let fetched: Fetched<V>
        try {
          const found = (await batch).get(storeKey)
          if (failures.has(storeKey)) throw failures.get(storeKey)
          // Waited for as a lone miss waits, now that the batch has loaded the rest and given their leases back.
          if (found === undefined && tier !== undefined && heldElsewhere.has(storeKey)) return await tier.fetch(key, storeKey, control, scope, 'skip', Number.NEGATIVE_INFINITY)
          fetched = found ?? (await this.#loadAlone(key, storeKey, control.signal, scope, loadMany))
        } catch (error) {
          await finish(undefined)
          throw error
        }
        await finish(session !== undefined && fetched.tier === Tier.Source && control.isCurrent() ? { entry: fetched.entry } : undefined)
        return session?.timedOut === true ? { ...fetched, l2TimedOut: true } : fetched
      }
      const flight = cached ? this.#startFlight(storeKey, scope, run, together) : this.#uncachedFlight(scope, run, together)
      this.#batchOf.set(flight, together)
      flights.set(storeKey, flight)
    }
    return flights
  }

  /**
   * A key of a batch that L2 did not serve, loaded by its flight's own loader call: for a batch
   * without `loadMany`. With one, which is given every such key, a key it left is a fault.
   */
  async #loadAlone(key: string, storeKey: string, signal: AbortSignal, scope: CacheScope | undefined, loadMany: BatchLoader<V> | undefined): Promise<Fetched<V>> {
    if (loadMany !== undefined) throw new CacheError(`middy-cache: the batch of cache "${this.name}" lost a key`)
    // Abandoned while L2 was asked: nobody wants the load any more, and it would run past the invocation.
    signal.throwIfAborted()
    return this.#loadFetched(key, storeKey, signal, scope)
  }

  /** L2 for every miss in one read, then one `loadMany` call for what L2 could not serve (without one, each flight loads its own). */
  async #fetchBatch(
    misses: readonly Miss[],
    session: TierSession | undefined,
    scope: CacheScope | undefined,
    batch: {
      readonly signal: AbortSignal
      readonly loadMany: BatchLoader<V> | undefined
      readonly isCurrent: (storeKey: string) => () => boolean
      /** Given how each key left to load is finished (its value written, its lease given back), for its flight to call. */
      readonly claimed: Claimed<V>
      /** Filled with the keys whose lease another environment holds: neither loaded nor served by the batch. */
      readonly heldElsewhere: Set<string>
      /** Filled with the keys the loader failed alone (`fail`), and their errors. */
      readonly failures: Map<string, unknown>
      /** What the flights of the call share: its failure is recorded there. */
      readonly together: Batch
      /** Whether the values loaded are kept: else they come with no entry (nor are they frozen, as nobody else reads them). */
      readonly cached: boolean
    },
  ): Promise<Map<string, Fetched<V>>> {
    const results = new Map<string, Fetched<V>>()
    const toLoad = this.#tier === undefined || session === undefined ? misses : await this.#claimedMisses(this.#tier, session, misses, results, batch)
    const loadMany = batch.loadMany
    if (toLoad.length === 0 || loadMany === undefined) return results
    // Abandoned while L2 was asked: nobody wants the load any more, and it would run past the invocation.
    batch.signal.throwIfAborted()
    const batchKeys = toLoad.map((miss) => miss.key)
    const policyByKey = new Map<string, FreshnessPolicy>()
    const failedKeys = new Map<string, unknown>()
    const requireGiven = (key: string, done: string): void => {
      if (!batchKeys.includes(key)) throw loadManyError(this.name, `${done} ${this.#options.describeKey(key)}, a key it was not given`)
    }
    const context: BatchLoadContext = {
      signal: batch.signal,
      setFreshness: (freshness, key) => {
        checkCallOptions(freshness, freshnessCall)
        requireGiven(key, 'set the freshness of')
        policyByKey.set(key, policyWith(this.#options.policy, freshness))
      },
      fail: (key, error) => {
        requireGiven(key, 'failed')
        failedKeys.set(key, error)
      },
    }
    // Checked within the call: an answer that cannot be read counts as the loader's failure.
    const loaded = await this.#callSource(scope, batch.signal, async () => valuesOfBatch(this.name, await loadMany(batchKeys, context), batchKeys)).catch((error: unknown) => {
      batch.together.failedTogether.set(error, batchKeys)
      throw error
    })
    // A call that failed some of its keys failed, as LoadErrors counts calls; the others are served.
    if (failedKeys.size > 0) this.#tally(scope).add('loadErrors')
    for (const [key, error] of failedKeys) batch.together.failedTogether.set(error, [...(batch.together.failedTogether.get(error) ?? []), key])
    toLoad.forEach(({ key, storeKey }, index) => {
      if (failedKeys.has(key)) {
        batch.failures.set(storeKey, failedKeys.get(key))
        return
      }
      const value = loaded[index] as V
      const entry = batch.cached ? this.#entryFor(storeKey, value, policyByKey.get(key) ?? this.#options.policy) : undefined
      results.set(storeKey, { value, entry, outcome: Outcome.Miss, tier: Tier.Source })
    })
    return results
  }

  /** The misses of a batch L2 could not serve, read together, then leased: see `SharedTier.claimMany`. */
  async #claimedMisses(
    tier: SharedTier<V>,
    session: TierSession,
    misses: readonly Miss[],
    results: Map<string, Fetched<V>>,
    batch: {
      readonly isCurrent: (storeKey: string) => () => boolean
      readonly claimed: Claimed<V>
      readonly heldElsewhere: Set<string>
    },
  ): Promise<readonly Miss[]> {
    const unread = await tier.readMany(session, misses, results, batch.isCurrent)
    if (unread.length === 0) return unread
    const claims = await tier.claimMany(session, unread, results)
    batch.claimed.claims = claims
    for (const { storeKey } of claims.heldElsewhere) batch.heldElsewhere.add(storeKey)
    return claims.toLoad
  }

  /**
   * Calls the source, counting the call, its duration and its failure. A call that fails because
   * its load was abandoned (`signal`) counts neither a failure nor a duration, as one still running
   * after it was abandoned counts none: the source neither failed nor answered.
   */
  async #callSource<R>(scope: CacheScope | undefined, signal: AbortSignal, call: () => R | PromiseLike<R>): Promise<R> {
    const tally = this.#tally(scope)
    tally.add('loads')
    const startedAt = this.#now()
    let ended = true
    try {
      return await call()
    } catch (error) {
      ended = !failedByAbandon(signal, error)
      if (ended) tally.add('loadErrors')
      throw error
    } finally {
      if (ended) {
        tally.add('loadTimeMs', this.#now() - startedAt)
        tally.add('loadsEnded')
      }
    }
  }

  /** The entry a value is kept as; undefined for "not found" when `negativeTtl` does not ask to remember it. */
  #entryFor(storeKey: string, value: V, policy: FreshnessPolicy): Entry<V> | undefined {
    if (value === undefined && policy.negativeTtlMs === 0) return undefined
    return createEntry(freezeShared(value), this.#now(), policy, estimateSize(value) + storeKey.length * 2)
  }

  /** Keeps an entry in memory (undefined forgets the key); one larger than `l1.maxBytes` is counted instead. */
  #keep(storeKey: string, entry: Entry<V> | undefined, scope: CacheScope | undefined): void {
    if (entry === undefined) {
      this.#store.delete(storeKey)
      return
    }
    if (!this.#store.set(storeKey, entry)) this.#tally(scope).add('notCached')
  }

  /** The namespace version read, when one is due (only with L2: another environment may have cleared the cache); else undefined. */
  #versionSync(scope: CacheScope | undefined): Promise<void> | undefined {
    return this.#now() >= this.#versionDueAt ? this.#tier?.syncVersion(scope) : undefined
  }

  #tally(scope: CacheScope | undefined): Tally {
    return new Tally(this.#lifetime, scope?.countersFor(this.name))
  }

  #served(value: V, outcome: Outcome, tier: Tier, scope: CacheScope | undefined): Lookup<V> {
    this.#count(outcome, tier, scope)
    return { value, outcome, tier }
  }

  #count(outcome: Outcome, tier: Tier, scope: CacheScope | undefined): void {
    this.#lifetime.count(outcome, tier)
    if (scope !== undefined) scope.countersFor(this.name).count(outcome, tier)
  }
}

/** Creates a cache; every option is validated here, so a bad one throws at module load, not mid-invocation. */
export const createCache = <V>(options: CacheOptions<V>): Cache<V> => new Cache(options)
