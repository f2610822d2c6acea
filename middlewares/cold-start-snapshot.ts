import type { MiddlewareObj, Request } from '@middy/core'
import { processWide } from '../src/cache/process-state.js'
import type { CacheScope } from '../src/cache/scope.js'
import { CacheKind, type CacheRegistration } from '../src/cache/registry.js'
import { budgetWithin } from '../src/lambda/budget.js'
import { EnvironmentSnapshot, type SnapshotReport } from '../src/snapshot/environment-snapshot.js'
import { currentFunction } from '../src/snapshot/object-key.js'
import { resolveSnapshotOptions, type SnapshotOptions } from '../src/snapshot/options.js'
import { registerEarlyReturnFlusher, type EarlyReturnFlusher } from './shared/early-return.js'
import { invocationOf, onEarlyReturn } from './shared/invocation.js'
import { principalKey, splitPrincipalKey } from './shared/principal.js'

export type ColdStartSnapshotOptions = SnapshotOptions

/**
 * Whether `key` has the shape of a dataCache key with `scope: 'principal'` (`length:principal:key`):
 * such values belong to one caller and never leave memory. A cache registered as principal-scoped
 * is left out whole, whatever its keys (coveredCaches); this second guard reads the key, whatever
 * cache holds it, so a shared key of that very shape is kept out too (never the other way round).
 */
const isPrincipalScoped = (key: string): boolean => {
  const { principal, key: bare } = splitPrincipalKey(key)
  return principalKey(principal, bare) === key
}

/**
 * Whether a configCache key reads a SecureString decrypted: configCache keys are the parameter's
 * name (any '#' in it escaped: see `keyPart`), then `#`-separated flags, one of them 'decrypt'.
 */
const isDecryptedParameter = (registration: CacheRegistration, key: string): boolean =>
  registration.kind === CacheKind.Config && key.split('#').slice(1).includes('decrypt')

/** Whether an entry may go to a snapshot, and come back from one: a per-user or decrypted value does neither. */
const mayTravel = (registration: CacheRegistration, key: string): boolean => !isPrincipalScoped(key) && !isDecryptedParameter(registration, key)

/** The figures of the one invocation that waited for the snapshot, on each covered cache's counters. */
const countIn = (scope: CacheScope, report: SnapshotReport): void => {
  for (const [cache, hydrated] of report.hydrated) {
    const counters = scope.countersFor(cache)
    counters.snapshotReads++
    counters.snapshotLoadMs += report.durationMs
    if (report.found) counters.snapshotHydrated += hydrated
    else counters.snapshotMisses++
  }
}

/**
 * Tells the instances of a process apart, whichever copy of the package made them (their flushers
 * are registered together): each flushes its own snapshot on an early return.
 */
const instances = processWide('coldStartSnapshots', () => ({ made: 0 }))

const doNothing = (): undefined => undefined

/**
 * Starts a new execution environment warm: reads a snapshot of the listed caches from S3 at module
 * load (INIT), and restores it before the first invocation's caches run (waiting at most `timeout`),
 * each entry with the freshness it had (held to its cache's options when a deploy changed them).
 * When no usable snapshot was found, or the one found is past half `maxAge` (and a delay drawn per
 * environment) or holds entries of a namespace version a cache with L2 has left (a clear() since),
 * writes a new one after an invocation (one with `writeTimeout` left) or during a
 * warm-up ping, at most once per half `maxAge`. Never fails an invocation.
 *
 * Place it before the caches it covers, and after `warmup` (as DESIGN.md chains it) or before it:
 * a warm-up ping does the same either way. A ping answered by a `warmup` placed before it skips
 * its hooks, so it registers a flusher with the process when it is created, through which such a
 * ping restores the snapshot (when it is the environment's first invocation) before warmup's
 * refresh, and writes a due one within the ping's remaining time; placed before `warmup`, its
 * `before` restores and the write runs as the ping's early-return work. A request writes at most
 * once, whichever way. Off Lambda (no AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION or AWS_REGION), it does nothing.
 */
