import { CacheScope, type SettleReport } from '../../src/cache/index.js'
import { monotonicClock, type Clock } from '../../src/cache/clock.js'
import { boundedDuration } from '../../src/cache/duration.js'
import { ignore } from '../../src/cache/options.js'
import { processWide, processWideKey } from '../../src/cache/process-state.js'
import type { ContextOwner, DataCacheName } from './context-names.js'
import { budgetWithin, countInvocation, invocationStart, longestInvocationMs, type InvocationStart, type RemainingTime } from '../../src/lambda/index.js'

/**
 * Why an invocation must count what it did in a state of its own (see `uncountedReading`): one
 * reason per cacheMetrics made in the process, in any copy of the package, which reads those counts,
 * and per dataCache, configCache or secretsCache made with a name a cache of the other sort took
 * (see `countInvocationsIfNameShared`); and one until the environment counted its first
 * invocation. That one is always counted, so that
 * the environment's count is never 0 once an invocation went uncounted: a cacheMetrics or a warmup
 * first used after such invocations (in a handler built on demand) never numbers its invocation 1,
 * nor takes it for the cold start. The warm path checks the one number, as before.
 */
const mustCount = processWide('invocationCountReasons', () => ({ reasons: 1 }))

/** Counts in the start of an invocation (see `countInvocation`): the environment's first lifts the reason it alone gave. */
const countedInvocation = (): number => {
  const sequence = countInvocation()
  if (sequence === 1) mustCount.reasons--
  return sequence
}

/** Work for the end of an invocation; never throws nor rejects. */
type Work = () => Promise<void> | void

/**
 * This suite's state for one invocation, kept in the Middy request so that invocations never mix,
 * and shared by the requests of Middy handlers nested in it (see `invocationOf`).
 * It holds its cache scope rather than being one: V8 makes an instance of a class that extends a
 * class with fields of its own slower than two plain instances, about 10 ns a warm invocation.
 */
export class Invocation {
  /** The counters and background loads of every cache this invocation used. */
  readonly scope = new CacheScope()
  /** This invocation's number in its environment; see `start`. */
  readonly sequence = countedInvocation()
  /** Set by warmup: the invocation is a warm-up ping, kept out of hit rates. */
  warmupPing = false
  /** The settling of background work, shared by every middleware that asks for it. */
  settled: Promise<SettleReport> | undefined
  /**
   * Work that must run even when a middleware answers early, since Middy then skips every `after`
   * hook (a metrics flush, say). A middleware that answers early calls `runEarlyReturnWork`.
   */
  earlyReturnWork: Set<() => Promise<void>> | undefined
  /**
   * The monotonic clock when the state was made: when Middy started the request with
   * `markInvocationStart`, else when the first of this suite's middlewares in the chain ran. See
   * `readingBefore`, and `start` (INIT's duration).
   */
  readonly startedAt = monotonicClock()
  /**
   * What `before` checks freshness against by the monotonic clock (see `readingBefore`): the reading
   * taken when the state was made, or, when Middy made it before any middleware ran
   * (`markInvocationStart`), one taken by the first of the suite's middlewares to ask.
   */
  freshnessReading: number | undefined = this.startedAt
  /**
   * Set once one of this suite's middlewares waited in `before` (a load, or coldStartSnapshot's read),
   * or a nested request joined: `startedAt` is then older than that wait, and a value that expired
   * meanwhile would pass for fresh. See `readingBefore`.
   */
  waitedInBefore = false
  /**
   * The name the chain's first dataCache took in this invocation, with the cache that took it (see
   * `context-names.ts`); the others' in `moreDataCacheNames`, made only for a second one (a Map per
   * invocation cost a warm dataCache about a fifth of a bare invocation). Undefined until a dataCache
   * runs: configCache and secretsCache, whose warm path cannot afford a lookup of their own name,
   * look it up only then.
   */
  firstDataCacheName: DataCacheName | undefined
  moreDataCacheNames: Map<string, ContextOwner> | undefined
  /**
   * Set by a dataCache with `scope: 'principal'` that found the invocation's caller: the answer may
   * hold that caller's own values, whatever the event shows httpCache (a `principal` function may
   * read a header or a query parameter no HTTP cache knows to be a credential).
   */
  servesCaller = false
  /** The request that made this state: the outermost one of the invocation. */
  readonly owner: RequestLike
  /**
   * The request whose `after` and `onError` end the invocation (settle its loads, write its
   * metrics): the outermost in which a middleware of the suite with such hooks ran. See `enterInvocation`.
   */
  ender: RequestLike | undefined
  /** Whether a Middy handler the owner's handler calls may still join it; false once it began to end. */
  open = true
  /** What nested requests left for the end of the invocation (their cacheMetrics' writes). */
  endWork: Work[] | undefined
  /** A bit per configCache or secretsCache that put its values on the context (see context-values.ts). */
  served = 0
  /** What middlewares keep per invocation, under keys of their own (cacheMetrics). */
  slots: Map<symbol, unknown> | undefined

