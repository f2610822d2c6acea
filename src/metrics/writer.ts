import { MetricResolution, Metrics } from '@aws-lambda-powertools/metrics'
import type { MetricResolution as Resolution } from '@aws-lambda-powertools/metrics/types'
import type { CacheCounters } from '../cache/counters.js'
import { cacheDimension, MetricGroup } from './catalog.js'
import { cacheFigures, invocationFigures, type Figure, type InvocationFacts } from './figures.js'
import type { ResolvedMetricsOptions } from './options.js'

/**
 * Writes one invocation's figures as EMF through Powertools Metrics: one blob with the invocation's
 * own metrics (dimension `service`), then one blob per cache (dimensions `service` and `cache`).
 * EMF keeps one value per dimension name at a blob's root, so two caches cannot share a blob and
 * still be told apart by a `cache` dimension; a blob per cache keeps every figure readable per
 * cache and far inside EMF's 100 metrics and 30 dimensions.
 *
 * Each blob is filled and published without yielding, so invocations running at once in this
 * environment (Lambda Managed Instances) never add to each other's blob. Powertools keeps the
 * environment's rules: POWERTOOLS_METRICS_DISABLED, POWERTOOLS_DEV, the service variable.
 */
export class MetricsWriter {
  readonly #options: ResolvedMetricsOptions
  readonly #resolution: Resolution
  readonly #invocation: Metrics
  /** One instance per cache name, its `cache` dimension a default dimension: set once, not per flush. */
  readonly #perCache = new Map<string, Metrics>()

  constructor(options: ResolvedMetricsOptions) {
    this.#options = options
    this.#resolution = options.highResolution ? MetricResolution.High : MetricResolution.Standard
    this.#invocation = this.#createMetrics(options.dimensions)
  }

  /**
   * Writes the figures of one invocation in `groups` (by default those of the options); `counters`
   * are the invocation's own, by cache name.
   */
  write(facts: InvocationFacts, counters: ReadonlyMap<string, CacheCounters>, groups: ReadonlySet<MetricGroup> = this.#options.groups): void {
    if (groups.has(MetricGroup.Invocation)) this.#publish(this.#invocation, invocationFigures(facts))
    for (const [cache, cacheCounters] of counters) {
      const figures = cacheFigures(cacheCounters, facts.warmupPing, groups)
      // An instance per cache is made only once the cache has something to write.
      if (figures.length > 0) this.#publish(this.#metricsFor(cache), figures)
    }
  }

  #publish(metrics: Metrics, figures: readonly Figure[]): void {
    if (figures.length === 0) return
    for (const figure of figures) metrics.addMetric(figure.name, figure.unit, figure.value, this.#resolution)
    metrics.publishStoredMetrics()
  }

  #metricsFor(cache: string): Metrics {
    let metrics = this.#perCache.get(cache)
    if (metrics === undefined) {
      metrics = this.#createMetrics({ ...this.#options.dimensions, [cacheDimension]: cache })
      this.#perCache.set(cache, metrics)
    }
    return metrics
  }

  #createMetrics(defaultDimensions: Readonly<Record<string, string>>): Metrics {
    const { namespace, service } = this.#options
    return new Metrics({
      defaultDimensions: { ...defaultDimensions },
      namespace,
      ...(service === undefined ? {} : { serviceName: service }),
    })
  }
}
