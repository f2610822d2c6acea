import type { Clock } from './clock.js'

/**
 * The kinds of shared-tier operation a store may refuse on its own while it answers the others:
 * Redis out of memory refuses writes and taking a lease, and still reads and deletes; an ACL user
 * without EVAL can do everything but give a lease back, one without INCR everything but move the
 * namespace version on; a DynamoDB role without dynamodb:BatchWriteItem still writes values one
 * by one. Reads are no such kind: a store that refuses them is of no use, and its failures open
 * the circuit breaker.
 */
export const RefusableKind = {
  /** A value's write (`set`, or a loaded value written back). */
  Write: 'write',
  /**
   * A batch's values written together (DynamoDB's BatchWriteItem), which a role may be refused while
   * it may write each (PutItem): refused, the values go one request each (`writeEach`).
   */
  WriteMany: 'write-many',
  /** The move of the namespace version by `clear()`: a command of its own (Redis INCR, a DynamoDB update). */
  MoveVersion: 'move-version',
  /** A key's removal (`delete`, "not found" without `negativeTtl`). */
  Delete: 'delete',
  TakeLease: 'take-lease',
  GiveLeaseBack: 'give-lease-back',
} as const
export type RefusableKind = (typeof RefusableKind)[keyof typeof RefusableKind]

/** What a warning about a refusal says: what the store refuses, and what the caches do meanwhile. */
export interface RefusalEffect {
  readonly refuses: string
  readonly meanwhile: string
}

/** What the one warning about a refused kind says. */
export const refusalEffects: Readonly<Record<RefusableKind, RefusalEffect>> = {
  [RefusableKind.Write]: {
    refuses: 'writes',
    meanwhile: "values stay in this environment's memory only (counted in l2Skipped)",
  },
  [RefusableKind.WriteMany]: {
    refuses: 'to write many values in one request',
    meanwhile: 'writes now go one item per request until it is granted',
  },
  [RefusableKind.MoveVersion]: {
    refuses: 'to move the namespace version on',
    meanwhile: "clear() empties this environment's memory only: the other environments keep their entries",
  },
  [RefusableKind.Delete]: {
    refuses: 'deletes',
    meanwhile: 'delete() leaves the value in the shared tier for other environments',
  },
  [RefusableKind.TakeLease]: {
    refuses: 'to take leases',
    meanwhile: 'misses load at once, without a lease',
  },
  [RefusableKind.GiveLeaseBack]: {
    refuses: 'to give leases back',
    // A lease that cannot be given back would hold other environments' misses for `lease.wait` whenever its holder writes nothing.
    meanwhile: 'no lease is taken, and misses load at once',
  },
}

/**
 * What the one warning says when a batch's values are refused both ways: many in one request
 * (WriteMany), then one per request (Write), which they fell back to. One warning, not two: what
 * the caches do meanwhile is what the second refusal says; the first's ("one item per request")
 * would be untrue.
 */
export const writesRefusedBothWays: RefusalEffect = {
  refuses: 'writes, of many values in one request and of one value per request',
  meanwhile: refusalEffects[RefusableKind.Write].meanwhile,
}

/**
 * Which kinds of operation a store refuses (see `RefusableKind`), so that each costs an invocation
 * at most one wasted round trip until the store is known to refuse it. A refused kind is skipped
 * for the back-off, then one operation of it probes; an answer ends the refusal. No timer: the
 * back-off is read from the clock when an operation asks, only for a kind that was refused.
 */
export class StoreRefusals {
  readonly #backOffMs: number
  readonly #now: Clock
  /** For each refused kind, when its next probe may go. */
  readonly #probeAt = new Map<RefusableKind, number>()
  /** Refused kinds whose probe is under way: the others of that kind are skipped until it ends. */
  readonly #probing = new Set<RefusableKind>()
  /** Kinds warned of: each once for the store's life, however often it refuses them. */
  readonly #warned = new Set<RefusableKind>()

  constructor(backOffMs: number, now: Clock) {
    this.#backOffMs = backOffMs
    this.#now = now
  }

  /** Whether the store refused `kind` at its last try (its operations are skipped, but for a probe). */
  refuses(kind: RefusableKind): boolean {
    return this.#probeAt.has(kind)
  }

  /** Lets an operation of `kind` go to the store: any while it is not refused; once the back-off has passed, the first, as the probe. */
  admit(kind: RefusableKind): boolean {
    const probeAt = this.#probeAt.get(kind)
    if (probeAt === undefined) return true
    if (this.#probing.has(kind) || this.#now() < probeAt) return false
    this.#probing.add(kind)
    return true
  }

  /** The store carried out an operation of `kind`: it refuses it no more. */
  answered(kind: RefusableKind): void {
    this.#probeAt.delete(kind)
    this.#probing.delete(kind)
  }

  /** The store refused an operation of `kind`: skipped for the back-off. Returns whether it is the store's first refusal of that kind: the one to warn of. */
  refused(kind: RefusableKind): boolean {
    this.#probeAt.set(kind, this.#now() + this.#backOffMs)
    this.#probing.delete(kind)
    if (this.#warned.has(kind)) return false
    this.#warned.add(kind)
    return true
  }

  /** An operation of `kind` ended without an answer (a failure, a timeout): were it the probe, the next one probes. */
  inconclusive(kind: RefusableKind): void {
    this.#probing.delete(kind)
  }
}
