import { S3Client } from '@aws-sdk/client-s3'
import { monotonicClock } from '../cache/clock.js'
import { quotedKey } from '../cache/errors.js'
import { maxClockSkewMs } from '../cache/json-envelope.js'
import type { CacheRegistration } from '../cache/registry.js'
import { hold } from '../lambda/deadline.js'
import { reasonOf } from '../lambda/reason.js'
import { decodeSnapshot, encodeSnapshot, maxSnapshotBytes, recordBudgetBytes, type ReadSnapshot } from './codec.js'
import { collectEntries, collectNamespaceVersions, collectPolicies, coveredCaches, loadedWithoutSnapshot, restoreEntries, type EntryFilter } from './covered-caches.js'
import { snapshotKey, type FunctionIdentity } from './object-key.js'
import type { ResolvedSnapshotOptions } from './options.js'
import { Absence, getSnapshotObject, TimedRead, type ObjectLocation, type ReadOutcome } from './s3-read.js'
import { putSnapshotObject } from './s3-write.js'
import { trimToFit } from './trim-to-fit.js'
import { WriteSchedule } from './write-schedule.js'

/** How long a read just given up takes to come to its outcome: its request is aborted at once. */
const abandonedReadSettleMs = 50

/** What the snapshot brought this environment, told to the one invocation that waited for it first. */
export interface SnapshotReport {
  /** A usable snapshot arrived in time. */
  readonly found: boolean
  /** From the start of the read at INIT to its end, or to the moment it was given up. */
  readonly durationMs: number
  /** Entries restored, by covered cache name; every covered cache is there, 0 included. */
  readonly hydrated: ReadonlyMap<string, number>
}

/** The object's snapshot; undefined for a body that is not one. */
type Read = ReadSnapshot | undefined | Absence

/** The snapshot in the store as this environment last read or wrote it: the namespace versions it records, and the covered caches then. */
interface KnownSnapshot {
  readonly namespaceVersions: ReadonlyMap<string, unknown>
  readonly registrations: readonly CacheRegistration[]
}

/**
 * The cold-start snapshot of one execution environment: read from S3 as soon as it is made (at
 * INIT), restored once into the covered caches when the first invocation has waited for it at most
 * `timeout`, and written again when none usable was found or the one found ages past half
 * `maxAge` (and this environment's random delay, see WriteSchedule). Never throws, never rejects:
 * what goes wrong is told to the logger and counted as a miss.
 */
