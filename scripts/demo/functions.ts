import type { Bundle, ExampleName } from './bundle.js'
import type { FunctionDefinition } from './runtime/messages.js'
import { resources } from './seed.js'

/** The demo's nightly-report under another name, which no snapshot was ever written for. */
export const withoutSnapshot = 'nightly-report-without-snapshot'

const nightlyReport = (name: string, bundles: Readonly<Record<ExampleName, Bundle>>): FunctionDefinition => ({
  name,
  bundlePath: bundles['nightly-report'].path,
  environment: {
    PRODUCTS_TABLE: resources.productsTable,
    REPORTS_BUCKET: resources.reportsBucket,
    REPORT_PARAMETER: resources.reportParameter,
    SNAPSHOT_BUCKET: resources.reportsBucket,
    SNAPSHOT_PREFIX: resources.snapshotPrefix,
  },
  timeoutMs: 60_000,
  memoryMb: 512,
})

/**
 * The examples as serverless.yml deploys them: the same environment variables, pointing at the
 * demo's resources; product-api gets REDIS_URL only when the demo has a redis-server.
 */
export const functionDefinitions = (bundles: Readonly<Record<ExampleName, Bundle>>, redisUrl: string | undefined): FunctionDefinition[] => [
  {
    name: 'product-api',
    bundlePath: bundles['product-api'].path,
    environment: {
      PRODUCTS_TABLE: resources.productsTable,
      STOREFRONT_PARAMETER: resources.storefrontParameter,
      PRICING_SECRET: resources.pricingSecret,
      ...(redisUrl === undefined ? {} : { REDIS_URL: redisUrl }),
    },
    timeoutMs: 10_000,
    memoryMb: 512,
  },
  {
    name: 'orders-worker',
    bundlePath: bundles['orders-worker'].path,
    environment: { PRODUCTS_TABLE: resources.productsTable, STOREFRONT_PARAMETER: resources.storefrontParameter },
    timeoutMs: 30_000,
    memoryMb: 512,
  },
  nightlyReport('nightly-report', bundles),
  // The same function as if deployed for the first time: its snapshot key (by function name) holds nothing.
  nightlyReport(withoutSnapshot, bundles),
]
