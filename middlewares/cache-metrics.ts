import type { MiddlewareObj, Request } from '@middy/core'
import type { Duration } from '../src/cache/duration.js'
import { prefetchCounts, takePrefetchCounts } from '../src/cache/prefetch-counts.js'
import { initializationType } from '../src/lambda/environment.js'
import { metricGroups, type MetricGroup } from '../src/metrics/catalog.js'
import { cacheMetricsWriterOptionNames, powertoolsVariable, resolveMetricsOptions, type CacheMetricsWriterOptions, type ResolvedMetricsOptions } from '../src/metrics/options.js'
import { MetricsWriter } from '../src/metrics/writer.js'
import { registerEarlyReturnFlusher, type EarlyReturnFlusher } from './shared/early-return.js'
import { endInvocation, endsInvocation, enterInvocation, invocationIfAny, invocationOf, leaveToEnd, onEarlyReturn, readInvocationCounts, resolveSettleBudget, type Invocation } from './shared/invocation.js'

export { MetricGroup } from '../src/metrics/catalog.js'

export interface CacheMetricsOptions extends CacheMetricsWriterOptions {
  /**
   * How long to wait for refreshes still running beside the handler before counting, so that their
   * loads are in this invocation's figures. Shared with the cache middlewares' settling. Default '100ms'.
   */
  readonly settleBudget?: Duration
}

const optionNames = [...cacheMetricsWriterOptionNames, 'settleBudget'] as const

/** What one cacheMetrics instance does for one invocation, kept in the invocation (nested requests share it). */
interface InvocationState {
  /** The groups it writes: those of its own that no instance writing to the same metrics saw the invocation with first. */
  readonly groups: ReadonlySet<MetricGroup>
  /** Another instance writing to the same metrics saw the invocation first. */
  readonly second: boolean
  /** Written, or left to the request that ends the invocation. */
  flushed: boolean
  removeEarlyReturnFlush: (() => void) | undefined
}

/**
 * Where an instance's figures land: CloudWatch tells metrics apart by namespace, name and
 * dimensions, so two instances with equal targets (whatever their groups or resolution) would add
 * every figure they share twice.
 */
