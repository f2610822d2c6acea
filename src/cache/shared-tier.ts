import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { L2Settings, L2Store, L2Write, LeaseAttempt } from '../stores/l2-store.js'
import type { MemoryStore } from '../stores/memory/index.js'
import { CircuitBreaker, CircuitState } from './breaker.js'
import type { Fetched, FlightControl, Miss, SharedRead } from './cache.js'
import { endedAfterFreeze, monotonicClock, timeoutAfterPendingIo, type Clock } from './clock.js'
import type { Tally } from './counters.js'
import { decodeEntry, encodeEntry } from './envelope.js'
import { Phase, phaseOf, type Entry } from './freshness.js'
import { gathered } from './gathered.js'
import { newMisconfiguration, warnIfMisconfigured } from './misconfigured-store.js'
import type { Logger } from './options.js'
import { Outcome, Tier } from './outcome.js'
import { RefusableKind, refusalEffects, StoreRefusals, writesRefusedBothWays, type RefusalEffect } from './refusals.js'
import type { CacheScope } from './scope.js'

/** What the caches sharing one store know of its health. */
interface StoreHealth {
  readonly breaker: CircuitBreaker
  readonly refusals: StoreRefusals
  /**
   * The scopes (invocations) in which an operation on the store failed, or the open breaker skipped
   * one (not one the store refused: that answer came at once): the rest of such an invocation skips
   * the store, so that it meets at most one L2 timeout, whatever number of gets it makes and
   * whichever caches make them. Weak: a scope is gone with its invocation.
   */
  readonly failedIn: WeakSet<CacheScope>
}

/** One health per store: caches that share a connection share it. */
const healthByStore = new WeakMap<L2Store, StoreHealth>()

const healthOf = (store: L2Store): StoreHealth => {
  let health = healthByStore.get(store)
  if (health === undefined) {
    const { breaker } = store.settings
    health = { breaker: new CircuitBreaker(breaker, monotonicClock), refusals: new StoreRefusals(breaker.coolDownMs, monotonicClock), failedIn: new WeakSet() }
    healthByStore.set(store, health)
  }
  return health
}

const unavailable: unique symbol = Symbol('middy-cache.l2Unavailable')

/** The store's refusal of an operation of `kind`: its words, and the error they came in (which may say what to fix). */
interface StoreRefusal {
  readonly kind: RefusableKind
  readonly said: string
  readonly error: unknown
}

/** For an operation of a refusable kind: the values it writes, and who tells of the store's first refusal. */
interface RefusalHandling {
  /** How many values a write (kind Write) makes, each counted as skipped while the store is known to refuse writes. Default 1. */
  readonly values?: number
  /** Hears of the store's first refusal of the kind in place of its warning: the caller warns once it knows what followed. */
  readonly firstRefused?: (refusal: StoreRefusal) => void
}

/** Polls while another environment holds the lease: quick at first, then every 50 ms. */
const firstPollMs = 5
const longestPollMs = 50

/**
 * The shared tier's operations for one flight (or one write). The first failure ends them: a
 * flight is slowed by at most one L2 timeout however many operations it meant to run.
 */
export class TierSession {
  readonly tally: Tally
  readonly version: number
  /** The invocation the session works for, if known: a failure is remembered there. */
  readonly scope: CacheScope | undefined
  failed = false
  /** The failure was an operation that outlasted the timeout: another would slow the flight by one more. */
  timedOut = false

  constructor(tally: Tally, version: number, scope: CacheScope | undefined) {
    this.tally = tally
    this.version = version
    this.scope = scope
  }
}

/** What taking a lease came to: a fresh value another environment wrote, or the lease to give back. */
interface Claim<V> {
  readonly entry: Entry<V> | undefined
  /** Whether the lease was taken: `release` gives it back. */
  readonly held: boolean
  release(): Promise<void>
}

const nothingToRelease = (): Promise<void> => Promise.resolve()
const noClaim: Claim<never> = { entry: undefined, held: false, release: nothingToRelease }
/** A lease attempt that found the lease taken by another environment, and nothing fresh enough written yet. */
const heldByAnother: unique symbol = Symbol('middy-cache.heldByAnother')

/** What a cache lends its shared tier. */
export interface TierHost<V> {
  readonly cacheName: string
  /** How warnings name a caller's key (the cache's `describeKey`). */
  describeKey(key: string): string
  /** The cache's monotonic clock, which entries' times are on. */
  readonly now: Clock
  readonly logger: Logger
  /** The cache's load timeout: waiting for another environment's load never outlasts it. */
  readonly loadTimeoutMs: number | undefined
  /** The cache's memory: an entry read from L2 that may only stand in for a failed load is kept there. */
  readonly memory: MemoryStore<Entry<V>>
  /** The counters an operation made for `scope` adds to. */
  tally(scope: CacheScope | undefined): Tally
  /** Loads `key` from the source, as the cache does without L2. */
  load(key: string, storeKey: string, signal: AbortSignal, scope: CacheScope | undefined): Promise<Fetched<V>>
  /** The namespace version moved on (another environment cleared the cache): forget every entry and load. */
  forget(): void
  /** The namespace version is next read at `at` on the cache's clock. */
  versionDue(at: number): void
}

