import middy, { type MiddlewareObj } from '@middy/core'
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import { cacheMetrics } from '../middlewares/cache-metrics.js'
import { invocationOf } from '../middlewares/shared/invocation.js'
import { createCache, type Cache } from '../src/index.js'
import { lambdaContexts } from '../test/support/lambda-context.js'
import { measureSideBySide, writeResult } from './support/measure.js'
import { formatNs, infoRow, type Row } from './support/results.js'

const invocations = 20_000
const rounds = 9
const bar = { maxRatioToLogMetrics: 1.3 }
const namespace = 'Bench'
const service = 'bench'

/** Stands in for a cache middleware: one L1 hit per invocation, within the invocation's scope. */
const readsOneKey = (cache: Cache<string>): MiddlewareObj => ({
  before: async (request) => {
    await cache.get('key', { scope: invocationOf(request).scope })
  },
})

/**
 * Stdout as a sink that keeps nothing but counts, installed for every contender alike: the figures
 * are what producing the EMF line costs, not what the terminal makes of it.
 */
const countingStdout = () => {
  const original = Object.getOwnPropertyDescriptor(process.stdout, 'write')
  let lines = 0
  let bytes = 0
  const write = (chunk: string | Uint8Array): boolean => {
    lines++
    bytes += chunk.length
    return true
  }
  Object.defineProperty(process.stdout, 'write', { value: write, configurable: true, writable: true })
  return {
    take: () => {
      const counted = { lines, bytes }
      lines = 0
      bytes = 0
      return counted
    },
    restore: () => {
      if (original === undefined) Reflect.deleteProperty(process.stdout, 'write')
      else Object.defineProperty(process.stdout, 'write', original)
    },
  }
}

/**
 * The cost per invocation of cacheMetrics' flush (one cache read, so one EMF blob) against
 * Powertools' logMetrics flushing two metrics the handler added, with the same Middy chain and
 * cache read under both and a chain without metrics as the baseline, side by side.
 */
