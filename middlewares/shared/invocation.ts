import { CacheScope, type SettleReport } from '../../src/cache/index.js'
import { monotonicClock, type Clock } from '../../src/cache/clock.js'
import { boundedDuration } from '../../src/cache/duration.js'
import { processWideKey } from '../../src/cache/process-state.js'
import type { ContextOwner } from './context-names.js'
import { budgetWithin, countInvocation, invocationStart, longestInvocationMs, type InvocationStart, type RemainingTime } from '../../src/lambda/index.js'

/**
 * This suite's state for one invocation, kept in the Middy request so that invocations never mix.
 * It holds its cache scope rather than being one: V8 makes an instance of a class that extends a
 * class with fields of its own slower than two plain instances, about 10 ns a warm invocation.
 */
export class Invocation {
  /** The counters and background loads of every cache this invocation used. */
  readonly scope = new CacheScope()
  /** This invocation's number in its environment; see `start`. */
  readonly sequence = countInvocation()
  /** Set by warmup: the invocation is a warm-up ping, kept out of hit rates. */
  warmupPing = false
  /** The settling of background work, shared by every middleware that asks for it. */
  settled: Promise<SettleReport> | undefined
  /**
   * Work that must run even when a middleware answers early, since Middy then skips every `after`
   * hook (a metrics flush, say). A middleware that answers early calls `runEarlyReturnWork`.
   */
  earlyReturnWork: Set<() => Promise<void>> | undefined
  /** The monotonic clock when the first of this suite's middlewares in the chain ran; see `readingBefore`. */
  readonly startedAt = monotonicClock()
  /**
   * Set once one of this suite's middlewares waited in `before` (a load, or coldStartSnapshot's read):
   * `startedAt` is then older than that wait, and a value that expired meanwhile would pass for
   * fresh. See `readingBefore`.
   */
  waitedInBefore = false
  /**
   * The names the chain's dataCaches took in this invocation, each with the cache that took it (see
   * `context-names.ts`). Undefined until a dataCache runs: configCache and secretsCache, whose warm
   * path cannot afford a lookup of their own name, look it up only then.
   */
  dataCacheNames: Map<string, ContextOwner> | undefined
  /**
   * Set by a dataCache with `scope: 'principal'` that found the invocation's caller: the answer may
   * hold that caller's own values, whatever the event shows httpCache (a `principal` function may
   * read a header or a query parameter no HTTP cache knows to be a credential).
   */
  servesCaller = false

  /** Made when asked (metrics, a warm-up answer): a warm invocation that asks nothing makes nothing. */
  get start(): InvocationStart {
    return invocationStart(this.sequence, this.startedAt)
  }
}

// On the request itself rather than in Middy's `internal`: that one is a dictionary
// (Object.create(null)), and this state is read by every hook of every cache middleware. A key
// every copy of the package in the process shares: one request, one invocation state.
const invocationKey = processWideKey('invocation')

/** How long `after`/`onError` wait for refreshes still running beside the handler, unless told otherwise. */
const defaultSettleBudgetMs = 100

/**
 * The `settleBudget` option, in milliseconds. Bounded by Lambda's longest timeout: a longer wait
 * could never end within an invocation, and off Lambda one past setTimeout's ceiling would fire at once.
 */
export const resolveSettleBudget = (value: unknown): number => boundedDuration('settleBudget', value, defaultSettleBudgetMs, 0, longestInvocationMs)

/** The part of a Middy request this module reads: every Middy version's request fits. */
interface RequestLike {
  readonly context?: RemainingTime
}

interface RequestWithInvocation extends RequestLike {
  [invocationKey: symbol]: Invocation | undefined
}

/** The invocation state of `request`, created by whichever of this suite's middlewares runs first. */
export const invocationOf = (request: RequestLike): Invocation => {
  const existing = (request as RequestWithInvocation)[invocationKey]
  if (existing !== undefined) return existing
  const invocation = new Invocation()
  ;(request as RequestWithInvocation)[invocationKey] = invocation
  return invocation
}

/** Whether a dataCache of `request`'s chain served it a caller's own values (see `Invocation.servesCaller`); makes no state. */
export const servesCaller = (request: RequestLike): boolean => (request as RequestWithInvocation)[invocationKey]?.servesCaller === true

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
 * The time by `clock` for a freshness check in `before`. For the monotonic clock every cache uses
 * unless told otherwise, the reading taken when the invocation's state was made: a warm invocation
 * reads the clock once, not once per cache (a clock reading costs about as much as the rest of a
 * warm cache middleware's work). Once a middleware of the suite waited in `before`, the clock is read
 * again: the reading would be as old as the wait. Not for use after `before`.
 */
export const readingBefore = (invocation: Invocation, clock: Clock): number =>
  clock === monotonicClock && !invocation.waitedInBefore ? invocation.startedAt : clock()

/**
 * Settles the invocation's background work (see `settleInvocation`) when `request` left loads
 * running or is already settling them; otherwise nothing to wait for, and no promise: the `after`
 * of a warm invocation stays synchronous.
 */
export const settleIfPending = (request: RequestLike, budgetMs: number): Promise<void> | undefined => {
  const invocation = (request as RequestWithInvocation)[invocationKey]
  if (invocation === undefined || (invocation.settled === undefined && invocation.scope.pending === 0)) return undefined
  return settleInvocation(request, budgetMs).then(ignore)
}

const ignore = (): void => undefined

/**
 * Has the loads `request` left running settled (see `settleInvocation`) should a middleware answer
 * early: Middy then skips every `after` and `onError`, which would have settled them, and they would
 * run on across the freeze. Registers nothing while none is running, so a warm invocation pays nothing.
 */
export const settleOnEarlyReturn = (request: RequestLike, budgetMs: number): void => {
  if (invocationOf(request).scope.pending === 0) return
  onEarlyReturn(request, () => settleInvocation(request, budgetMs).then(ignore))
}

/** Registers work to run if a middleware answers early; remove it with the returned function once done normally. */
export const onEarlyReturn = (request: RequestLike, work: () => Promise<void>): (() => void) => {
  const invocation = invocationOf(request)
  const earlyReturnWork = (invocation.earlyReturnWork ??= new Set())
  earlyReturnWork.add(work)
  return () => {
    earlyReturnWork.delete(work)
  }
}

/** Runs, once, the work registered with `onEarlyReturn`; a failing piece does not stop the others. Never rejects. */
export const runEarlyReturnWork = async (request: RequestLike): Promise<void> => {
  const invocation = invocationOf(request)
  const work = [...(invocation.earlyReturnWork ?? [])]
  invocation.earlyReturnWork = undefined
  await Promise.allSettled(work.map((piece) => piece()))
}