export class EnvironmentSnapshot {
  readonly #options: ResolvedSnapshotOptions
  readonly #location: ObjectLocation
  readonly #client: S3Client
  readonly #keep: EntryFilter
  readonly #read: TimedRead<Read>
  readonly #schedule: WriteSchedule
  #hydration: Promise<SnapshotReport> | undefined
  #reported = false
  #hydrated = false
  /** The covered caches loaded their values before the snapshot arrived: nobody waits for it any more. */
  #overtaken = false
  #known: KnownSnapshot | undefined
  /** The covered caches whose values JSON would change have been warned about, once each. */
  readonly #warnedUnportable = new Set<string>()
  readonly #warnUnportable = (cache: string, key: string, reason: string): void => {
    if (this.#warnedUnportable.has(cache)) return
    this.#warnedUnportable.add(cache)
    this.#warn(`middy-cache: the cold-start snapshot ${this.#where()} leaves out some values of cache "${cache}", which JSON would not bring back as they are; they stay in memory (warned once per cache). The first: key ${quotedKey(key)}: ${reason}`)
  }
  /**
   * Whether the snapshot known holds entries a new environment's cache would not take back: a
   * covered cache with L2 has moved to another namespace version than the one the snapshot records
   * for it (a clear() here or elsewhere, learnt at a version read), or the snapshot records none.
   * Bound once: asked on invocations that may write.
   */
  readonly #knownIsOutdated = (): boolean => {
    const known = this.#known
    return known !== undefined && known.registrations.some(({ cache }) => {
      const current = cache.namespaceVersion
      return current !== undefined && current !== known.namespaceVersions.get(cache.name)
    })
  }

  constructor(options: ResolvedSnapshotOptions, fn: FunctionIdentity, keep: EntryFilter) {
    this.#options = options
    this.#location = { bucket: options.bucket, key: snapshotKey(options.prefix, fn, options.version, options.caches) }
    this.#client = options.client ?? new S3Client({ maxAttempts: 1, ...options.clientConfig })
    this.#keep = keep
    this.#schedule = new WriteSchedule(options.maxAgeMs)
    this.#read = new TimedRead(async (signal) => {
      const body = await getSnapshotObject(this.#client, this.#location, signal)
      return typeof body === 'string' ? body : decodeSnapshot(body)
    }, monotonicClock)
  }

  /** Whether the snapshot was restored (or given up): a write may now be due. */
  get hydrated(): boolean {
    return this.#hydrated
  }

  /** Whether restoring is over and its report was handed out: later invocations pay nothing for the snapshot. */
  get done(): boolean {
    return this.#hydrated && this.#reported
  }

  /**
   * Waits for the read (at most `waitMs`, the first caller's: `timeout` within what its invocation
   * has left) and restores it, once for the environment, unless every covered cache gets its values
   * from its own loads first: the wait then ends at once, and the snapshot, when it comes, is
   * restored beside later invocations (what it brings never replaces a fresher value). The report
   * goes to the first caller after the restore, so that one invocation counts it.
   */
  async hydrate(waitMs: number): Promise<SnapshotReport | undefined> {
    this.#hydration ??= this.#restore(waitMs)
    const report = this.#overtaken ? await this.#reportIfRestored() : await Promise.race([this.#hydration, this.#loadedFirst()])
    if (report === undefined || this.#reported) return undefined
    this.#reported = true
    return report
  }

  /** The restore's report if it is over, without waiting for it. */
  #reportIfRestored(): Promise<SnapshotReport | undefined> {
    return this.#hydrated && this.#hydration !== undefined ? this.#hydration : Promise.resolve(undefined)
  }

  async #loadedFirst(): Promise<undefined> {
    await loadedWithoutSnapshot(coveredCaches(this.#options.caches))
    this.#overtaken = true
    return undefined
  }

  /** Whether a write is due; after an overtaken wait, whether it may be, which only the read still under way will tell. */
  writeIsDue(): boolean {
    return (this.#hydrated || this.#overtaken) && this.#schedule.isDue(monotonicClock(), Date.now(), this.#knownIsOutdated)
  }

  /**
   * Writes what the covered caches hold, taking at most `budgetMs`, when a write is due, there is
   * something to write, and `budgetMs` is the whole `writeTimeout`: collecting and encoding the
   * entries is synchronous work (up to maxSnapshotBytes of JSON) that no deadline interrupts, so
   * begun with less time left it could run past the invocation's end, and Lambda would time it out.
   */
  async write(budgetMs: number): Promise<void> {
    const startedAt = monotonicClock()
    // Overtaken by the caches' own loads, the read under way since INIT tells whether one is due: see `settleRead`.
    if (budgetMs < this.#options.writeTimeoutMs || !this.#hydrated || !this.writeIsDue()) return
    try {
      const registrations = coveredCaches(this.#options.caches)
      const entries = collectEntries(registrations, this.#keep, this.#warnUnportable)
      if (![...entries.values()].some((records) => records.length > 0)) {
        // Empty caches are no attempt: the next invocation, with values loaded, may write. Caches
        // holding only values that cannot travel are one: collecting them is work every invocation
        // would redo for nothing.
        if (registrations.some(({ cache }) => cache.stats().entries > 0)) this.#schedule.attempt(startedAt)
        return
      }
      this.#schedule.attempt(startedAt)
      // Read with the entries, synchronously: a clear() cannot come between.
      const frame = { version: this.#options.version, createdAt: Date.now(), policies: collectPolicies(registrations), namespaceVersions: collectNamespaceVersions(registrations) }
      const { caches, kept, dropped } = trimToFit(entries, recordBudgetBytes(frame, entries.keys()))
      if (dropped > 0) this.#warnTrimmed(kept, dropped)
      if (kept === 0) return
      const body = await encodeSnapshot({ ...frame, caches })
      await putSnapshotObject(this.#client, this.#location, body, Math.max(1, budgetMs - (monotonicClock() - startedAt)))
      this.#schedule.found(frame.createdAt)
      this.#known = { namespaceVersions: frame.namespaceVersions, registrations }
    } catch (error) {
      this.#schedule.attempt(startedAt)
      this.#warn(`middy-cache: the cold-start snapshot could not be written to ${this.#where()}: ${reasonOf(error)}`)
    }
  }

  /** Whether the read is still under way after the caches' own loads let an invocation go on without it. */
  get reading(): boolean {
    return this.#hydration !== undefined && !this.#hydrated
  }

  /**
   * Waits at most `budgetMs` for the read under way and its restore, then gives the read up: no
   * request or timer of it outlives the invocation, to fire or hang across a freeze. A read given up
   * counts as one that failed (a write is put off). Never rejects.
   */
  async settleRead(budgetMs: number): Promise<void> {
    await this.#restoredWithin(budgetMs)
    if (!this.reading) return
    this.#read.giveUp()
    // Settled by the abort, in a few ticks; bounded all the same.
    await this.#restoredWithin(abandonedReadSettleMs)
  }

  /** Waits at most `ms` for the restore under way. Never rejects. */
  async #restoredWithin(ms: number): Promise<void> {
    const restored = new AbortController()
    void this.#hydration?.then(() => {
      restored.abort()
    })
    await hold(ms, restored.signal)
  }

  async #restore(waitMs: number): Promise<SnapshotReport> {
    const outcome = await this.#read.outcome(waitMs)
    const registrations = coveredCaches(this.#options.caches)
    this.#warnAboutUncovered(registrations.map((registration) => registration.cache.name))
    const snapshot = this.#usable(outcome, waitMs)
    const hydrated = restoreEntries(registrations, snapshot, this.#keep)
    if (snapshot !== undefined) this.#known = { namespaceVersions: snapshot.namespaceVersions, registrations }
    this.#hydrated = true
    return { found: snapshot !== undefined, durationMs: outcome.durationMs, hydrated }
  }

  /** The snapshot to restore, if the read brought a usable one within `waitedMs`; tells the schedule what it learnt. */
  #usable(outcome: ReadOutcome<Read>, waitedMs: number): ReadSnapshot | undefined {
    const { version, maxAgeMs } = this.#options
    switch (outcome.status) {
      case 'timed-out':
        this.#schedule.postpone(monotonicClock())
        this.#warn(`middy-cache: the cold-start snapshot ${this.#where()} did not arrive within ${waitedMs} ms; starting without it`)
        return undefined
      case 'failed':
        this.#schedule.postpone(monotonicClock())
        this.#warn(`middy-cache: the cold-start snapshot ${this.#where()} could not be read (${reasonOf(outcome.error)}); starting without it`)
        return undefined
      case 'done':
        break
    }
    const snapshot = outcome.value
    // Missing, or older than maxAge: the usual life of a snapshot, replaced after this invocation.
    if (snapshot === Absence.NotFound) return undefined
    if (snapshot === Absence.Denied) {
      this.#warn(`middy-cache: reading the cold-start snapshot ${this.#where()} was denied; taken for a missing one, as S3 answers so without s3:ListBucket (grant s3:GetObject on the prefix, and s3:ListBucket to tell the two apart)`)
      return undefined
    }
    if (snapshot === Absence.TooLarge) {
      this.#warn(`middy-cache: the cold-start snapshot ${this.#where()} is larger than ${maxSnapshotBytes} bytes, the most a snapshot may take; ignored, and replaced`)
      return undefined
    }
    if (snapshot === undefined) {
      this.#warn(`middy-cache: the cold-start snapshot ${this.#where()} is corrupt, truncated, larger than ${maxSnapshotBytes} bytes inflated, or not a snapshot; ignored, and replaced`)
      return undefined
    }
    if (snapshot.version !== version) {
      this.#warn(`middy-cache: the cold-start snapshot ${this.#where()} holds version ${JSON.stringify(snapshot.version)}, not ${JSON.stringify(version)}; ignored, and replaced`)
      return undefined
    }
    if (snapshot.createdAt > Date.now() + maxClockSkewMs) {
      this.#warn(`middy-cache: the cold-start snapshot ${this.#where()} was made in the future (${new Date(snapshot.createdAt).toISOString()}); ignored, and replaced`)
      return undefined
    }
    if (Date.now() - snapshot.createdAt > maxAgeMs) return undefined
    this.#schedule.found(snapshot.createdAt)
    return snapshot
  }

  #warnTrimmed(kept: number, dropped: number): void {
    const advice = 'cover fewer caches, or lower their l1.maxEntries'
    this.#warn(kept === 0
      ? `middy-cache: the cold-start snapshot ${this.#where()} is not written: its ${dropped} entries would pass the ${maxSnapshotBytes} bytes a reader takes, and even each cache's newest takes more than its share; ${advice}`
      : `middy-cache: the cold-start snapshot ${this.#where()} is written without its ${dropped} oldest entries (of ${kept + dropped}), which would pass the ${maxSnapshotBytes} bytes a reader takes; ${advice}`)
  }

  #warnAboutUncovered(covered: readonly string[]): void {
    for (const name of this.#options.caches) {
      if (!covered.includes(name)) {
        this.#warn(`middy-cache: the cold-start snapshot covers no cache named ${JSON.stringify(name)}: none was created, or it holds secrets or per-caller values (scope: 'principal'), which never leave memory`)
      }
    }
  }

  /** A logger that throws must not fail the invocation it reports on. */
  #warn(message: string): void {
    try {
      this.#options.logger.warn(message)
    } catch {
      // Nothing else to tell it to.
    }
  }

  #where(): string {
    return `s3://${this.#location.bucket}/${this.#location.key}`
  }
}
