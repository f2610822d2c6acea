import type { Request } from '@middy/core'
import { processWide } from '../../src/cache/process-state.js'
import type { FlushableMetrics } from '../../src/lambda/warmup-options.js'
import { runEarlyReturnWork } from './invocation.js'

/**
 * The prefix of the keys under which Powertools' middlewares keep their cleanups in
 * `request.internal` (commons' PREFIX). Read here, so that commons is imported only when one of
 * them is there to clean up: a function without Powertools never needs the package.
 */
const powertoolsPrefix = 'powertools-for-aws.'

/**
 * A flush that must happen when a middleware answers early, wherever its own middleware sits in
 * the chain: cacheMetrics registers one when it is created, so that `warmup` placed before it
 * (whose early return skips cacheMetrics' `before` as well as its `after`) still writes the ping;
 * coldStartSnapshot registers one, so that such a ping still restores and writes its snapshot.
 */
export interface EarlyReturnFlusher {
  /**
   * The middleware that registered it, such as 'cacheMetrics': when a flusher of a middleware saw
   * the request, that one flushes through the early-return work its `before` registered, and of
   * the middleware's others only those with its key run (see `flushersFor`). Flushers of other
   * middlewares are not concerned.
   */
  readonly middleware: string
  /**
   * Work for the middleware answering early to have done before it does its own: coldStartSnapshot
   * restores its snapshot there, so that a warm-up ping refreshes what it restored and counts it.
   * Never rejects.
   */
  readonly prepare?: (request: Request) => Promise<void> | undefined
  /** Flushers with equal keys write to the same place (the same metrics, say): each writes what the others did not. */
  readonly key: string
  /** Whether the flusher's middleware saw `request` (one of its hooks ran): it is then known to be in the chain. */
  readonly ranFor: (request: Request) => boolean
  /** Flushes `request`, at most once per request, whoever calls it; never rejects. */
  readonly flush: (request: Request) => Promise<void> | undefined
}

/**
 * Every flusher of the process, whichever copy of the package registered it, held weakly: one whose
 * middleware is gone (a handler built per test, or by mistake per invocation) is collected and
 * drops out, so the set never grows without bound.
 */
const { flushers, forget } = processWide('earlyReturnFlushers', () => {
  const references = new Set<WeakRef<EarlyReturnFlusher>>()
  const forgetCollected = new FinalizationRegistry<WeakRef<EarlyReturnFlusher>>((reference) => {
    references.delete(reference)
  })
  return { flushers: references, forget: forgetCollected }
})

/** Registers `flusher` for the early returns of every request; the caller must hold it as long as its middleware lives. */
export const registerEarlyReturnFlusher = (flusher: EarlyReturnFlusher): void => {
  const reference = new WeakRef(flusher)
  flushers.add(reference)
  forget.register(flusher, reference)
}

const liveFlushers = (): EarlyReturnFlusher[] => {
  const live: EarlyReturnFlusher[] = []
  for (const reference of flushers) {
    const flusher = reference.deref()
    if (flusher === undefined) flushers.delete(reference)
    else live.push(flusher)
  }
  return live
}

/**
 * The registered flushers that stand in for a request answered early, by middleware. When none of
 * a middleware's flushers saw the request, each of them flushes (a module that builds several
 * handlers with cacheMetrics writing to the same metrics writes once: each group by the first
 * flusher that has it). When some did, they flush through the early-return work, and of the others
 * only those with the key of one that saw it: they may sit in the chain after the middleware
 * answering (a second cacheMetrics writing to the same metrics, with groups the first lacks), and
 * one with any other key belongs to another handler of the module.
 */
const flushersFor = (request: Request): EarlyReturnFlusher[] => {
  const byMiddleware = new Map<string, EarlyReturnFlusher[]>()
  for (const flusher of liveFlushers()) byMiddleware.set(flusher.middleware, [...(byMiddleware.get(flusher.middleware) ?? []), flusher])
  const chosen: EarlyReturnFlusher[] = []
  for (const flushers of byMiddleware.values()) {
    const keysThatRan = new Set(flushers.filter((flusher) => flusher.ranFor(request)).map((flusher) => flusher.key))
    if (keysThatRan.size === 0) chosen.push(...flushers)
    else chosen.push(...flushers.filter((flusher) => keysThatRan.has(flusher.key) && !flusher.ranFor(request)))
  }
  return chosen
}

/**
 * What the registered flushers prepare before a middleware answers early and does its own work
 * (warmup's refresh): called by that middleware first. Never rejects.
 */
export const prepareEarlyReturn = async (request: Request): Promise<void> => {
  await Promise.allSettled(
    flushersFor(request).map(async (flusher) => {
      await flusher.prepare?.(request)
    }),
  )
}

/** Runs the registered flushers for a request answered early (see `flushersFor`). Never rejects. */
const runRegisteredFlushers = async (request: Request): Promise<void> => {
  await Promise.allSettled(
    flushersFor(request).map(async (flusher) => {
      await flusher.flush(request)
    }),
  )
}

/**
 * This suite's part of what Middy skips when a middleware answers early: what the registered
 * flushers of the middlewares placed after the one answering prepare (coldStartSnapshot's restore,
 * whose figures belong to this request's metrics: done before any flush writes them), the
 * early-return work of its middlewares placed before it, then those flushers. Each flushes a
 * request at most once, so a second call does nothing. Never rejects.
 */
export const flushSuiteOnEarlyReturn = async (request: Request): Promise<void> => {
  await prepareEarlyReturn(request)
  await runEarlyReturnWork(request)
  await runRegisteredFlushers(request)
}

/**
 * Runs what Middy skips when a middleware answers early, in this order: this suite's early-return
 * work (the flush of a cacheMetrics placed before the middleware answering, the snapshot write of
 * a coldStartSnapshot placed before it), the registered flushers of those placed after it, the
 * cleanups of Powertools' middlewares placed before it (logMetrics' flush, the tracer's
 * segment...) through Powertools' own `cleanupMiddlewares`, and
 * last whatever `metrics` (Powertools Metrics instances) still hold, which is what a logMetrics
 * placed after it could not flush. Every step runs whatever the others did; resolves to the errors
 * they threw (logMetrics with throwOnEmptyMetrics, say), never rejects.
 */
export const flushBeforeEarlyReturn = async (request: Request, metrics: readonly FlushableMetrics[] = []): Promise<unknown[]> => {
  const errors: unknown[] = []
  await flushSuiteOnEarlyReturn(request)
  if (Object.keys(request.internal).some((key) => key.startsWith(powertoolsPrefix))) {
    try {
      const { cleanupMiddlewares } = await import('@aws-lambda-powertools/commons')
      await cleanupMiddlewares(request)
    } catch (error) {
      errors.push(error)
    }
  }
  for (const instance of metrics) {
    try {
      // Nothing stored: logMetrics (placed before) has flushed it, or nothing was added. Publishing
      // an empty buffer would only warn, or throw with throwOnEmptyMetrics.
      if (instance.hasStoredMetrics()) instance.publishStoredMetrics()
    } catch (error) {
      errors.push(error)
    }
  }
  return errors
}
