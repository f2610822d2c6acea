import { availableParallelism, cpus, loadavg } from 'node:os'
import { benchBundles } from './bundle-size.js'
import { benchCacheMetrics } from './cache-metrics.js'
import { benchL1Hit } from './l1-hit.js'
import { benchL2Hit } from './l2-hit.js'
import { benchL2Outage } from './l2-outage.js'
import { benchSnapshot } from './snapshot.js'
import { writeTable, type Row } from './support/results.js'
import { benchWarmInvocation } from './warm-invocation.js'

/** Every comparison, in the order of the table. `npm run bench -- l1 bundle` runs only those named. */
const benches: readonly { readonly name: string; readonly run: () => Promise<Row[]> }[] = [
  { name: 'warm', run: benchWarmInvocation },
  { name: 'l1', run: benchL1Hit },
  { name: 'l2', run: benchL2Hit },
  { name: 'outage', run: benchL2Outage },
  { name: 'metrics', run: benchCacheMetrics },
  { name: 'bundle', run: benchBundles },
  { name: 'snapshot', run: benchSnapshot },
]

const wanted = process.argv.slice(2)
const unknown = wanted.filter((name) => !benches.some((bench) => bench.name === name))
if (unknown.length > 0) throw new Error(`bench: no bench named ${unknown.join(', ')}; choose from ${benches.map((bench) => bench.name).join(', ')}`)

const startedAt = performance.now()
const loadAtStart = loadavg()[0] ?? Number.NaN
const rows: Row[] = []
for (const bench of benches) {
  if (wanted.length > 0 && !wanted.includes(bench.name)) continue
  rows.push(...(await bench.run()))
  console.log('')
}
const { markdown, path } = writeTable(rows, {
  node: process.version,
  date: new Date().toISOString().slice(0, 10),
  cpus: `${availableParallelism()} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`,
  seconds: (performance.now() - startedAt) / 1_000,
  load: [loadAtStart, loadavg()[0] ?? Number.NaN],
})
console.log(markdown)
console.log(`written to ${path} and results.json`)

// Everything a bench starts it stops; should something still hold the event loop, say what, rather than hang.
setTimeout(() => {
  console.error(`bench: still running 10 s after the table, held by ${process.getActiveResourcesInfo().join(', ')}`)
  process.exit(1)
}, 10_000).unref()