  constructor(owner: RequestLike) {
    this.owner = owner
  }

  /** How a context logged (util.inspect, console.log) shows the invocation running with it: a tag, never its requests, which hold the event and the answer. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[middy-cache invocation]'
  }

  /** Made when asked (metrics, a warm-up answer): a warm invocation that asks nothing makes nothing. */
  get start(): InvocationStart {
    return invocationStart(this.sequence, this.startedAt)
  }
}

// On the request itself rather than in Middy's `internal`: that one is a dictionary
// (Object.create(null)), and this state is read by every hook of every cache middleware. A key
// every copy of the package in the process shares: one request, one invocation state.
const invocationKey = processWideKey('invocation')
// On the Lambda context: the invocation running with it, which the requests of Middy handlers nested
// in it (@middy/http-router's routes, say) join, since they are handed the same context. Set as a
// plain property: defined as a hidden one it cost a warm invocation about a quarter of a bare one,
// and kept beside the context in a WeakMap the garbage collector's work for short-lived keys cost
// cacheMetrics' flush about a tenth (`npm run bench -- warm metrics`). A context logged shows it as
// a tag only (see `Invocation`), and JSON leaves symbol keys out.
const runningKey = processWideKey('runningInvocation')

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
  readonly error?: unknown
}

interface RequestWithInvocation extends RequestLike {
  [invocationKey: symbol]: Invocation | undefined
}

/** Whether Middy is done with `request`'s handler: it answered early or failed (a hook of the suite then ran, or never will). */
const pastHandler = (request: RequestLike): boolean => 'earlyResponse' in request || request.error !== undefined

/**
 * Whether a request handed the invocation's context may join it: while the handler of the request
 * ending it may still call another Middy handler. A context reused for a later invocation (tests,
 * local runners; Lambda hands a new one to each) finds the earlier one ended.
 */
const joinable = (invocation: Invocation): boolean =>
  invocation.open && !pastHandler(invocation.owner) && (invocation.ender === undefined || !pastHandler(invocation.ender))

/** The context as an object to key the running invocation by: a caller may hand Middy anything. */
const contextOf = (request: RequestLike): object | undefined => {
  const context: unknown = request.context
  return typeof context === 'object' && context !== null ? context : undefined
}

const runningOn = (context: object | undefined): Invocation | undefined => {
  const invocation = context === undefined ? undefined : (context as Record<symbol, Invocation | undefined>)[runningKey]
  return invocation !== undefined && joinable(invocation) ? invocation : undefined
}

const startOn = (request: RequestLike, context: object | undefined): Invocation => {
  const invocation = new Invocation(request)
  if (context !== undefined && Object.isExtensible(context)) (context as Record<symbol, Invocation | undefined>)[runningKey] = invocation
  return invocation
}

