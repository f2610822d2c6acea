import { CacheMetric, cacheDimension, serviceDimension } from '../../src/metrics/catalog.js'
import { parseEmf } from '../../test/support/emf.js'
import type { InvocationRecord, Recorder } from './recorder.js'
import type { Phase } from './traffic.js'

/** The services whose calls a cache saves: the sources of config, secrets and data. */
export const sourceServices = ['ssm', 'secretsmanager', 'dynamodb'] as const
export type SourceService = (typeof sourceServices)[number]

const isSourceService = (service: string): service is SourceService => (sourceServices as readonly string[]).includes(service)

export interface PhaseFigures {
  readonly name: string
  readonly shows: string
  readonly notes: readonly string[]
  readonly invocations: number
  /** Environments that served the phase's invocations. */
  readonly environments: number
  readonly coldStarts: number
  readonly failed: number
  readonly failures: readonly string[]
  readonly p50Ms: number | undefined
  readonly p99Ms: number | undefined
  readonly maxMs: number | undefined
  /** SDK calls to each source, retries included; failed ones are those the demo's outage answered. */
  readonly sourceCalls: Readonly<Record<SourceService, number>>
  readonly failedSourceCalls: number
  readonly lambdaInvokes: number
}

/** One cache's figures in one phase, as cacheMetrics wrote them (summed over the phase's EMF blobs). */
export interface CacheFigures {
  readonly phase: string
  readonly service: string
  readonly cache: string
  readonly gets: number
  /** 100 × (L1 hits + L2 hits + stale served) / gets, as cacheMetrics' HitRate, weighed by gets. */
  readonly hitRate: number | undefined
  readonly l1Hits: number
  readonly l2Hits: number
  readonly staleServed: number
  readonly staleOnError: number
  readonly misses: number
  readonly getErrors: number
  readonly loads: number
  readonly loadErrors: number
  /** Loads that outlived the cache's `timeout`. */
  readonly loadTimeouts: number
  readonly l2Errors: number
}

/** One environment's cold start; a variant (say, with a snapshot) is a function definition of its own. */
export interface ColdStartFigures {
  readonly functionName: string
  readonly environmentId: string
  readonly phase: string
  readonly trigger: string
  readonly initMs: number
  readonly firstInvocationMs: number
  readonly totalMs: number
}

export interface Totals {
  readonly invocations: number
  readonly failed: number
  readonly sourceCalls: number
  readonly sourceCallsByService: Readonly<Record<SourceService, number>>
  /** Source calls answered with an error: the demo's outage, the SDK's retries included. */
  readonly failedSourceCalls: number
  /** What handlers without a cache would have called: one call per value each invocation reads. */
  readonly uncachedSourceCalls: number
}

export interface DemoSetup {
  readonly moto: string
  /** The redis-server product-api shares, or why there is none. */
  readonly redis: { readonly url: string } | { readonly unavailable: string }
  readonly bundles: readonly { readonly name: string; readonly bytes: number }[]
}

export interface DemoReport {
  readonly setup: DemoSetup
  readonly phases: readonly PhaseFigures[]
  readonly caches: readonly CacheFigures[]
  readonly coldStarts: readonly ColdStartFigures[]
  readonly totals: Totals
  readonly files: { readonly emf: string; readonly chart: string; readonly report: string }
  readonly durationMs: number
}

/** Source values each invocation of a function reads when nothing is cached. */
const valuesReadPerInvocation: Readonly<Record<string, number>> = {
  'product-api': 3, // storefront settings, pricing key, product
  'orders-worker': 2, // storefront settings, one batch of products
  'nightly-report': 2, // report settings, the scan
  'nightly-report-without-snapshot': 2,
}

/** Nearest-rank percentile. */
const percentile = (sorted: readonly number[], p: number): number | undefined => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]

const countBy = (services: readonly string[]): Record<SourceService, number> =>
  Object.fromEntries(sourceServices.map((service) => [service, services.filter((called) => called === service).length])) as Record<SourceService, number>

const phaseFigures = (phase: Phase, recorder: Recorder): PhaseFigures => {
  const invocations = recorder.invocations.filter((record) => record.phase === phase.name)
  const latencies = invocations.map((record) => record.latencyMs).sort((a, b) => a - b)
  const calls = recorder.sdkCalls.filter((call) => call.phase === phase.name)
  const failures = invocations.flatMap((record) => (record.failure === undefined ? [] : [`${record.environmentId}: ${record.failure}`]))
  return {
    name: phase.name,
    shows: phase.shows,
    notes: recorder.notes.get(phase.name) ?? [],
    invocations: invocations.length,
    environments: new Set(invocations.map((record) => record.environmentId)).size,
    coldStarts: invocations.filter((record) => record.coldStart).length,
    failed: failures.length,
    failures: [...new Set(failures)],
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1),
    sourceCalls: countBy(calls.map((call) => call.service)),
    failedSourceCalls: calls.filter((call) => call.failed && isSourceService(call.service)).length,
    lambdaInvokes: calls.filter((call) => call.service === 'lambda').length,
  }
}