/** What a flight of a batch loaded for a key to write: its entry (undefined: "not found", not remembered, which removes the key). */
export interface BatchLoaded<V> {
  readonly entry: Entry<V> | undefined
}

/** What `claimMany` came to. */
export interface BatchClaims<V> {
  /** The misses left to load, each leased unless leases are off or could not be taken. */
  readonly toLoad: readonly Miss[]
  /** The misses whose lease another environment holds: neither loaded nor served by the batch. */
  readonly heldElsewhere: readonly Miss[]
  /**
   * Writes what was loaded for `miss`, one of `toLoad` (nothing once its load failed or was
   * superseded), then gives its lease back: another environment waiting for the key then reads it,
   * or takes over. Never rejects.
   */
  finish(miss: Miss, loaded: BatchLoaded<V> | undefined): Promise<void>
}

/** A key of a batch done loading, as handed to `BatchClaims.finish`. */
interface Finished<V> {
  readonly miss: Miss
  readonly loaded: BatchLoaded<V> | undefined
  /** The L2 key of the lease to give back, if the batch holds it. */
  readonly lease: string | undefined
}

/** A store that brings the shared tier's code with it: what `redisStore(...)` and `dynamoStore(...)` make. */
export interface TieredStore extends L2Store {
  sharedTier<V>(host: TierHost<V>): SharedTier<V>
}

/**
 * A cache's view of its L2 store: keys under the cache's name and namespace version, entries in
 * envelopes, every operation within the store's timeout and behind its circuit breaker. Never
 * throws: a failed or slow operation is counted and reads as "nothing there". It comes with the
 * store (`TieredStore`), so a function whose caches have no L2 neither bundles nor loads it.
 */
export class SharedTier<V> {
  readonly #store: L2Store
  readonly #settings: L2Settings
  readonly #breaker: CircuitBreaker
  readonly #refusals: StoreRefusals
  readonly #failedIn: WeakSet<CacheScope>
  readonly #host: TierHost<V>
  readonly #versionKey: string
  readonly #leaseWaitMs: number
  #version: number | undefined
  /**
   * The namespace version of entries memory took from elsewhere (a cold-start snapshot's) before
   * this environment knew one: memory belongs to it until the version is read (see `memoryVersion`).
   */
  #adoptedVersion: number | undefined
  /** The namespace version read under way, shared by every caller that needs it. */
  #versionSync: Promise<void> | undefined
  /** When the namespace version is next read (it tells that another environment cleared the cache). */
  #versionDueAt = Number.NEGATIVE_INFINITY
  /**
   * The last read of the namespace version failed: until a version read or bump succeeds, sessions
   * start failed and skip L2. A get that waited for that read has met its one L2 timeout, and the
   * version it would key its reads by is in doubt. The version is read again at the next call, not
   * `versionCheck` later: L2 comes back as soon as the breaker lets a read through and it is answered.
   */
  #versionUnreadable = false
  /**
   * The move of the namespace version under way (`clear()`). Until it is known, every get, set and
   * delete waits for it: a session opened meanwhile would read, and keep in memory, or write the
   * entries `clear()` is removing, under the version being left.
   */
  #bump: Promise<void> | undefined
  /** Moves of the version begun: a version read answered after one began tells an older version. */
  #bumps = 0
  #warnedUnserialisable = false
  #warnedCorruptVersion = false