/**
 * The invocation state of `request`, made by whichever of this suite's middlewares runs first (or
 * by `markInvocationStart`). A Middy handler called from another's handler with its context (the
 * routes of @middy/http-router) joins the invocation running there: one invocation of the Lambda
 * is counted, settled and written once, whatever level the suite's middlewares sit on.
 */
export const invocationOf = (request: RequestLike): Invocation => {
  const existing = (request as RequestWithInvocation)[invocationKey]
  if (existing !== undefined) return existing
  const context = contextOf(request)
  const running = runningOn(context)
  if (running !== undefined) running.waitedInBefore = true
  const invocation = running ?? startOn(request, context)
  ;(request as RequestWithInvocation)[invocationKey] = invocation
  forgetUncountedReading(request)
  return invocation
}

/**
 * For cacheMetrics, when made, and for a check that reads the invocation's state (see
 * `countInvocationsIfNameShared`): from then on every cache counts what each invocation did with it.
 */
export const readInvocationCounts = (): void => {
  mustCount.reasons++
}

/**
 * The request whose uncounted warm path last read the monotonic clock, and that reading (see
 * `uncountedReading`). Forgotten once the request has state, and in `after`/`onError`: no event is
 * kept past its invocation. A request that Middy ended early skips those; `flushOnEarlyReturn`
 * makes its state, and without it the request is kept until the next takes its place: clearing it
 * otherwise would cost every warm invocation (a WeakRef, or a task queued). One for the process:
 * a copy of the package that makes the request's state forgets a reading the other copy took,
 * which would be as old as the wait that state's making may hold.
 */
const uncounted = processWide('uncountedReading', (): { request: RequestLike | undefined; reading: number } => ({ request: undefined, reading: 0 }))

/**
 * The monotonic clock's time a cache middleware checks freshness against when it may serve
 * `request` from memory without counting it in the invocation's state; undefined when it must
 * count: a middleware of the suite made the state already, a cacheMetrics will read it, or it is
 * the environment's first (see `mustCount`). Otherwise configCache and secretsCache make no state
 * on a warm invocation, which would cost it about a fifteenth of a bare one; a load, a refresh or a
 * merge still makes it. One reading serves every such middleware of the request, as `readingBefore`
 * does a counted invocation's: a reading costs a warm invocation about a twentieth of a bare one.
 * Only for a cache over the monotonic clock: see `uncountedReadingBy`.
 */
export const uncountedReading = (request: RequestLike): number | undefined => {
  if (uncounted.request === request) return uncounted.reading
  if (mustCount.reasons !== 0 || invocationIfAny(request) !== undefined) return undefined
  uncounted.request = request
  return (uncounted.reading = monotonicClock())
}

/**
 * `uncountedReading` for a cache over a clock of its own (`now`): read at every call, since the
 * reading the request shares is the monotonic clock's, which says nothing of another clock's time.
 */
export const uncountedReadingBy = (request: RequestLike, clock: Clock): number | undefined =>
  mustCount.reasons !== 0 || invocationIfAny(request) !== undefined ? undefined : clock()

/** Drops the reading of `request`'s uncounted warm path (see `uncountedReading`), from its `after` or `onError`. */
export const forgetUncountedReading = (request: RequestLike): void => {
  if (uncounted.request === request) uncounted.request = undefined
}

/** Whether a dataCache of `request`'s chain served it a caller's own values (see `Invocation.servesCaller`); makes no state. */
export const servesCaller = (request: RequestLike): boolean => (request as RequestWithInvocation)[invocationKey]?.servesCaller === true
/** The invocation state of `request` if one of the suite's middlewares made it; never makes one. */
export const invocationIfAny = (request: RequestLike): Invocation | undefined => (request as RequestWithInvocation)[invocationKey]

/**
 * The invocation state, for a middleware whose `after` and `onError` end the invocation (with
 * `endInvocation`): the first request to enter it thus ends it, so that a nested request leaves its
 * end to the enclosing one.
 */
