import { freePort } from '../test/harness/index.js'
import { bundle, type Bundle } from './support/bundle.js'
import { importTimes } from './support/import-time.js'
import { writeResult } from './support/measure.js'
import { formatBytes, formatMs, type Row } from './support/results.js'

const importRuns = 11
/** DESIGN: "the suite's own code adds at most 15 KB minified to a handler that already uses Powertools parameters and metrics"; 15 KB read as 15,000 bytes. */
const bar = { maxOwnBytes: 15_000 }

const handlers = {
  productApi: 'examples/product-api/handler.ts',
  productApiMiddy: 'bench/fixtures/product-api-middy.ts',
  productApiPowertools: 'bench/fixtures/product-api-powertools.ts',
  powertoolsBaseline: 'bench/fixtures/powertools-baseline.ts',
  powertoolsMiddyCache: 'bench/fixtures/powertools-middy-cache.ts',
} as const

/** What the handlers read at module load. The AWS endpoint is a closed local port: an INIT prefetch fails at once, never reaching AWS. */
const importEnv = async (): Promise<NodeJS.ProcessEnv> => ({
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_ENDPOINT_URL: `http://127.0.0.1:${await freePort()}`,
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  PRODUCTS_TABLE: 'products',
  STOREFRONT_PARAMETER: '/shop/storefront',
  PRICING_SECRET: 'shop/pricing',
})

const size = (measured: Bundle): string => `${formatBytes(measured.bytes)} (${formatBytes(measured.gzipBytes)} gz)`

/**
 * Bundle sizes (esbuild, minified, AWS SDK external) of examples/product-api against the same
 * handler written with Middy's packages and with Powertools alone; the DESIGN's bar on what the
 * suite adds to a Powertools handler; and how long a fresh `node` takes to import each bundle.
 */
export const benchBundles = async (): Promise<Row[]> => {
  const productApi = await bundle('product-api', handlers.productApi)
  const productApiMiddy = await bundle('product-api-middy', handlers.productApiMiddy)
  const productApiPowertools = await bundle('product-api-powertools', handlers.productApiPowertools)
  // Every product-api bundles ioredis for its Redis tier (about the same bytes in each): without it, the code that differs.
  const lean = [
    bundle('product-api-no-ioredis', handlers.productApi, ['ioredis']),
    bundle('product-api-middy-no-ioredis', handlers.productApiMiddy, ['ioredis']),
    bundle('product-api-powertools-no-ioredis', handlers.productApiPowertools, ['ioredis']),
  ] as const
  // ioredis is not external here: the main entry point must not reach it, and would be caught if it did.
  const baseline = await bundle('powertools-baseline', handlers.powertoolsBaseline)
  const withSuite = await bundle('powertools-middy-cache', handlers.powertoolsMiddyCache)
  const [leanOurs, leanMiddy, leanPowertools] = await Promise.all(lean)

  const timed = [productApi, productApiMiddy, productApiPowertools, baseline, withSuite]
  const timings = importTimes(
    timed.map(({ file }) => file),
    importRuns,
    await importEnv(),
  )
  const importMs = (measured: Bundle): number => timings.find(({ file }) => file === measured.file)?.medianMs ?? Number.NaN
  const addedBytes = withSuite.bytes - baseline.bytes
  const all = [productApi, productApiMiddy, productApiPowertools, leanOurs, leanMiddy, leanPowertools, baseline, withSuite]
  const path = writeResult('bundles.json', {
    bench: 'bundles',
    node: process.version,
    date: new Date().toISOString(),
    esbuild: { minify: true, platform: 'node', format: 'esm', target: 'node22', external: ['@aws-sdk/*'], gzipLevel: 9 },
    bundles: all.map(({ name, bytes, gzipBytes, ownBytes }) => ({ name, bytes, gzipBytes, ownBytes })),
    importRuns,
    importMs: timings.map(({ file, medianMs, runsMs }) => ({ bundle: all.find((measured) => measured.file === file)?.name, medianMs, runsMs })),
    bar: { ...bar, ownBytes: withSuite.ownBytes, addedBytes, ownModules: withSuite.ownModules },
  })

  console.log(`Bundles: esbuild, minified, esm, node22, @aws-sdk/* external; gzip -9; import: median of ${importRuns} fresh node processes (${process.version})`)
  for (const measured of all) {
    const ms = timed.includes(measured) ? `  import ${formatMs(importMs(measured))}` : ''
    console.log(`  ${measured.name.padEnd(36)} ${String(measured.bytes).padStart(8)} B  ${String(measured.gzipBytes).padStart(7)} B gz  own ${String(measured.ownBytes).padStart(6)} B${ms}`)
  }
  console.log(`  middy-cache's own code in the Powertools handler: ${withSuite.ownBytes} B; the bundle grows by ${addedBytes} B (bar <= ${bar.maxOwnBytes} B)`)
  console.log(`  written to ${path}`)

  const sizes = 'Bundle, minified, AWS SDK external (gzip -9)'
  const sizeRow = (comparison: string, ours: Bundle, theirs: Bundle): Row => ({ section: sizes, comparison, ours: size(ours), theirs: size(theirs), ratio: ours.bytes / theirs.bytes, bar: undefined, met: undefined })
  const imports = `Import of the bundle by a fresh node, median of ${importRuns}`
  const importRow = (comparison: string, ours: Bundle, theirs: Bundle): Row => ({
    section: imports,
    comparison,
    ours: formatMs(importMs(ours)),
    theirs: formatMs(importMs(theirs)),
    ratio: importMs(ours) / importMs(theirs),
    bar: undefined,
    met: undefined,
  })
  const barText = `<= ${formatBytes(bar.maxOwnBytes)}`
  return [
    sizeRow('product-api vs the same with @middy/ssm + secrets-manager + warmup', productApi, productApiMiddy),
    sizeRow('product-api vs the same with Powertools alone', productApi, productApiPowertools),
    sizeRow('the same, ioredis external too: vs @middy packages', leanOurs, leanMiddy),
    sizeRow('the same, ioredis external too: vs Powertools alone', leanOurs, leanPowertools),
    { section: sizes, comparison: "middy-cache's own code (config + secrets + metrics) in a Powertools parameters + metrics handler", ours: formatBytes(withSuite.ownBytes), theirs: '', ratio: undefined, bar: barText, met: withSuite.ownBytes <= bar.maxOwnBytes },
    { section: sizes, comparison: 'that handler with middy-cache vs without (bundle growth)', ours: size(withSuite), theirs: size(baseline), ratio: withSuite.bytes / baseline.bytes, bar: `growth ${barText}`, met: addedBytes <= bar.maxOwnBytes },
    importRow('product-api vs the same with @middy packages', productApi, productApiMiddy),
    importRow('product-api vs the same with Powertools alone', productApi, productApiPowertools),
    importRow('Powertools parameters + metrics handler, with middy-cache vs without', withSuite, baseline),
  ]
}
