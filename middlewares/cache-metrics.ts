import type { MiddlewareObj, Request } from '@middy/core'
import type { Duration } from '../src/cache/duration.js'
import { initializationType } from '../src/lambda/environment.js'
import { cacheMetricsWriterOptionNames, powertoolsVariable, resolveMetricsOptions, type CacheMetricsWriterOptions, type ResolvedMetricsOptions } from '../src/metrics/options.js'
import { MetricsWriter } from '../src/metrics/writer.js'
import { registerEarlyReturnFlusher, type EarlyReturnFlusher } from './shared/early-return.js'
import { invocationOf, onEarlyReturn, resolveSettleBudget, settleIfPending } from './shared/invocation.js'

export { MetricGroup } from '../src/metrics/catalog.js'

export interface CacheMetricsOptions extends CacheMetricsWriterOptions {
  /**
   * How long to wait for refreshes still running beside the handler before counting, so that their
   * loads are in this invocation's figures. Shared with the cache middlewares' settling. Default '100ms'.
   */
  readonly settleBudget?: Duration
}

const optionNames = [...cacheMetricsWriterOptionNames, 'settleBudget'] as const

/** What one cacheMetrics instance keeps about one request, in the request. */
interface FlushState {
  /** False when another instance writing to the same metrics saw the request first: this one then writes nothing for it. */
  readonly owner: boolean
  flushed: boolean
  removeEarlyReturnFlush: (() => void) | undefined
}

/** Per instance, its state; per target, the state key of the instance that owns the request. */
type FlushInternal = Record<symbol, FlushState | symbol | undefined>

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

/**
 * Writes the figures of every cache the invocation used, and the invocation's own (cold start,
 * INIT duration, warm-up ping), as CloudWatch EMF through Powertools Metrics: once per
 * invocation, after the handler, after an error, or on an early return. An early return by a
 * middleware placed after it flushes through the early-return work its `before` registers; a
 * warm-up ping answered by `warmup` placed before it (its `before` never runs then) flushes
 * through the flusher it registers with the process when it is created. Of several instances in
 * one chain writing to the same metrics, the first to see a request writes it; the others warn once.
 */
export const cacheMetrics = (options: CacheMetricsOptions = {}): MiddlewareObj<unknown, unknown> => {
  const resolved = resolveMetricsOptions(options, optionNames)
  const settleBudgetMs = resolveSettleBudget(options.settleBudget)
  const writer = new MetricsWriter(resolved)
  // Read once, as Powertools does: the runtime sets it before INIT and never changes it.
  const initialization = initializationType()
  // In the request rather than a WeakMap: weak collections keyed by short-lived objects cost the
  // garbage collector more than the whole flush. A symbol per instance keeps two instances apart.
  const stateKey = Symbol('cacheMetrics')
  const target = targetOf(resolved)
  // In the global symbol registry, so that instances from two copies of this module (bundled twice) meet too.
  const ownerKey = Symbol.for(`middy-cache.cacheMetrics ${target}`)
  const stateOf = (request: Request): FlushState => {
    const internal = request.internal as FlushInternal
    const existing = internal[stateKey] as FlushState | undefined
    if (existing !== undefined) return existing
    const state: FlushState = { owner: (internal[ownerKey] ??= stateKey) === stateKey, flushed: false, removeEarlyReturnFlush: undefined }
    internal[stateKey] = state
    return state
  }
  let warnedOfDuplicate = false
  const warnOfDuplicate = (): void => {
    if (warnedOfDuplicate) return
    warnedOfDuplicate = true
    console.warn(`middy-cache: two cacheMetrics in one chain write to ${target}: only the first to run writes an invocation's metrics, since the other would write every figure again; use one`)
  }

  /** Never throws: a metric that cannot be written costs its figures, never the invocation's answer. */
  const write = (request: Request): void => {
    const invocation = invocationOf(request)
    try {
      writer.write({ start: invocation.start, initializationType: initialization, warmupPing: invocation.warmupPing }, invocation.scope.counters)
    } catch (error) {
      console.warn('middy-cache: cacheMetrics could not write this invocation\'s metrics', error)
    }
  }

  /** Synchronous when no refresh was ever left running: the common warm invocation pays no promise. */
  const flush = (request: Request): Promise<void> | undefined => {
    const state = stateOf(request)
    if (state.flushed || !state.owner) return undefined
    state.flushed = true
    state.removeEarlyReturnFlush?.()
    // Refreshes started beside the handler are counted once they settle (or are abandoned).
    const settling = settleIfPending(request, settleBudgetMs)
    if (settling !== undefined) {
      return settling.then(() => {
        write(request)
      })
    }
    write(request)
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
    ranFor: (request) => (request.internal as FlushInternal)[stateKey] !== undefined,
    flush: flushEarly,
  }
  registerEarlyReturnFlusher(flusher)

  const registerEarlyReturnFlush = (request: Request): void => {
    const state = stateOf(request)
    if (state.owner) state.removeEarlyReturnFlush = onEarlyReturn(request, () => flusher.flush(request) ?? Promise.resolve())
    else warnOfDuplicate()
  }

  return { name: 'cacheMetrics', before: registerEarlyReturnFlush, after: flush, onError: flush }
}