  constructor(store: L2Store, host: TierHost<V>) {
    this.#store = store
    this.#settings = store.settings
    const health = healthOf(store)
    this.#breaker = health.breaker
    this.#refusals = health.refusals
    this.#failedIn = health.failedIn
    this.#host = host
    this.#versionKey = `${host.cacheName}:version`
    this.#leaseWaitMs = Math.min(this.#settings.lease?.waitMs ?? 0, host.loadTimeoutMs ?? Number.POSITIVE_INFINITY)
    host.versionDue(this.#versionDueAt)
  }

  /** `scope` waited for a flight whose L2 operation timed out: the rest of it skips the store, as the flight's own scope does. */
  skipFor(scope: CacheScope): void {
    this.#failedIn.add(scope)
  }

  get circuit(): CircuitState {
    return this.#breaker.state
  }

  /**
   * Whether the store takes a batch's leases in one operation (Redis, DynamoDB): a getMany's misses
   * are then read, leased and written as a batch even without `loadMany`, each loaded by its own
   * loader call, under one timeout for the read and one for the leases rather than one per key.
   */
  get takesLeasesTogether(): boolean {
    return this.#store.acquireLeases !== undefined
  }

  /**
   * The namespace version memory's entries belong to: the one this environment read or moved the
   * version to last, else the one of entries it took from elsewhere before that (`adoptVersion`);
   * undefined while it knows none. A read of the version that finds another drops memory.
   */
  get memoryVersion(): number | undefined {
    return this.#version ?? this.#adoptedVersion
  }

  /**
   * Whether entries written elsewhere under namespace `version` (a cold-start snapshot's) may join
   * memory: when memory belongs to that version, or to none yet. Memory then belongs to it until the
   * version is read, and that read drops memory if the version has moved on (a clear() elsewhere),
   * as it drops entries of a version read before.
   */
  adoptVersion(version: number): boolean {
    const known = this.memoryVersion
    if (known === undefined) this.#adoptedVersion = version
    return known === undefined || known === version
  }

  /**
   * Operations counted for `scope`; undefined until the namespace version is known, since every
   * key depends on it. Born failed (every operation skipped) while the last version read had
   * failed, and in an invocation that already met a failure of this store.
   */
  open(scope: CacheScope | undefined): TierSession | undefined {
    if (this.#version === undefined) return undefined
    const session = new TierSession(this.#host.tally(scope), this.#version, scope)
    session.failed = this.#versionUnreadable || (scope !== undefined && this.#failedIn.has(scope))
    return session
  }

  /**
   * Reads the namespace version (one read at a time); a version moved on by another environment's
   * `clear()` empties the cache's memory. Without a known version L2 cannot be used, so it is read
   * again at the next call (the breaker keeps that cheap).
   */
  syncVersion(scope: CacheScope | undefined): Promise<void> {
    const synced = this.#bump !== undefined ? this.#afterBumps() : this.#readVersionOnce(scope)
    // A caller that waited for a read or a move of the version that failed met its one L2 timeout
    // there: the rest of its invocation skips the store, rather than read the version again at once.
    return synced.then(() => {
      if (this.#versionUnreadable && scope !== undefined) this.#failedIn.add(scope)
    })
  }

  #readVersionOnce(scope: CacheScope | undefined): Promise<void> {
    const sync: Promise<void> = (this.#versionSync ??= this.#readVersion(scope)
      .then((moved) => {
        if (moved) this.#host.forget()
        this.#versionChecked()
      })
      .finally(() => {
        this.#versionSync = undefined
      }))
    // A clear() begun while the version was read is waited for too.
    return sync.then(() => this.#afterBumps())
  }

  /** Once no move of the version (`clear()`) is under way, however many began meanwhile. */
  async #afterBumps(): Promise<void> {
    while (this.#bump !== undefined) await this.#bump
  }

  /** Moves the namespace version on: every environment's entries are gone once it reads the new version. */
  async bumpVersion(scope: CacheScope | undefined): Promise<void> {
    // Skipped, as every operation is, in an invocation that met a failure of the store: it would
    // pay a second L2 timeout, and the store had its chance to answer.
    if (scope !== undefined && this.#failedIn.has(scope)) return
    this.#bumps++
    const bump: Promise<void> = this.#moveVersion(scope).finally(() => {
      if (this.#bump === bump) this.#bump = undefined
      this.#versionChecked()
    })
    this.#bump = bump
    // Due at once: gets, sets and deletes from now on wait for the new version (`syncVersion`).
    this.#versionChecked()
    await bump
  }

  async #moveVersion(scope: CacheScope | undefined): Promise<void> {
    // A version key that holds no counter restarts at the wall clock's milliseconds: beyond every
    // version a count of clears from 0 (or an earlier restart) gave, so no earlier entry comes back.
    const bumped = await this.#attempt(
      this.#host.tally(scope),
      (signal) => this.#store.incrementCounter(this.#versionKey, Date.now(), signal),
      RefusableKind.MoveVersion,
      () => {
        if (scope !== undefined) this.#failedIn.add(scope)
        // Whether it moved is unknown (a timed-out INCR may have run), and every get that waited for it
        // met its failure: L2 is skipped, as after a failed version read, until the version is read again.
        this.#versionUnreadable = true
      },
    )
    // Refused (out of memory, say), it did not move: the version known stays.
    if (bumped !== unavailable) {
      this.#version = bumped
      this.#versionUnreadable = false
    }
  }

  /** L2 (within its timeout), then the lease, then the source; a loaded value is written back to L2. */
  async fetch(key: string, storeKey: string, control: FlightControl, scope: CacheScope | undefined, read: SharedRead, freshBeyond: number): Promise<Fetched<V>> {
    const session = this.open(scope)
    if (session === undefined) return this.#host.load(key, storeKey, control.signal, scope)
    if (read !== 'skip') {
      const served = this.#servable(storeKey, await this.#read(session, storeKey), read, control.isCurrent)
      if (served !== undefined) return served
      // A read that failed, or was skipped (breaker open), is no miss: it was counted as an error or not made.
      if (!session.failed) session.tally.add('l2Misses')
    }
    const claim = await this.#claim(session, storeKey, control.signal, freshBeyond)
    if (claim.entry !== undefined) return { value: claim.entry.value, entry: claim.entry, outcome: Outcome.Hit, tier: Tier.L2 }
    try {
      // Abandoned while it waited for another environment: nobody wants the load any more.
      control.signal.throwIfAborted()
      const fetched = await this.#host.load(key, storeKey, control.signal, scope)
      if (control.isCurrent()) await this.write(session, key, storeKey, fetched.entry)
      return session.timedOut ? { ...fetched, l2TimedOut: true } : fetched
    } finally {
      await claim.release()
    }
  }

  /**
   * Reads every miss of a batch in one operation; what L2 serves goes into `results`. Returns the
   * misses left for the source.
   */
  async readMany(session: TierSession, misses: readonly Miss[], results: Map<string, Fetched<V>>, isCurrent: (storeKey: string) => () => boolean): Promise<readonly Miss[]> {
    const keys = misses.map((miss) => this.#keyOf(session, miss.storeKey))
    const payloads = await this.#run(session, (signal) => this.#store.getMany(keys, signal))
    const toLoad = misses.filter((miss, index) => {
      const payload = payloads === unavailable ? undefined : payloads[index]
      const shared = payload === undefined ? undefined : this.#decode(payload, miss.storeKey)
      const served = this.#servable(miss.storeKey, shared, miss.read, isCurrent(miss.storeKey))
      if (served !== undefined) results.set(miss.storeKey, served)
      return served === undefined
    })
    if (!session.failed) session.tally.add('l2Misses', toLoad.length)
    return toLoad
  }

  /**
   * Stores `entry` until its last usable moment; undefined ("not found", not remembered) removes the
   * key. Whether L2 took it: false when the entry was skipped (expired, too large, no JSON) or the
   * store failed or refused.
   */
  async write(session: TierSession, key: string, storeKey: string, entry: Entry<V> | undefined): Promise<boolean> {
    if (entry === undefined) return this.#remove(session, storeKey)
    const stored = this.#stored(session, key, entry)
    if (stored === undefined) return false
    return (await this.#run(session, (signal) => this.#store.set(this.#keyOf(session, storeKey), stored.payload, stored.ttlMs, signal), RefusableKind.Write)) !== unavailable
  }

  /** `entry` as L2 stores it, until its last usable moment; undefined, counted, when it is not written (expired, too large, no JSON). */
  #stored(session: TierSession, key: string, entry: Entry<V>): { readonly payload: Buffer; readonly ttlMs: number } | undefined {
    const monoNow = this.#host.now()
    const ttlMs = Math.ceil(Math.max(entry.revalidateUntil, entry.fallbackUntil) - monoNow)
    if (ttlMs <= 0) return undefined
    let payload: Buffer
    try {
      payload = encodeEntry(entry, monoNow, Date.now(), this.#settings.compressAboveBytes)
    } catch (error) {
      this.#skipUnserialisable(session, key, error)
      return undefined
    }
    if (payload.length > this.#settings.maxPayloadBytes) {
      session.tally.add('l2Skipped')
      return undefined
    }
    return { payload, ttlMs }
  }

  /**
   * Writes `entry` (from `set`) through to L2, the namespace version read first when it is due. One
   * L2 does not take (a store out of memory, a value too large) removes the key instead: the value it
   * replaces must not go on serving other environments.
   */
  async writeThrough(key: string, storeKey: string, entry: Entry<V> | undefined, scope: CacheScope | undefined): Promise<void> {
    const session = await this.#currentSession(scope)
    if (session !== undefined && !(await this.write(session, key, storeKey, entry))) await this.#remove(session, storeKey)
  }

  /** Removes `storeKey` from L2 (for `delete`), the namespace version read first when it is due. */
  async removeKey(storeKey: string, scope: CacheScope | undefined): Promise<void> {
    const session = await this.#currentSession(scope)
    if (session !== undefined) await this.#remove(session, storeKey)
  }

  async #currentSession(scope: CacheScope | undefined): Promise<TierSession | undefined> {
    if (this.#host.now() >= this.#versionDueAt) await this.syncVersion(scope)
    return this.open(scope)
  }

  #versionChecked(): void {
    const now = this.#host.now()
    this.#versionDueAt = this.#bump !== undefined ? Number.NEGATIVE_INFINITY : this.#version === undefined || this.#versionUnreadable ? now : now + this.#settings.versionCheckMs
    this.#host.versionDue(this.#versionDueAt)
  }

  /** Reads the namespace version; true when it is not the one memory belongs to (another environment cleared the cache since). */
  async #readVersion(scope: CacheScope | undefined): Promise<boolean> {
    if (scope !== undefined && this.#failedIn.has(scope)) return false
    const bumps = this.#bumps
    const answer = await this.#attempt(this.#host.tally(scope), (signal) => this.#store.readCounter(this.#versionKey, signal), undefined)
    // A version that is no counter (another program wrote the key, or a key of another type) is unreadable: keyed by NaN, every check would see it move.
    const read = answer !== unavailable && !Number.isSafeInteger(answer) ? this.#corruptVersion(answer) : answer
    if (read === unavailable && scope !== undefined) this.#failedIn.add(scope)
    // A clear() began meanwhile: its version is the newer, whatever this read (sent before it, perhaps answered after) says.
    if (bumps !== this.#bumps) return false
    this.#versionUnreadable = read === unavailable
    if (read === unavailable) return false
    const known = this.memoryVersion
    const moved = known !== undefined && known !== read
    this.#version = read
    return moved
  }

  #corruptVersion(found: number): typeof unavailable {
    if (!this.#warnedCorruptVersion) {
      this.#warnedCorruptVersion = true
      const what = Number.isNaN(found) ? 'no number' : String(found)
      this.#host.logger.warn(`middy-cache: cache "${this.#host.cacheName}" skips its shared tier: its namespace version "${this.#versionKey}" holds ${what}, not a counter; clear() the cache to replace it (deleting the key would bring back the entries of version 0) (warned once)`)
    }
    return unavailable
  }

  async #read(session: TierSession, storeKey: string): Promise<Entry<V> | undefined> {
    const payload = await this.#run(session, (signal) => this.#store.get(this.#keyOf(session, storeKey), signal))
    return payload === unavailable || payload === undefined ? undefined : this.#decode(payload, storeKey)
  }

  /**
   * What an entry read from L2 serves, by its phase: fresh is a hit; stale within staleWhileRevalidate
   * serves callers that have nothing (`read` usable); stale within staleIfError serves nobody but is
   * kept in memory to stand in should the load fail.
   */
  #servable(storeKey: string, shared: Entry<V> | undefined, read: SharedRead, isCurrent: () => boolean): Fetched<V> | undefined {
    if (shared === undefined) return undefined
    switch (phaseOf(shared, this.#host.now())) {
      case Phase.Fresh:
        return { value: shared.value, entry: shared, outcome: Outcome.Hit, tier: Tier.L2 }
      case Phase.Revalidate:
        return read === 'usable' ? { value: shared.value, entry: shared, outcome: Outcome.Stale, tier: Tier.L2 } : undefined
      case Phase.Fallback: {
        const memory = this.#host.memory
        const current = memory.get(storeKey)
        if (isCurrent() && (current === undefined || current.createdAt < shared.createdAt)) memory.set(storeKey, shared)
        return undefined
      }
      case Phase.Expired:
        return undefined
    }
  }

  /** Whether the key is gone from L2. */
  async #remove(session: TierSession, storeKey: string): Promise<boolean> {
    return (await this.#run(session, (signal) => this.#store.delete(this.#keyOf(session, storeKey), signal), RefusableKind.Delete)) !== unavailable
  }

  /**
   * Tries, together and once each, the lease of every miss a batch would load (see `#claim`), so that
   * a batch in many environments still loads each key once: a key another environment wrote is
   * served from L2 into `results`. Returns the misses left to load, and how each is finished once
   * loaded (its value written, its lease given back); and those another environment holds. The
   * batch waits for none of these while it holds its own leases: two batches that took each other's
   * keys (asked in another order) would each wait out `lease.wait` for the other, then both load
   * everything.
   */
  async claimMany(session: TierSession, misses: readonly Miss[], results: Map<string, Fetched<V>>): Promise<BatchClaims<V>> {
    const token = randomUUID()
    const attempts = await this.#tryLeases(session, misses.map((miss) => miss.storeKey), token, Number.NEGATIVE_INFINITY)
    const toLoad: Miss[] = []
    const heldElsewhere: Miss[] = []
    const claims = new Map<string, Claim<V>>()
    misses.forEach((miss, index) => {
      const claim = attempts[index] ?? noClaim
      if (claim === heldByAnother) {
        heldElsewhere.push(miss)
      } else if (claim.entry === undefined) {
        toLoad.push(miss)
        claims.set(miss.storeKey, claim)
      } else {
        results.set(miss.storeKey, { value: claim.entry.value, entry: claim.entry, outcome: Outcome.Hit, tier: Tier.L2 })
      }
    })
    return { toLoad, heldElsewhere, finish: this.#finisher(session, token, claims) }
  }

  /**
   * How a batch's keys are finished once loaded. A store that writes many at once, or gives many
   * leases back at once (DynamoDB), gets those of the keys done loading in the same turn (all of
   * them, after one `loadMany` call) together, in one operation of each under one timeout, each
   * lease given back once every value of the turn is written; no key waits for another still
   * loading. Otherwise each key's value is written, then its lease given back, on its own.
   */
  #finisher(session: TierSession, token: string, claims: ReadonlyMap<string, Claim<V>>): BatchClaims<V>['finish'] {
    if (this.#store.writeMany === undefined && this.#store.releaseLeases === undefined) {
      return async (miss, loaded) => {
        if (loaded !== undefined) await this.write(session, miss.key, miss.storeKey, loaded.entry)
        await claims.get(miss.storeKey)?.release()
      }
    }
    const together = gathered((finished: readonly Finished<V>[]) => this.#finishTogether(session, token, finished))
    return (miss, loaded) => {
      const lease = claims.get(miss.storeKey)?.held === true ? this.#keyOf(session, miss.storeKey) : undefined
      return loaded === undefined && lease === undefined ? Promise.resolve() : together({ miss, loaded, lease })
    }
  }

  async #finishTogether(session: TierSession, token: string, finished: readonly Finished<V>[]): Promise<void> {
    await this.#writeMany(session, finished.flatMap(({ miss, loaded }) => (loaded === undefined ? [] : [{ miss, entry: loaded.entry }])))
    await this.#releaseMany(session, finished.flatMap(({ lease }) => (lease === undefined ? [] : [lease])), token)
  }

  /**
   * Writes a batch's entries (see `write`): in one operation when the store makes many writes at
   * once, else one each, together. While the store refuses to make them at once (a DynamoDB role
   * without dynamodb:BatchWriteItem), in one operation of a request each: the values still reach L2,
   * and a write alone (`set`, a get's) goes on as it did. The first refusals are told once that
   * fallback is known: a role that may make neither gets one warning that names both.
   */
  async #writeMany(session: TierSession, entries: readonly { readonly miss: Miss; readonly entry: Entry<V> | undefined }[]): Promise<void> {
    const store = this.#store
    const writeMany = store.writeMany?.bind(store)
    const writeEach = store.writeEach?.bind(store)
    if (writeMany === undefined || writeEach === undefined) {
      await Promise.all(entries.map(({ miss, entry }) => this.write(session, miss.key, miss.storeKey, entry)))
      return
    }
    const writes = entries.flatMap(({ miss, entry }): L2Write[] => {
      const key = this.#keyOf(session, miss.storeKey)
      if (entry === undefined) return [{ key, payload: undefined }]
      const stored = this.#stored(session, miss.key, entry)
      return stored === undefined ? [] : [{ key, ...stored }]
    })
    if (writes.length === 0) return
    const firstRefusals: StoreRefusal[] = []
    const firstRefused = (refusal: StoreRefusal): void => {
      firstRefusals.push(refusal)
    }
    const together = await this.#run(session, (signal) => writeMany(writes, signal), RefusableKind.WriteMany, { firstRefused })
    // One by one only when refused (just now, or skipped while refused): a failure of the moment is no reason to send them again.
    if (together === unavailable && this.#refusals.refuses(RefusableKind.WriteMany)) {
      const values = writes.filter(({ payload }) => payload !== undefined).length
      await this.#run(session, (signal) => writeEach(writes, signal), RefusableKind.Write, { values, firstRefused })
    }
    this.#warnWritesRefused(firstRefusals)
  }

  /**
   * Tells of the first refusals a batch's writes met: both at once, or the refusal to write many
   * values together, whose fallback is then one request each unless the store refuses that too.
   */
  #warnWritesRefused(refusals: readonly StoreRefusal[]): void {
    const [first, second] = refusals
    if (first === undefined) return
    if (second !== undefined) {
      this.#warnRefused(refusals, writesRefusedBothWays)
      return
    }
    const refusesEach = first.kind === RefusableKind.WriteMany && this.#refusals.refuses(RefusableKind.Write)
    this.#warnRefused([first], refusesEach ? { ...refusalEffects[first.kind], meanwhile: refusalEffects[RefusableKind.Write].meanwhile } : refusalEffects[first.kind])
  }

