import { createScope, type CacheScope, type SettleReport } from '../../src/cache/index.js'
import { budgetWithin, startInvocation, type InvocationStart, type RemainingTime } from '../../src/lambda/index.js'

/** This suite's state for one invocation, kept in the Middy request so that invocations never mix. */
export interface Invocation {
  /** Counters and background loads of every cache this invocation used. */
  readonly scope: CacheScope
  readonly start: InvocationStart
  /** Set by warmup: the invocation is a warm-up ping, kept out of hit rates. */
  warmupPing: boolean
  /** The settling of background work, shared by every middleware that asks for it. */
  settled: Promise<SettleReport> | undefined
  /**
   * Work that must run even when a middleware answers early, since Middy then skips every `after`
   * hook (a metrics flush, say). A middleware that answers early calls `runEarlyReturnWork`.
   */
  readonly earlyReturnWork: Set<() => Promise<void>>
  /** One clock reading shared by the caches read back to back in `before`; see `readingBefore`. */
  clockRead: { readonly clock: () => number; readonly reading: number } | undefined
}

const internalKey = 'middy-cache'

/** How long `after`/`onError` wait for refreshes still running beside the handler, unless told otherwise. */
export const defaultSettleBudgetMs = 100

/** The part of a Middy request this module reads: every Middy version's request fits. */
interface RequestLike {
  readonly internal: object
  readonly context?: RemainingTime
}

/** The invocation state of `request`, created by whichever of this suite's middlewares runs first. */
export const invocationOf = (request: RequestLike): Invocation => {
  const internal = request.internal as Record<string, unknown>
  const existing = internal[internalKey] as Invocation | undefined
  if (existing !== undefined) return existing
  const invocation: Invocation = {
    scope: createScope(),
    start: startInvocation(),
    warmupPing: false,
    settled: undefined,
    earlyReturnWork: new Set(),
    clockRead: undefined,
  }
  internal[internalKey] = invocation
  return invocation
}

/**
 * Waits for the background loads of this invocation within `budgetMs` (never past the invocation's
 * end), then abandons them. The first caller settles; later callers share its result.
 */
export const settleInvocation = (request: RequestLike, budgetMs: number): Promise<SettleReport> => {
  const invocation = invocationOf(request)
  invocation.settled ??= invocation.scope.settle(budgetWithin(request.context, budgetMs))
  return invocation.settled
}

/**
 * A reading of `clock` shared by this suite's middlewares as they run back to back in `before`, so
 * that a warm invocation reads the clock once, not once per cache. Not for use after `before`: the
 * reading is only as old as the first middleware that took it.
 */
export const readingBefore = (invocation: Invocation, clock: () => number): number => {
  const read = invocation.clockRead
  if (read !== undefined && read.clock === clock) return read.reading
  const reading = clock()
  invocation.clockRead = { clock, reading }
  return reading
}

/** Whether `request` left loads running or is already settling them: only then must `after` wait. */
export const hasBackgroundWork = (request: RequestLike): boolean => {
  const invocation = invocationOf(request)
  return invocation.settled !== undefined || invocation.scope.pending > 0
}

/** Registers work to run if a middleware answers early; remove it with the returned function once done normally. */
export const onEarlyReturn = (request: RequestLike, work: () => Promise<void>): (() => void) => {
  const { earlyReturnWork } = invocationOf(request)
  earlyReturnWork.add(work)
  return () => {
    earlyReturnWork.delete(work)
  }
}

/** Runs, once, the work registered with `onEarlyReturn`; a failing piece does not stop the others. Never rejects. */
export const runEarlyReturnWork = async (request: RequestLike): Promise<void> => {
  const { earlyReturnWork } = invocationOf(request)
  const work = [...earlyReturnWork]
  earlyReturnWork.clear()
  await Promise.allSettled(work.map((piece) => piece()))
}