const numberAt = (blob: Readonly<Record<string, unknown>>, name: string): number => {
  const value = blob[name]
  if (typeof value === 'number') return value
  return Array.isArray(value) ? (value as number[]).reduce((sum, entry) => sum + entry, 0) : 0
}

/** Per phase and cache, the figures cacheMetrics wrote; every line is checked against the EMF specification first. */
const cacheFigures = (recorder: Recorder): CacheFigures[] => {
  const figures = new Map<string, CacheFigures>()
  for (const { phase, line } of recorder.emf) {
    const blob = parseEmf(line)
    const cache = blob[cacheDimension]
    const service = blob[serviceDimension]
    if (typeof cache !== 'string' || typeof service !== 'string') continue
    const key = `${phase}\0${service}\0${cache}`
    const sum = figures.get(key) ?? {
      phase, service, cache, gets: 0, hitRate: undefined, l1Hits: 0, l2Hits: 0, staleServed: 0, staleOnError: 0, misses: 0, getErrors: 0, loads: 0, loadErrors: 0, loadTimeouts: 0, l2Errors: 0,
    }
    const gets = sum.gets + numberAt(blob, CacheMetric.Gets)
    const l1Hits = sum.l1Hits + numberAt(blob, CacheMetric.L1Hits)
    const l2Hits = sum.l2Hits + numberAt(blob, CacheMetric.L2Hits)
    const staleServed = sum.staleServed + numberAt(blob, CacheMetric.StaleServed)
    figures.set(key, {
      phase, service, cache, gets, l1Hits, l2Hits, staleServed,
      hitRate: gets === 0 ? undefined : (100 * (l1Hits + l2Hits + staleServed)) / gets,
      staleOnError: sum.staleOnError + numberAt(blob, CacheMetric.StaleOnError),
      misses: sum.misses + numberAt(blob, CacheMetric.Misses),
      getErrors: sum.getErrors + numberAt(blob, CacheMetric.GetErrors),
      loads: sum.loads + numberAt(blob, CacheMetric.Loads),
      loadErrors: sum.loadErrors + numberAt(blob, CacheMetric.LoadErrors),
      loadTimeouts: sum.loadTimeouts + numberAt(blob, CacheMetric.LoadTimeouts),
      l2Errors: sum.l2Errors + numberAt(blob, CacheMetric.L2Errors),
    })
  }
  return [...figures.values()]
}

const coldStartFigures = (invocations: readonly InvocationRecord[]): ColdStartFigures[] =>
  invocations.flatMap((record) =>
    record.coldStart && record.initMs !== undefined
      ? [{ functionName: record.functionName, environmentId: record.environmentId, phase: record.phase, trigger: record.trigger, initMs: record.initMs, firstInvocationMs: record.durationMs, totalMs: record.latencyMs }]
      : [],
  )

/** A warm-up ping reads nothing: warmup() answers it before any cache middleware runs. */
const isWarmupAnswer = (payload: unknown): boolean => typeof payload === 'object' && payload !== null && (payload as { warmed?: unknown }).warmed === true

const totals = (recorder: Recorder): Totals => {
  const sourceCallsByService = countBy(recorder.sdkCalls.map((call) => call.service))
  const served = recorder.invocations.filter((record) => record.failure === undefined && !isWarmupAnswer(record.payload))
  return {
    invocations: recorder.invocations.length,
    failed: recorder.invocations.filter((record) => record.failure !== undefined).length,
    sourceCalls: sourceServices.reduce((sum, service) => sum + sourceCallsByService[service], 0),
    sourceCallsByService,
    failedSourceCalls: recorder.sdkCalls.filter((call) => call.failed && isSourceService(call.service)).length,
    uncachedSourceCalls: served.reduce((sum, record) => sum + (valuesReadPerInvocation[record.functionName] ?? 0), 0),
  }
}

export const buildReport = (
  script: readonly Phase[],
  recorder: Recorder,
  context: { readonly setup: DemoSetup; readonly files: DemoReport['files']; readonly durationMs: number },
): DemoReport => ({
  setup: context.setup,
  phases: script.map((phase) => phaseFigures(phase, recorder)),
  caches: cacheFigures(recorder),
  coldStarts: coldStartFigures(recorder.invocations),
  totals: totals(recorder),
  files: context.files,
  durationMs: context.durationMs,
})