  /** Gives back a batch's leases on `keys` (see `#release`): in one operation when the store gives many back at once, else one each, together. */
  async #releaseMany(session: TierSession, keys: readonly string[], token: string): Promise<void> {
    const store = this.#store
    const releaseLeases = store.releaseLeases?.bind(store)
    if (releaseLeases === undefined) await Promise.all(keys.map((key) => this.#release(session, key, token)))
    else if (keys.length > 0) await this.#giveLeasesBack(session, (signal) => releaseLeases(keys, token, signal))
  }

  /**
   * Takes the lease on `storeKey` so that one environment loads it. When another holds it, polls for
   * the value it will write (or for the lease, should it give up) for at most the lease's wait; then
   * the caller loads itself. Returns an entry found on the way that stays fresh past `freshBeyond`
   * (a refresh ahead wants a newer copy than its own), or the lease to release.
   */
  async #claim(session: TierSession, storeKey: string, signal: AbortSignal, freshBeyond: number): Promise<Claim<V>> {
    const token = randomUUID()
    const deadline = monotonicClock() + this.#leaseWaitMs
    let claim = await this.#tryLease(session, storeKey, token, freshBeyond)
    for (let pauseMs = firstPollMs; claim === heldByAnother; pauseMs = Math.min(pauseMs * 2, longestPollMs)) {
      const leftMs = deadline - monotonicClock()
      if (leftMs <= 0) return noClaim
      try {
        // Referenced: the invocation waits on it, and an idle keep-alive socket (DynamoDB's) would
        // not keep the event loop alive, which the Lambda runtime takes for a handler that never answers.
        await sleep(Math.min(pauseMs, leftMs), undefined, { signal })
      } catch {
        return noClaim // the flight was abandoned
      }
      claim = await this.#poll(session, storeKey, token, freshBeyond)
    }
    return claim
  }