export const coldStartSnapshot = (options: ColdStartSnapshotOptions): MiddlewareObj<unknown, unknown> => {
  const resolved = resolveSnapshotOptions(options)
  const fn = currentFunction()
  // A hook that does nothing, since Middy refuses a middleware without one.
  if (fn === undefined) return { name: 'coldStartSnapshot', before: doNothing }
  const snapshot = new EnvironmentSnapshot(resolved, fn, mayTravel)

  // In the request, under a symbol of this instance: `true` once this middleware's `before` saw the
  // request, or the function that takes back the early-return write it offered.
  const stateKey = Symbol('coldStartSnapshot')
  type Internal = Record<symbol, (() => void) | true | undefined>
  const internalOf = (request: Request): Internal => request.internal

  /** Once the environment is hydrated; `write` itself makes one attempt per half maxAge, whoever asks. */
  const writeIfDue = (request: Request): Promise<void> | undefined =>
    snapshot.writeIsDue() ? snapshot.write(budgetWithin(request.context, resolved.writeTimeoutMs)) : undefined

  /**
   * Writes a due snapshot; first, when the caches' own loads let the invocation go on without the
   * read, waits for it within the write's budget, since the invocation may not end with it pending.
   */
  const settleAndWrite = (request: Request): Promise<void> | undefined =>
    snapshot.reading ? snapshot.settleRead(budgetWithin(request.context, resolved.writeTimeoutMs)).then(() => writeIfDue(request)) : writeIfDue(request)

  /**
   * Restores the snapshot (once for the environment); the invocation that waited first counts it.
   * The wait ends with `timeout`, or before the invocation would: Lambda would time it out.
   */
  const hydrateFor = async (request: Request): Promise<void> => {
    const report = await snapshot.hydrate(budgetWithin(request.context, resolved.timeoutMs))
    if (report !== undefined) countIn(invocationOf(request).scope, report)
  }

  /** Restores the snapshot before a ping answered early refreshes the caches, unless that was done. Never rejects. */
  const prepareEarly = async (request: Request): Promise<void> => {
    try {
      if (!snapshot.done) await hydrateFor(request)
    } catch {
      // hydrate never rejects; nothing here may fail the early answer.
    }
  }

  /** Writes a due snapshot when a ping answered early. Never rejects. */
  const flushEarly = async (request: Request): Promise<void> => {
    try {
      // Restored by `prepare` already, unless the middleware answering early does not call it.
      await prepareEarly(request)
      await settleAndWrite(request)
    } catch {
      // write never rejects; nothing here may fail the early answer.
    }
  }

  // For a ping answered by a warmup placed before this middleware, whose hooks then never run.
  // Held by `before` below, so that it lives exactly as long as the middleware does.
  const flusher: EarlyReturnFlusher = {
    middleware: 'coldStartSnapshot',
    // Each instance flushes its own snapshot: instances alike still keep their own schedules.
    key: `coldStartSnapshot#${++instances.made}`,
    ranFor: (request) => internalOf(request)[stateKey] !== undefined,
    prepare: prepareEarly,
    flush: flushEarly,
  }
  registerEarlyReturnFlusher(flusher)

  /** A middleware after this one may answer early (warmup): the write then runs as early-return work. */
  const offerWrite = (request: Request): void => {
    internalOf(request)[stateKey] = snapshot.writeIsDue() ? onEarlyReturn(request, () => flusher.flush(request) ?? Promise.resolve()) : true
  }

  const takeBackWrite = (request: Request): void => {
    const state = internalOf(request)[stateKey]
    if (typeof state === 'function') state()
  }

  /** Synchronous once the environment is hydrated: a warm invocation pays no promise. */
  const before = (request: Request): Promise<void> | undefined => {
    if (snapshot.done) {
      offerWrite(request)
      return undefined
    }
    // The invocation starts here, before the wait: its state, made now, dates the end of INIT
    // (InitDuration), and the caches after this one read the clock again once the wait is over.
    invocationOf(request).waitedInBefore = true
    return hydrateFor(request).then(() => {
      offerWrite(request)
    })
  }

  /**
   * After the handler, or its error: a failed invocation leaves no read pending either. Marks the
   * request as seen, so that flushOnEarlyReturn does not stand in for an onError whose `before` never ran.
   */
  const finishInvocation = (request: Request): Promise<void> | undefined => {
    takeBackWrite(request)
    internalOf(request)[stateKey] = true
    return settleAndWrite(request)
  }

  return { name: 'coldStartSnapshot', before, after: finishInvocation, onError: finishInvocation }
}
