import type { CacheCounters } from '../cache/counters.js'
import { isColdStart, type InvocationStart } from '../lambda/environment.js'
import { CacheMetric, InvocationMetric, MetricGroup, Unit } from './catalog.js'

/** One metric value to write. */
export interface Figure {
  readonly name: string
  readonly unit: Unit
  readonly value: number
}

/** What the metrics need to know about the invocation, whatever runs it. */
export interface InvocationFacts {
  readonly start: InvocationStart
  /** `AWS_LAMBDA_INITIALIZATION_TYPE`; undefined off Lambda. */
  readonly initializationType: string | undefined
  /** The invocation is a warm-up ping: its gets stay out of hit rates. */
  readonly warmupPing: boolean
}

/**
 * InitDuration goes with ColdStart: in an environment initialised ahead of any caller, "INIT to
 * first invocation" is idle time, not INIT.
 */
export const invocationFigures = (facts: InvocationFacts): Figure[] => {
  const figures: Figure[] = []
  if (isColdStart(facts.start, facts.initializationType)) {
    figures.push({ name: InvocationMetric.ColdStart, unit: Unit.Count, value: 1 })
    if (facts.start.initDurationMs !== undefined) {
      figures.push({ name: InvocationMetric.InitDuration, unit: Unit.Milliseconds, value: facts.start.initDurationMs })
    }
  }
  if (facts.warmupPing) figures.push({ name: InvocationMetric.WarmupPing, unit: Unit.Count, value: 1 })
  return figures
}

/**
 * Counts are written only when they are not zero: CloudWatch sums a missing count like a zero,
 * and every metric costs a Powertools call and log bytes on every invocation. Rates and latencies
 * are written whenever they have a denominator, even when they come to 0.
 */
const pushCount = (figures: Figure[], name: string, value: number): void => {
  if (value !== 0) figures.push({ name, unit: Unit.Count, value })
}

const pushGets = (figures: Figure[], counters: CacheCounters): void => {
  const gets = counters.gets
  if (gets === 0) return
  const servedFromMemory = counters.hits + counters.staleServed - counters.l2StaleServed
  figures.push({ name: CacheMetric.Gets, unit: Unit.Count, value: gets })
  pushCount(figures, CacheMetric.L1Hits, counters.hits)
  pushCount(figures, CacheMetric.L1Misses, gets - servedFromMemory)
  pushCount(figures, CacheMetric.Misses, counters.misses)
  pushCount(figures, CacheMetric.StaleServed, counters.staleServed)
  pushCount(figures, CacheMetric.StaleOnError, counters.staleOnError)
  pushCount(figures, CacheMetric.GetErrors, counters.errors)
  // A hit is a get that did not wait for the source: fresh from memory or L2, or stale while revalidating.
  const hits = counters.hits + counters.l2Hits + counters.staleServed
  figures.push({ name: CacheMetric.HitRate, unit: Unit.Percent, value: (100 * hits) / gets })
}

const pushLoads = (figures: Figure[], counters: CacheCounters): void => {
  pushCount(figures, CacheMetric.Loads, counters.loads)
  pushCount(figures, CacheMetric.LoadErrors, counters.loadErrors)
  pushCount(figures, CacheMetric.LoadTimeouts, counters.loadTimeouts)
  pushCount(figures, CacheMetric.NotCached, counters.notCached)
  // Over the loads that ended: one still running (a refresh given up at the flush) has no duration yet, not 0 ms.
  if (counters.loadsEnded > 0) figures.push({ name: CacheMetric.LoadLatency, unit: Unit.Milliseconds, value: counters.loadTimeMs / counters.loadsEnded })
}

const pushL2 = (figures: Figure[], counters: CacheCounters, warmupPing: boolean): void => {
  if (!warmupPing) {
    pushCount(figures, CacheMetric.L2Hits, counters.l2Hits)
    pushCount(figures, CacheMetric.L2Misses, counters.l2Misses)
  }
  pushCount(figures, CacheMetric.L2Errors, counters.l2Errors)
  // Per operation, not per get: gets that share one flight share its read, and one get may make
  // several operations (a read, a lease, a write).
  if (counters.l2Operations > 0) figures.push({ name: CacheMetric.L2Latency, unit: Unit.Milliseconds, value: counters.l2TimeMs / counters.l2Operations })
}

const pushSnapshot = (figures: Figure[], counters: CacheCounters): void => {
  if (counters.snapshotReads === 0) return
  pushCount(figures, CacheMetric.SnapshotHydrated, counters.snapshotHydrated)
  pushCount(figures, CacheMetric.SnapshotMisses, counters.snapshotMisses)
  figures.push({ name: CacheMetric.SnapshotLoadLatency, unit: Unit.Milliseconds, value: counters.snapshotLoadMs / counters.snapshotReads })
}

/**
 * One cache's figures for one invocation. A warm-up ping's hits and misses (of any tier) are left
 * out: they are not traffic. Its loads, L2 errors and latencies are kept: they are real work.
 */
export const cacheFigures = (counters: CacheCounters, warmupPing: boolean, groups: ReadonlySet<MetricGroup>): Figure[] => {
  const figures: Figure[] = []
  if (groups.has(MetricGroup.Gets) && !warmupPing) pushGets(figures, counters)
  if (groups.has(MetricGroup.Loads)) pushLoads(figures, counters)
  if (groups.has(MetricGroup.L2)) pushL2(figures, counters, warmupPing)
  // A snapshot read on a warm-up ping is the environment's real start, not traffic: kept.
  if (groups.has(MetricGroup.Snapshot)) pushSnapshot(figures, counters)
  return figures
}