  /**
   * One look, while another environment holds the lease on `storeKey`, at what it did: where the
   * store reads a lease without taking it, a read of the value and the lease, and a try at the lease
   * only once it is gone (expired, or given back by a holder whose load failed) with nothing fresh
   * enough written; a poll then makes no write. Else a try at the lease, which reads the value too.
   */
  async #poll(session: TierSession, storeKey: string, token: string, freshBeyond: number): Promise<Claim<V> | typeof heldByAnother> {
    const store = this.#store
    const peekLease = store.peekLease?.bind(store)
    if (peekLease === undefined) return this.#tryLease(session, storeKey, token, freshBeyond)
    const key = this.#keyOf(session, storeKey)
    const seen = await this.#run(session, (signal) => peekLease(key, signal))
    if (seen === unavailable) return noClaim
    const entry = this.#freshEnough(seen.payload, storeKey, freshBeyond)
    if (entry !== undefined) return { entry, held: false, release: nothingToRelease }
    return seen.held ? heldByAnother : this.#tryLease(session, storeKey, token, freshBeyond)
  }

  async #tryLease(session: TierSession, storeKey: string, token: string, freshBeyond: number): Promise<Claim<V> | typeof heldByAnother> {
    const [claim = noClaim] = await this.#tryLeases(session, [storeKey], token, freshBeyond)
    return claim
  }

  /**
   * One attempt at the lease of each of `storeKeys` under `token` (see `#claim`), aligned with them:
   * `heldByAnother` where another environment has it and nothing fresh enough is there yet.
   */
  async #tryLeases(session: TierSession, storeKeys: readonly string[], token: string, freshBeyond: number): Promise<(Claim<V> | typeof heldByAnother)[]> {
    const lease = this.#settings.lease
    const leased = storeKeys.map((storeKey) => ({ storeKey, key: this.#keyOf(session, storeKey) }))
    const [first] = leased
    if (lease === undefined || first === undefined) return leased.map(() => noClaim)
    if (this.#refusals.refuses(RefusableKind.GiveLeaseBack) && !(await this.#givesLeasesBackAgain(session, first.key, token))) return leased.map(() => noClaim)
    const attempts = await this.#takeLeases(session, leased.map(({ key }) => key), token, lease.ttlMs)
    return Promise.all(leased.map(({ storeKey, key }, index) => this.#claimOf(session, storeKey, key, token, attempts[index] ?? unavailable, freshBeyond)))
  }

  /**
   * The leases of `keys`: in one operation when there are several and the store takes many at once
   * (one timeout for them all, as for one), else one operation each, together.
   */
  async #takeLeases(session: TierSession, keys: readonly string[], token: string, ttlMs: number): Promise<(LeaseAttempt | typeof unavailable)[]> {
    const store = this.#store
    const acquireLeases = store.acquireLeases?.bind(store)
    if (keys.length > 1 && acquireLeases !== undefined) {
      const attempts = await this.#run(session, (signal) => acquireLeases(keys, token, ttlMs, signal), RefusableKind.TakeLease)
      return attempts === unavailable ? keys.map(() => unavailable) : attempts
    }
    return Promise.all(keys.map((key) => this.#run(session, (signal) => store.acquireLease(key, token, ttlMs, signal), RefusableKind.TakeLease)))
  }

  /** What an attempt at the lease on `storeKey` came to: an entry fresh past `freshBeyond` found beside it, the lease to release, or `heldByAnother`. */
  async #claimOf(session: TierSession, storeKey: string, key: string, token: string, attempt: LeaseAttempt | typeof unavailable, freshBeyond: number): Promise<Claim<V> | typeof heldByAnother> {
    if (attempt === unavailable) return noClaim
    const found = this.#freshEnough(attempt.payload, storeKey, freshBeyond)
    const release = (): Promise<void> => this.#release(session, key, token)
    if (found !== undefined) {
      if (attempt.acquired) await release()
      return { entry: found, held: false, release: nothingToRelease }
    }
    return attempt.acquired ? { entry: undefined, held: true, release } : heldByAnother
  }

  /** The entry `payload` holds if it is fresh and stays so past `freshBeyond`: what a lease's waiter takes instead of loading. */
  #freshEnough(payload: Uint8Array | undefined, storeKey: string, freshBeyond: number): Entry<V> | undefined {
    const found = payload === undefined ? undefined : this.#decode(payload, storeKey)
    return found !== undefined && phaseOf(found, this.#host.now()) === Phase.Fresh && found.freshUntil > freshBeyond ? found : undefined
  }

  #release(session: TierSession, key: string, token: string): Promise<void> {
    return this.#giveLeasesBack(session, (signal) => this.#store.releaseLease(key, token, signal))
  }

  /**
   * Gives leases back, even after another operation of the flight failed with an answer (its
   * value could not be written, say): every other environment would otherwise wait them out. Not
   * after a timeout, which would slow the flight by a second one.
   */
  async #giveLeasesBack(session: TierSession, operation: (signal: AbortSignal) => Promise<void>): Promise<void> {
    if (session.failed && !session.timedOut) await this.#attempt(session.tally, operation, RefusableKind.GiveLeaseBack)
    else await this.#run(session, operation, RefusableKind.GiveLeaseBack)
  }

  /**
   * Whether a store that refused to give leases back does so again: the probe, once its back-off has
   * passed, gives back the lease under `token`, which holds none yet, so nothing is removed. No lease
   * is taken before: one it could not give back would hold other environments' misses for `lease.wait`.
   */
  async #givesLeasesBackAgain(session: TierSession, key: string, token: string): Promise<boolean> {
    return (await this.#run(session, (signal) => this.#store.releaseLease(key, token, signal), RefusableKind.GiveLeaseBack)) !== unavailable
  }

  /** `k:` + the key, or `h:` + the hash for keys stored hashed, so the two can never meet. */
  #keyOf(session: TierSession, storeKey: string): string {
    const encoded = storeKey.charCodeAt(0) === 0 ? `h:${storeKey.slice(1)}` : `k:${storeKey}`
    return `${this.#host.cacheName}:${session.version}:${encoded}`
  }

  #decode(payload: Uint8Array, storeKey: string): Entry<V> | undefined {
    return decodeEntry<V>(payload, this.#host.now(), Date.now(), storeKey.length * 2)
  }

  /** Counts a value kept out of L2 for what JSON would do to it; warns once, naming the key and what in the value. */
  #skipUnserialisable(session: TierSession, key: string, error: unknown): void {
    session.tally.add('l2Skipped')
    if (this.#warnedUnserialisable) return
    this.#warnedUnserialisable = true
    const reason = error instanceof Error ? error.message : String(error)
    this.#host.logger.warn(
      `middy-cache: cache "${this.#host.cacheName}" keeps some values in memory only, not in the shared tier, which stores JSON (counted in l2Skipped; warned once). The first: key ${this.#host.describeKey(key)}: ${reason}`,
    )
  }

  /** An operation of `session`, which the first the store does not answer ends (see `#attempt`). */
  #run<R>(session: TierSession, operation: (signal: AbortSignal) => Promise<R>, kind?: RefusableKind, handling?: RefusalHandling): Promise<R | typeof unavailable> {
    if (session.failed) return Promise.resolve(unavailable)
    const unanswered = (timedOut: boolean): void => {
      session.failed = true
      if (timedOut) session.timedOut = true
      if (session.scope !== undefined) this.#failedIn.add(session.scope)
    }
    return this.#attempt(session.tally, operation, kind, unanswered, handling)
  }

  /**
   * One operation within the timeout, behind the breaker and, for a `kind` the store may refuse,
   * its refusals; a failure, timeout or refusal is counted and reads as unavailable. `unanswered`
   * hears of an operation the store did not answer (it failed, timed out, or the open breaker
   * skipped it), never of one it refused, or that was skipped as refused: those cost no timeout.
   * `handling`: what a refusal of `kind` counts and who tells of it (see `RefusalHandling`).
   */
  #attempt<R>(
    tally: Tally,
    operation: (signal: AbortSignal) => Promise<R>,
    kind: RefusableKind | undefined,
    unanswered?: (timedOut: boolean) => void,
    handling: RefusalHandling = {},
  ): Promise<R | typeof unavailable> {
    const admission = this.#breaker.admit()
    if (admission === undefined) {
      unanswered?.(false)
      return Promise.resolve(unavailable)
    }
    if (kind !== undefined && !this.#refusals.admit(kind)) {
      this.#breaker.inconclusive(admission)
      // A value the store is known to refuse stays in memory only, as one too large for it does.
      if (kind === RefusableKind.Write) tally.add('l2Skipped', handling.values ?? 1)
      return Promise.resolve(unavailable)
    }
    const controller = new AbortController()
    const startedAt = monotonicClock()
    return new Promise((resolve) => {
      let settled = false
      const settle = (result: R | typeof unavailable): void => {
        settled = true
        clearTimeout(timer)
        tally.add('l2TimeMs', monotonicClock() - startedAt)
        tally.add('l2Operations')
        resolve(result)
      }
      const fail = (timedOut: boolean): void => {
        controller.abort()
        if (kind !== undefined) this.#refusals.inconclusive(kind)
        // Counted toward the breaker only when the store had its timeout of running time to answer
        // (an operation pending at a freeze, an abandoned load's lease release say, fails at the thaw).
        if (endedAfterFreeze(startedAt, this.#settings.timeoutMs)) {
          this.#breaker.inconclusive(admission)
        } else if (this.#breaker.failed(admission) && monotonicClock() - startedAt >= this.#settings.timeoutMs - 1) {
          // A timeout that opened the circuit (or failed its probe), not a leftover operation's.
          this.#store.unanswered?.()
        }
        tally.add('l2Errors')
        unanswered?.(timedOut)
        settle(unavailable)
      }
      // Whichever comes first settles; the other finds the promise settled and changes nothing.
      // An answer already there when a late timer fires wins: a lease it took would otherwise be given back by nobody.
      const timer = timeoutAfterPendingIo(() => {
        if (!settled) fail(true)
      }, this.#settings.timeoutMs).unref()
      let running: Promise<R>
      try {
        running = operation(controller.signal)
      } catch {
        fail(false)
        return
      }
      running.then(
        (result) => {
          if (settled) return
          this.#breaker.succeeded(admission)
          if (kind !== undefined) this.#refusals.answered(kind)
          settle(result)
        },
        (error: unknown) => {
          const refusal = kind === undefined ? undefined : this.#store.refusal?.(error)
          // Even when late: the store answered, and what it said may be how to fix it. A refusal of one
          // kind of operation is told by its own warning.
          if (refusal === undefined) warnIfMisconfigured(this.#store, error, this.#host.cacheName, this.#host.logger)
          if (settled) return
          if (kind === undefined || refusal === undefined) {
            fail(false)
            return
          }
          // The store answered: it is up, and refuses this kind of operation for now.
          this.#breaker.succeeded(admission)
          if (this.#refusals.refused(kind)) {
            const told = { kind, said: refusal, error }
            if (handling.firstRefused === undefined) this.#warnRefused([told], refusalEffects[kind])
            else handling.firstRefused(told)
          }
          tally.add('l2Errors')
          settle(unavailable)
        },
      )
    })
  }

  /**
   * Names the store's answers, and what to fix when the store tells they come from how it is set up
   * (a replica, an ACL user's or a role's permissions): that once per store, though a replica refuses
   * every kind.
   */
  #warnRefused(refusals: readonly StoreRefusal[], { refuses, meanwhile }: RefusalEffect): void {
    const said = refusals.map((refusal) => `"${refusal.said}"`).join('; ')
    const advice = refusals.flatMap(({ error }) => {
      const misconfiguration = newMisconfiguration(this.#store, error)
      return misconfiguration === undefined ? [] : [`; ${misconfiguration.advice}`]
    })
    this.#host.logger.warn(
      `middy-cache: cache "${this.#host.cacheName}": ${this.#store.kind} refuses ${refuses} (${said}): ${meanwhile}, and it is asked again every ${this.#settings.breaker.coolDownMs} ms${advice.join('')} (warned once)`,
    )
  }
}
