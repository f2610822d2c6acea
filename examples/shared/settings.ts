/** The CloudWatch namespace every example writes its cache metrics to; serverless.yml's dashboard and alarm read it. */
export const metricsNamespace = 'MiddyCacheExamples'

/** The `service` dimension each example's cacheMetrics writes; serverless.yml's dashboard and alarm read product-api's. */
export const serviceNames = {
  productApi: 'product-api',
  ordersWorker: 'orders-worker',
  nightlyReport: 'nightly-report',
} as const

/** product-api's per-product cache: its name is the `cache` dimension serverless.yml's dashboard and alarm read. */
export const productsCacheName = 'products'

/**
 * product-api's warmup() interval: serverless.yml pings it at rate(5 minutes), and a schedule may
 * fire late, so each ping refreshes what would go stale within the rate and a minute's slack. With
 * the rate alone, a secret that stops being fresh a little after the next ping is due goes stale
 * before a late one comes, and a request waits for Secrets Manager.
 */
export const warmupInterval = '6m'

/**
 * The value of an environment variable serverless.yml sets. Read at module load, so that a
 * function deployed without it fails during INIT with a message that names it, never at the first
 * request.
 */
export const requiredEnv = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set (serverless.yml sets it)`)
  return value
}
