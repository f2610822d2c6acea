import { LRUCache } from 'lru-cache'
import { createCache, createScope } from '../src/index.js'
import { measureSideBySide, skewedIndices, writeResult } from './support/measure.js'

const keyCount = 1_000
const operations = 200_000
const rounds = 9
const bars = { maxNsPerHit: 250, maxRatioToLruCache: 1.6 }

/** The L1 hit path: every key cached and fresh, read in a skewed order, `await`ed as a caller would. */
export const benchL1Hit = async (): Promise<void> => {
  const keys = Array.from({ length: keyCount }, (_, index) => `product-${index}`)
  const order = skewedIndices(keyCount, operations).map((index) => keys[index] ?? '')
  const load = (key: string): Promise<string> => Promise.resolve(`value of ${key}`)

  const cache = createCache({ name: 'bench', load, ttl: '1h' })
  await cache.getMany(keys)
  const scope = createScope()
  const lru = new LRUCache<string, string>({ max: 10_000, ttl: 3_600_000, fetchMethod: load })
  for (const key of keys) await lru.fetch(key)

  const [engine, scoped, lruFetch] = await measureSideBySide(
    [
      { name: 'middy-cache get', run: async () => { for (const key of order) await cache.get(key) } },
      { name: 'middy-cache get with scope', run: async () => { for (const key of order) await cache.get(key, { scope }) } },
      { name: 'lru-cache fetch', run: async () => { for (const key of order) await lru.fetch(key) } },
    ],
    operations,
    rounds,
  )
  if (engine === undefined || scoped === undefined || lruFetch === undefined) throw new Error('bench: a contender is missing')
  if (cache.stats().misses !== keyCount) throw new Error('bench: the measured gets were not all L1 hits')

  const ratio = engine.nsPerOp / lruFetch.nsPerOp
  const result = {
    bench: 'l1-hit',
    node: process.version,
    date: new Date().toISOString(),
    keys: keyCount,
    operationsPerRound: operations,
    rounds,
    nsPerHit: { middyCache: engine.nsPerOp, middyCacheWithScope: scoped.nsPerOp, lruCacheFetch: lruFetch.nsPerOp },
    ratioToLruCache: ratio,
    ratioWithScopeToLruCache: scoped.nsPerOp / lruFetch.nsPerOp,
    bars,
    withinBars: engine.nsPerOp <= bars.maxNsPerHit && ratio <= bars.maxRatioToLruCache,
  }
  const path = writeResult('l1-hit.json', result)
  const format = (ns: number): string => `${ns.toFixed(0).padStart(5)} ns`
  console.log(`L1 hit, ${keyCount} keys in a skewed order, median of ${rounds} rounds of ${operations} gets (${process.version})`)
  for (const contender of [engine, scoped, lruFetch]) console.log(`  ${contender.name.padEnd(28)} ${format(contender.nsPerOp)} per get`)
  console.log(`  ratio middy-cache / lru-cache  ${ratio.toFixed(2)}x (with scope ${result.ratioWithScopeToLruCache.toFixed(2)}x)`)
  console.log(`  bars: <= ${bars.maxNsPerHit} ns and <= ${bars.maxRatioToLruCache}x: ${result.withinBars ? 'met' : 'NOT met'}`)
  console.log(`  written to ${path}`)
}
