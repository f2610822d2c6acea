import type { MiddlewareObj, Request } from '@middy/core'
import type { CacheScope } from '../src/cache/scope.js'
import { CacheKind, type CacheRegistration } from '../src/cache/registry.js'
import { budgetWithin } from '../src/lambda/budget.js'
import { EnvironmentSnapshot, type SnapshotReport } from '../src/snapshot/environment-snapshot.js'
import { currentFunction } from '../src/snapshot/object-key.js'
import { resolveSnapshotOptions, type SnapshotOptions } from '../src/snapshot/options.js'
import { invocationOf, onEarlyReturn } from './shared/invocation.js'
import { principalKey, splitPrincipalKey } from './shared/principal.js'

export type ColdStartSnapshotOptions = SnapshotOptions

/**
 * Whether `key` has the shape of a dataCache key with `scope: 'principal'` (`length:principal:key`):
 * such values belong to one caller and never leave memory. Read from the key, whatever cache holds
 * it, so a shared key of that very shape is kept out too (never the other way round).
 */
const isPrincipalScoped = (key: string): boolean => {
  const { principal, key: bare } = splitPrincipalKey(key)
  return principalKey(principal, bare) === key
}

/**
 * Whether a configCache key reads a SecureString decrypted: configCache keys are the parameter's
 * name, then `#`-separated flags (SSM names cannot hold '#'), one of them 'decrypt'.
 */
const isDecryptedParameter = (registration: CacheRegistration, key: string): boolean =>
  registration.kind === CacheKind.Config && key.split('#').slice(1).includes('decrypt')

const mayLeaveMemory = (registration: CacheRegistration, key: string): boolean => !isPrincipalScoped(key) && !isDecryptedParameter(registration, key)

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
 * Starts a new execution environment warm: reads a snapshot of the listed caches from S3 at module
 * load (INIT), and restores it before the first invocation's caches run (waiting at most `timeout`),
 * each entry with the freshness it had. When no usable snapshot was found, or the one found is
 * past half `maxAge`, writes a new one after an invocation (within its remaining time) or during
 * a warm-up ping, at most once per half `maxAge`. Never fails an invocation.
 *
 * Place it after cacheMetrics and before warmup and the caches it covers. Off Lambda (no
 * AWS_LAMBDA_FUNCTION_NAME), it does nothing.
 */
export const coldStartSnapshot = (options: ColdStartSnapshotOptions): MiddlewareObj<unknown, unknown> => {
  const resolved = resolveSnapshotOptions(options)
  const fn = currentFunction()
  if (fn === undefined) return { name: 'coldStartSnapshot' }
  const snapshot = new EnvironmentSnapshot(resolved, fn, mayLeaveMemory)
  const writeWithin = (request: Request): Promise<void> => snapshot.write(budgetWithin(request.context, resolved.writeTimeoutMs))

  // In the request, under a symbol of this instance: the way to take back the early-return write.
  const stateKey = Symbol('coldStartSnapshot')
  type Internal = Record<symbol, (() => void) | undefined>

  /** A middleware after this one may answer early (warmup): the write then runs as early-return work. */
  const offerWrite = (request: Request): void => {
    if (snapshot.writeIsDue()) (request.internal as Internal)[stateKey] = onEarlyReturn(request, () => writeWithin(request))
  }

  const takeBackWrite = (request: Request): void => {
    (request.internal as Internal)[stateKey]?.()
  }

  /** Synchronous once the environment is hydrated: a warm invocation pays no promise. */
  const before = (request: Request): Promise<void> | undefined => {
    if (snapshot.hydrated) {
      offerWrite(request)
      return undefined
    }
    return snapshot.hydrate().then((report) => {
      if (report !== undefined) countIn(invocationOf(request).scope, report)
      offerWrite(request)
    })
  }

  const after = (request: Request): Promise<void> | undefined => {
    takeBackWrite(request)
    return snapshot.writeIsDue() ? writeWithin(request) : undefined
  }

  return { name: 'coldStartSnapshot', before, after, onError: takeBackWrite }
}