const targetOf = (resolved: ResolvedMetricsOptions): string =>
  JSON.stringify({
    namespace: resolved.namespace,
    // As Powertools resolves a service left unset, so that an instance relying on the variable meets one naming the same value.
    service: resolved.service ?? powertoolsVariable('POWERTOOLS_SERVICE_NAME'),
    defaultDimensions: Object.fromEntries(Object.entries(resolved.dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  })

/** Groups as the bits of a small integer: what the instances writing to one target claimed of an invocation. */
const bitOf = (group: MetricGroup): number => 1 << metricGroups.indexOf(group)
const bitsOf = (groups: ReadonlySet<MetricGroup>): number => [...groups].reduce((bits, group) => bits | bitOf(group), 0)
const groupsOf = (bits: number): ReadonlySet<MetricGroup> => new Set(metricGroups.filter((group) => (bits & bitOf(group)) !== 0))

/**
 * Writes the figures of every cache the invocation used, and the invocation's own (cold start,
 * INIT duration, warm-up ping), as CloudWatch EMF through Powertools Metrics: once per
 * invocation, after the handler, after an error, or on an early return. An early return by a
 * middleware placed after it flushes through the early-return work its `before` registers; a
 * warm-up ping answered by `warmup` placed before it (its `before` never runs then) flushes
 * through the flusher it registers with the process when it is created. In a Middy handler called
 * from another's (a route of @middy/http-router), it leaves its write to the end of the enclosing
 * invocation. Of several instances writing to the same metrics, each group of metrics is written
 * once, by the first instance that has it to see the invocation; the others warn once.
 */
export const cacheMetrics = (options: CacheMetricsOptions = {}): MiddlewareObj<unknown, unknown> => {
  const resolved = resolveMetricsOptions(options, optionNames)
  const settleBudgetMs = resolveSettleBudget(options.settleBudget)
  const writer = new MetricsWriter(resolved)
  readInvocationCounts()
  // Read once, as Powertools does: the runtime sets it before INIT and never changes it.
  const initialization = initializationType()
  const ownBits = bitsOf(resolved.groups)
  // In the invocation rather than a WeakMap: weak collections keyed by short-lived objects cost the
  // garbage collector more than the whole flush. A symbol per instance keeps two instances apart.
  const stateKey = Symbol('cacheMetrics')
  const target = targetOf(resolved)
  // In the global symbol registry, so that instances from two copies of this module (bundled twice) meet too.
  const targetKey = Symbol.for(`middy-cache.cacheMetrics ${target}`)

  /** This instance's state for the invocation, made (claiming the groups no instance claimed before it) at its first sight of it. */
  const stateOf = (invocation: Invocation): InvocationState => {
    const slots = (invocation.slots ??= new Map())
    const existing = slots.get(stateKey) as InvocationState | undefined
    if (existing !== undefined) return existing
    const claimed = slots.get(targetKey) as number | undefined
    const mine = claimed === undefined ? ownBits : ownBits & ~claimed
    slots.set(targetKey, (claimed ?? 0) | ownBits)
    const state: InvocationState = { groups: mine === ownBits ? resolved.groups : groupsOf(mine), second: claimed !== undefined, flushed: false, removeEarlyReturnFlush: undefined }
    slots.set(stateKey, state)
    return state
  }
  let warnedOfDuplicate = false
  const warnOfDuplicate = (): void => {
    if (warnedOfDuplicate) return
    warnedOfDuplicate = true
    console.warn(`middy-cache: two cacheMetrics write one invocation to ${target}: each group of metrics is written once, by the first of them to see the invocation that has it; use one`)
  }

  /**
   * Never throws: a metric that cannot be written costs its figures, never the invocation's answer.
   * The first write after a cache prefetched (at INIT: the environment's first invocation written)
   * takes what the prefetch counted into its invocation, which no other invocation then writes.
   */
  const write = (invocation: Invocation, state: InvocationState): void => {
    if (state.groups.size === 0) return
    try {
      if (prefetchCounts.untaken) takePrefetchCounts(invocation.scope)
      writer.write({ start: invocation.start, initializationType: initialization, warmupPing: invocation.warmupPing }, invocation.scope.counters, state.groups)
    } catch (error) {
      console.warn('middy-cache: cacheMetrics could not write this invocation\'s metrics', error)
    }
  }

  /** For a nested request: the request that ends the invocation writes it, once its refreshes settled. */
  const leaveWriteToEnd = (invocation: Invocation, state: InvocationState): void => {
    state.flushed = true
    leaveToEnd(invocation, () => {
      write(invocation, state)
    })
  }

  /**
   * Writes once the invocation's refreshes settled, in the request that ends it; synchronous when
   * no refresh was ever left running: the common warm invocation pays no promise. In a nested
   * request, leaves the write to the end of the invocation.
   */
  const flush = (request: Request): Promise<void> | undefined => {
    const invocation = invocationOf(request)
    const state = stateOf(invocation)
    if (state.flushed) return undefined
    state.removeEarlyReturnFlush?.()
    if (!endsInvocation(invocation, request)) {
      leaveWriteToEnd(invocation, state)
      return undefined
    }
    state.flushed = true
    // Refreshes started beside the handler are counted once they settle (or are abandoned).
    const ending = endInvocation(request, settleBudgetMs)
    if (ending !== undefined) {
      return ending.then(() => {
        write(invocation, state)
      })
    }
    write(invocation, state)
    return undefined
  }

  /** Never rejects: a flush on an early return must not stop the others, nor the answer. */
  const flushEarly = async (request: Request): Promise<void> => {
    try {
      await flush(request)
    } catch {
      // Powertools writes or warns; nothing here may fail the early answer.
    }
  }

  // Held by `before` below, so that it lives exactly as long as the middleware does.
  const flusher: EarlyReturnFlusher = {
    middleware: 'cacheMetrics',
    key: target,
    ranFor: (request) => invocationIfAny(request)?.slots?.has(stateKey) === true,
    flush: flushEarly,
  }
  registerEarlyReturnFlusher(flusher)

  /**
   * At its first sight of the invocation: registers the flush as early-return work, or in a nested
   * request leaves it to the end of the invocation at once (an early answer there skips its `after`).
   */
  const before = (request: Request): void => {
    const invocation = enterInvocation(request)
    if (invocation.slots?.has(stateKey) === true) return
    const state = stateOf(invocation)
    if (state.second) warnOfDuplicate()
    if (endsInvocation(invocation, request)) state.removeEarlyReturnFlush = onEarlyReturn(request, () => flusher.flush(request) ?? Promise.resolve())
    else leaveWriteToEnd(invocation, state)
  }

  return { name: 'cacheMetrics', before, after: flush, onError: flush }
}
