import { CacheCounters, type CounterName } from '../../src/cache/counters.js'
import { resolveMetricsOptions, type CacheMetricsWriterOptions } from '../../src/metrics/options.js'
import { MetricsWriter } from '../../src/metrics/writer.js'
import { captureOutput } from './emf.js'
import { setEnv } from './env.js'

/** How CloudWatch files one metric cacheMetrics writes: its unit and the names of its dimensions. */
export interface EmittedMetric {
  readonly unit: string | undefined
  readonly dimensions: readonly string[]
}

/** Every counter at 1: each figure has something to count and a denominator. */
const busyCounters = (): CacheCounters => {
  const counters = new CacheCounters()
  for (const name of Object.keys(counters) as CounterName[]) counters[name] = 1
  return counters
}

/**
 * What cacheMetrics writes, read back from the EMF its writer prints (not from the catalogue): an
 * on-demand cold start whose cache did everything once, then a warm-up ping. Keyed by metric name.
 */
export const emittedMetrics = (options: CacheMetricsWriterOptions): Map<string, EmittedMetric> => {
  const restoreEnv = setEnv({ POWERTOOLS_DEV: undefined, POWERTOOLS_METRICS_DISABLED: undefined })
  const output = captureOutput()
  try {
    const writer = new MetricsWriter(resolveMetricsOptions(options))
    const start = { coldStart: true, initDurationMs: 120, sequence: 1 }
    writer.write({ start, initializationType: 'on-demand', warmupPing: false }, new Map([['products', busyCounters()]]))
    writer.write({ start: { coldStart: false, initDurationMs: undefined, sequence: 2 }, initializationType: 'on-demand', warmupPing: true }, new Map())
    const emitted = new Map<string, EmittedMetric>()
    for (const blob of output.blobs()) {
      for (const directive of blob._aws.CloudWatchMetrics) {
        const [dimensions, ...others] = directive.Dimensions
        if (dimensions === undefined || others.length > 0) throw new Error(`expected one dimension set per blob, got ${JSON.stringify(directive.Dimensions)}`)
        for (const metric of directive.Metrics) emitted.set(metric.Name, { unit: metric.Unit, dimensions })
      }
    }
    return emitted
  } finally {
    output.restore()
    restoreEnv()
  }
}