export const benchCacheMetrics = async (): Promise<Row[]> => {
  for (const variable of ['POWERTOOLS_DEV', 'POWERTOOLS_METRICS_DISABLED', 'AWS_LAMBDA_INITIALIZATION_TYPE']) {
    if (process.env[variable] !== undefined) throw new Error(`bench: unset ${variable}, which changes what metrics are written`)
  }
  const caches = ['products', 'prices', 'config'].map((name) => createCache({ name, load: (key) => `${name} ${key}`, ttl: '1h' }))
  for (const cache of caches) await cache.get('key')
  const [products, prices, config] = caches as [Cache<string>, Cache<string>, Cache<string>]
  // A new context for every invocation, as the runtime hands them.
  const nextContext = lambdaContexts(900_000)
  const ok = () => Promise.resolve('ok')

  const noMetrics = middy().use(readsOneKey(products)).handler(ok)
  const withCacheMetrics = middy().use(cacheMetrics({ namespace, service })).use(readsOneKey(products)).handler(ok)
  const metrics = new Metrics({ namespace, serviceName: service })
  const withLogMetrics = middy()
    .use(logMetrics(metrics))
    .use(readsOneKey(products))
    .handler(() => {
      metrics.addMetric('Orders', MetricUnit.Count, 1)
      metrics.addMetric('OrderValue', MetricUnit.Count, 42)
      return Promise.resolve('ok')
    })
  const threeCaches = middy().use(cacheMetrics({ namespace, service })).use(readsOneKey(products)).use(readsOneKey(prices)).use(readsOneKey(config)).handler(ok)

  const contenders = [
    { name: 'no metrics', handler: noMetrics },
    { name: 'cacheMetrics, 1 cache', handler: withCacheMetrics },
    { name: 'logMetrics, 2 metrics', handler: withLogMetrics },
    { name: 'cacheMetrics, 3 caches', handler: threeCaches },
  ]
  const stdout = countingStdout()
  try {
    // What one invocation of each writes: checked, not assumed, so that a disabled writer cannot win.
    const perInvocation = new Map<string, { lines: number; bytes: number }>()
    for (const { name, handler } of contenders) {
      await handler({}, nextContext())
      perInvocation.set(name, stdout.take())
    }
    const expectedLines = [0, 1, 1, 3]
    contenders.forEach(({ name }, index) => {
      if (perInvocation.get(name)?.lines !== expectedLines[index]) throw new Error(`bench: ${name} wrote ${perInvocation.get(name)?.lines} lines, not ${expectedLines[index]}`)
    })

    const measured = await measureSideBySide(
      contenders.map(({ name, handler }) => ({
        name,
        run: async () => {
          for (let invocation = 0; invocation < invocations; invocation++) await handler({}, nextContext())
        },
      })),
      invocations,
      rounds,
    )
    stdout.restore()
    const [bare, oneCache, powertools, three] = measured
    if (bare === undefined || oneCache === undefined || powertools === undefined || three === undefined) throw new Error('bench: a contender is missing')

    const flushNs = (contender: typeof bare): number => contender.nsPerOp - bare.nsPerOp
    const ratio = flushNs(oneCache) / flushNs(powertools)
    const result = {
      bench: 'cache-metrics',
      node: process.version,
      date: new Date().toISOString(),
      invocationsPerRound: invocations,
      rounds,
      nsPerInvocation: Object.fromEntries(measured.map((contender) => [contender.name, contender.nsPerOp])),
      flushNsPerInvocation: { cacheMetricsOneCache: flushNs(oneCache), logMetricsTwoMetrics: flushNs(powertools), cacheMetricsThreeCaches: flushNs(three) },
      emfPerInvocation: Object.fromEntries(perInvocation),
      ratioToLogMetrics: ratio,
      ratioToLogMetricsWholeInvocation: oneCache.nsPerOp / powertools.nsPerOp,
      ratioThreeCachesToLogMetrics: flushNs(three) / flushNs(powertools),
      bar,
      withinBar: ratio <= bar.maxRatioToLogMetrics,
    }
    const path = writeResult('cache-metrics.json', result)
    const format = (ns: number): string => `${(ns / 1_000).toFixed(2).padStart(6)} us`
    console.log(`Metrics flush per invocation, median of ${rounds} rounds of ${invocations} Middy invocations, stdout counted not printed (${process.version})`)
    for (const contender of measured) {
      const written = perInvocation.get(contender.name)
      console.log(`  ${contender.name.padEnd(24)} ${format(contender.nsPerOp)} per invocation, ${format(flushNs(contender))} over no metrics, ${written?.bytes ?? 0} bytes of EMF`)
    }
    console.log(`  ratio cacheMetrics / logMetrics (flush over no metrics) ${ratio.toFixed(2)}x; whole invocation ${result.ratioToLogMetricsWholeInvocation.toFixed(2)}x; 3 caches ${result.ratioThreeCachesToLogMetrics.toFixed(2)}x`)
    console.log(`  bar: <= ${bar.maxRatioToLogMetrics}x: ${result.withinBar ? 'met' : 'NOT met'}`)
    console.log(`  written to ${path}`)
    const section = 'Metrics flush per invocation, over a chain without metrics'
    return [
      { section, comparison: 'cacheMetrics, 1 cache vs Powertools logMetrics, 2 metrics', ours: formatNs(flushNs(oneCache)), theirs: formatNs(flushNs(powertools)), ratio, bar: `<= ${bar.maxRatioToLogMetrics}x`, met: result.withinBar },
      infoRow(section, 'cacheMetrics, 3 caches (3 EMF blobs) vs logMetrics, 2 metrics', formatNs(flushNs(three)), formatNs(flushNs(powertools)), result.ratioThreeCachesToLogMetrics),
    ]
  } finally {
    stdout.restore()
  }
}
