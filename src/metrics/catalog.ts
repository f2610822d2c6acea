import type { MetricUnit } from '@aws-lambda-powertools/metrics/types'

/** Groups of metrics a user may switch on or off (option `groups`). */
export const MetricGroup = {
  /** ColdStart, InitDuration, WarmupPing: one blob per invocation that has one of them. */
  Invocation: 'invocation',
  /** Per cache: what gets were served with, and the hit rate. */
  Gets: 'gets',
  /** Per cache: loader calls, their failures and their latency. */
  Loads: 'loads',
  /** Per cache: the shared tier's hits, misses, errors and latency. */
  L2: 'l2',
  /** Per cache: what the cold-start snapshot brought, on the invocation that waited for it. */
  Snapshot: 'snapshot',
} as const
export type MetricGroup = (typeof MetricGroup)[keyof typeof MetricGroup]

export const metricGroups: readonly MetricGroup[] = Object.values(MetricGroup)

/** The units this suite writes, spelt as CloudWatch (and Powertools' MetricUnit) spell them. */
export const Unit = {
  Count: 'Count',
  Percent: 'Percent',
  Milliseconds: 'Milliseconds',
} as const satisfies Record<string, MetricUnit>
export type Unit = (typeof Unit)[keyof typeof Unit]

/** Metrics written once per invocation, with the dimensions `service` and the default dimensions. */
export const InvocationMetric = {
  ColdStart: 'ColdStart',
  InitDuration: 'InitDuration',
  WarmupPing: 'WarmupPing',
} as const

/** Metrics written per cache, with the dimensions `service`, `cache` and the default dimensions. */
export const CacheMetric = {
  Gets: 'Gets',
  L1Hits: 'L1Hits',
  L1Misses: 'L1Misses',
  Misses: 'Misses',
  StaleServed: 'StaleServed',
  StaleOnError: 'StaleOnError',
  GetErrors: 'GetErrors',
  HitRate: 'HitRate',
  Loads: 'Loads',
  LoadErrors: 'LoadErrors',
  LoadTimeouts: 'LoadTimeouts',
  LoadLatency: 'LoadLatency',
  NotCached: 'NotCached',
  L2Hits: 'L2Hits',
  L2Misses: 'L2Misses',
  L2Errors: 'L2Errors',
  L2Latency: 'L2Latency',
  SnapshotHydrated: 'SnapshotHydrated',
  SnapshotMisses: 'SnapshotMisses',
  SnapshotLoadLatency: 'SnapshotLoadLatency',
} as const

/** The dimension that names the cache a blob's figures belong to. */
export const cacheDimension = 'cache'
/** Powertools' service dimension, on every blob. */
export const serviceDimension = 'service'

/** Every name this suite writes at the root of an EMF blob as a metric: no dimension may take one. */
export const metricNames: ReadonlySet<string> = new Set<string>([...Object.values(InvocationMetric), ...Object.values(CacheMetric)])
