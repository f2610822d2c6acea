import type { Metrics } from '@aws-lambda-powertools/metrics'
import { serviceDimension } from './catalog.js'

/** Where a Powertools Metrics instance writes: its namespace, service and default dimensions. */
export interface MetricsTarget {
  readonly namespace: string
  readonly service: string | undefined
  /** Default dimensions other than `service`. */
  readonly dimensions: Readonly<Record<string, string>>
}

/**
 * Reads where `metrics` writes through its public API only: a single-metric child copies the
 * namespace and default dimensions (never the buffered metrics, dimensions or metadata), and
 * serialising the empty child shows them without printing anything.
 */
export const describeMetrics = (metrics: Metrics): MetricsTarget => {
  const { _aws: directives, ...root } = metrics.singleMetric().serializeMetrics()
  const dimensions: Record<string, string> = {}
  let service: string | undefined
  for (const [name, value] of Object.entries(root)) {
    if (typeof value !== 'string') continue
    if (name === serviceDimension) service = value
    else dimensions[name] = value
  }
  return { namespace: directives.CloudWatchMetrics[0]?.Namespace ?? '', service, dimensions }
}