export const enterInvocation = (request: RequestLike): Invocation => {
  const invocation = invocationOf(request)
  invocation.ender ??= request
  return invocation
}

/** Whether `request` ends `invocation`: it entered it first, or no request did (warmup alone, an early answer, `onError` alone). */
export const endsInvocation = (invocation: Invocation, request: RequestLike): boolean => invocation.ender === undefined || invocation.ender === request

/**
 * Marks the end of `request` (Middy's requestEnd): when it made the invocation state, a Middy
 * handler later handed the same context (a test's, or a local runner's, reused) starts its own
 * invocation, even when no middleware of the suite ran to end this one.
 */
export const requestEnded = (request: RequestLike): void => {
  const invocation = invocationIfAny(request)
  if (invocation?.owner === request) invocation.open = false
}

/** Leaves `work` to the request that ends the invocation, which runs it once its loads are settled. */
export const leaveToEnd = (invocation: Invocation, work: Work): void => {
  ;(invocation.endWork ??= []).push(work)
}

const runAll = async (work: readonly Work[]): Promise<void> => {
  await Promise.allSettled(
    work.map(async (piece) => {
      await piece()
    }),
  )
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
 * The time by `clock` for a freshness check in `before`. For the monotonic clock every cache uses
 * unless told otherwise, the reading taken when the invocation's state was made (or by the first
 * middleware of the suite to ask, see `invocationAtRequestStart`): a warm invocation reads the clock
 * once, not once per cache (a clock reading costs about as much as the rest of a warm cache
 * middleware's work). Once a middleware of the suite waited in `before`, or a nested request joined,
 * the clock is read again: the reading would be as old as the wait. Not for use after `before`.
 */
export const readingBefore = (invocation: Invocation, clock: Clock): number =>
  clock === monotonicClock && !invocation.waitedInBefore ? (invocation.freshnessReading ??= clock()) : clock()

/**
 * The invocation state, made at Middy's request start, before any middleware runs: it dates the
 * invocation (and INIT) from there, while `before` still checks freshness against a reading the
 * first of the suite's middlewares takes, since the middlewares placed before it may take a while.
 */
export const invocationAtRequestStart = (request: RequestLike): void => {
  const invocation = invocationOf(request)
  if (invocation.owner === request) invocation.freshnessReading = undefined
}

/**
 * Ends the invocation when `request` is the one to end it (see `enterInvocation`), from its `after`
 * or `onError`: no nested request joins it any more, the loads it left running are settled (see
 * `settleInvocation`), then the work nested requests left for its end runs. Nothing for a nested
 * request, and no promise when there is nothing to wait for: the `after` of a warm invocation
 * stays synchronous.
 */
export const endInvocation = (request: RequestLike, budgetMs: number): Promise<void> | undefined => {
  const invocation = invocationIfAny(request)
  if (invocation === undefined || !endsInvocation(invocation, request)) return undefined
  invocation.open = false
  const settling = invocation.settled === undefined && invocation.scope.pending === 0 ? undefined : settleInvocation(request, budgetMs).then(ignore)
  const work = invocation.endWork
  if (work === undefined) return settling
  invocation.endWork = undefined
  return settling === undefined ? runAll(work) : settling.then(() => runAll(work))
}

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

/**
 * Runs, once, the work registered with `onEarlyReturn`, then what nested requests left for the end;
 * a failing piece does not stop the others. Nothing for a request nested in the one ending the
 * invocation: its early answer is only its handler's answer to the enclosing one. Never rejects.
 */
export const runEarlyReturnWork = async (request: RequestLike): Promise<void> => {
  const invocation = invocationOf(request)
  if (!endsInvocation(invocation, request)) return
  invocation.open = false
  const work = [...(invocation.earlyReturnWork ?? [])]
  const leftToEnd = invocation.endWork
  invocation.earlyReturnWork = undefined
  invocation.endWork = undefined
  await runAll(work)
  if (leftToEnd !== undefined) await runAll(leftToEnd)
}
