import { createCache as createDedupeCache } from 'async-cache-dedupe'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { LRUCache } from 'lru-cache'
import { createCache, createScope } from '../src/index.js'
import { InvocationOptions } from '../src/cache/call-options.js'
import { measureSideBySide, skewedIndices, writeResult } from './support/measure.js'
import { formatNs, type Row } from './support/results.js'

const keyCount = 1_000
const operations = 200_000
const rounds = 9
const bars = { maxNsPerHit: 250, maxRatioToLruCache: 1.6 }

/** A bentocache with one memory tier, as its docs set one up; `serialize: false` keeps values as they are, as the others do. */
const bentoMemory = (serialize: boolean) =>
  new BentoCache({ default: 'memory', ttl: '1h', stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000, serialize })) } })

/**
 * The L1 hit path: every key cached and fresh, read in a skewed order, `await`ed as a caller would;
 * this engine against lru-cache's `fetch`, bentocache's `getOrSet` and async-cache-dedupe, same run.
 */
export const benchL1Hit = async (): Promise<Row[]> => {
  const keys = Array.from({ length: keyCount }, (_, index) => `product-${index}`)
  const order = skewedIndices(keyCount, operations).map((index) => keys[index] ?? '')
  const loads = new Map<string, number>()
  /** The loader each contender is given, counting its calls under the contender's name. */
  const loader = (contender: string) => (key: string): Promise<string> => {
    loads.set(contender, (loads.get(contender) ?? 0) + 1)
    return Promise.resolve(`value of ${key}`)
  }

  const cache = createCache({ name: 'bench', load: loader('middy-cache'), ttl: '1h' })
  await cache.getMany(keys)
  // The options object a dataCache handle passes on every call of its invocation: known valid, so not checked.
  const handleOptions = new InvocationOptions(createScope())
  const lru = new LRUCache<string, string>({ max: 10_000, ttl: 3_600_000, fetchMethod: loader('lru-cache') })
  for (const key of keys) await lru.fetch(key)
  const bento = bentoMemory(false)
  const bentoSerialized = bentoMemory(true)
  const bentoLoad = loader('bentocache')
  const bentoSerializedLoad = loader('bentocache serialized')
  for (const key of keys) {
    await bento.getOrSet({ key, factory: () => bentoLoad(key) })
    await bentoSerialized.getOrSet({ key, factory: () => bentoSerializedLoad(key) })
  }
  const dedupe = createDedupeCache({ ttl: 3_600, storage: { type: 'memory', options: { size: 2 * keyCount } } }).define('product', loader('async-cache-dedupe'))
  for (const key of keys) await dedupe.product(key)

  const measured = await measureSideBySide(
    [
      { name: 'middy-cache get', run: async () => { for (const key of order) await cache.get(key) } },
      { name: 'middy-cache get with scope', run: async () => { for (const key of order) await cache.get(key, handleOptions) } },
      { name: 'lru-cache fetch', run: async () => { for (const key of order) await lru.fetch(key) } },
      { name: 'bentocache getOrSet', run: async () => { for (const key of order) await bento.getOrSet({ key, factory: () => bentoLoad(key) }) } },
      { name: 'bentocache getOrSet, serialized', run: async () => { for (const key of order) await bentoSerialized.getOrSet({ key, factory: () => bentoSerializedLoad(key) }) } },
      { name: 'async-cache-dedupe', run: async () => { for (const key of order) await dedupe.product(key) } },
    ],
    operations,
    rounds,
  )
  const [engine, scoped, lruFetch, bentoGet, bentoSerializedGet, dedupeGet] = measured
  if (engine === undefined || scoped === undefined || lruFetch === undefined || bentoGet === undefined || bentoSerializedGet === undefined || dedupeGet === undefined) {
    throw new Error('bench: a contender is missing')
  }
  if (cache.stats().misses !== keyCount) throw new Error('bench: the measured gets were not all L1 hits')
  for (const [contender, count] of loads) {
    if (count !== keyCount) throw new Error(`bench: ${contender} loaded ${count} times, so not every measured get was a hit`)
  }
  await Promise.all([bento.disconnect(), bentoSerialized.disconnect()])

  const ratio = engine.nsPerOp / lruFetch.nsPerOp
  const result = {
    bench: 'l1-hit',
    node: process.version,
    date: new Date().toISOString(),
    keys: keyCount,
    operationsPerRound: operations,
    rounds,
    nsPerHit: {
      middyCache: engine.nsPerOp,
      middyCacheWithScope: scoped.nsPerOp,
      lruCacheFetch: lruFetch.nsPerOp,
      bentocacheGetOrSet: bentoGet.nsPerOp,
      bentocacheGetOrSetSerialized: bentoSerializedGet.nsPerOp,
      asyncCacheDedupe: dedupeGet.nsPerOp,
    },
    ratioToLruCache: ratio,
    ratioToBentocache: engine.nsPerOp / bentoGet.nsPerOp,
    ratioToAsyncCacheDedupe: engine.nsPerOp / dedupeGet.nsPerOp,
    ratioWithScopeToLruCache: scoped.nsPerOp / lruFetch.nsPerOp,
    bars,
    withinBars: engine.nsPerOp <= bars.maxNsPerHit && ratio <= bars.maxRatioToLruCache,
  }
  const path = writeResult('l1-hit.json', result)
  const format = (ns: number): string => `${ns.toFixed(0).padStart(5)} ns`
  console.log(`L1 hit, ${keyCount} keys in a skewed order, median of ${rounds} rounds of ${operations} gets (${process.version})`)
  for (const contender of measured) {
    console.log(`  ${contender.name.padEnd(32)} ${format(contender.nsPerOp)} per get  middy-cache ${(engine.nsPerOp / contender.nsPerOp).toFixed(2)}x`)
  }
  console.log(`  ratio middy-cache / lru-cache  ${ratio.toFixed(2)}x (with scope ${result.ratioWithScopeToLruCache.toFixed(2)}x)`)
  console.log(`  bars: <= ${bars.maxNsPerHit} ns and <= ${bars.maxRatioToLruCache}x: ${result.withinBars ? 'met' : 'NOT met'}`)
  console.log(`  written to ${path}`)

  const section = `L1 hit, ns per get (${keyCount} keys, skewed)`
  const ours = formatNs(engine.nsPerOp)
  return [
    { section, comparison: 'middy-cache get vs lru-cache 11 fetch', ours, theirs: formatNs(lruFetch.nsPerOp), ratio, bar: `<= ${bars.maxNsPerHit} ns and <= ${bars.maxRatioToLruCache}x`, met: result.withinBars },
    { section, comparison: 'middy-cache get, with a scope (as the middlewares call it)', ours: formatNs(scoped.nsPerOp), theirs: formatNs(lruFetch.nsPerOp), ratio: result.ratioWithScopeToLruCache, bar: `<= ${bars.maxNsPerHit} ns`, met: scoped.nsPerOp <= bars.maxNsPerHit },
    { section, comparison: 'vs bentocache 1.6 getOrSet, memory tier, serialize: false', ours, theirs: formatNs(bentoGet.nsPerOp), ratio: result.ratioToBentocache, bar: undefined, met: undefined },
    { section, comparison: 'vs bentocache 1.6 getOrSet, memory tier, serialized (its default)', ours, theirs: formatNs(bentoSerializedGet.nsPerOp), ratio: engine.nsPerOp / bentoSerializedGet.nsPerOp, bar: undefined, met: undefined },
    { section, comparison: 'vs async-cache-dedupe 3.4, memory', ours, theirs: formatNs(dedupeGet.nsPerOp), ratio: result.ratioToAsyncCacheDedupe, bar: undefined, met: undefined },
  ]
}
