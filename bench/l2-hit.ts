import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import { Redis } from 'ioredis'
import { dataCache } from '../entrypoints/index.js'
import { redisStore } from '../entrypoints/redis.js'
import { createCache, createScope } from '../src/index.js'
import { startRedis } from '../test/harness/index.js'
import { lambdaContexts } from '../test/support/lambda-context.js'
import { measureRatio, measureSideBySide, writeResult } from './support/measure.js'
import { formatNs, infoRow, type Row } from './support/results.js'

const keyCount = 1_000
const seedBatch = 50
const l2Operations = 1_000
/** Short rounds, each between two raw ones: see `measureRatio`. */
const l2Rounds = 31
const l1Operations = 200_000
const invocations = 20_000
const rounds = 9
const bars = { maxRatioToRawGet: 1.3 }
const product = (id: string) => ({ id, name: `Product ${id}`, price: 12.5, currency: 'EUR', stock: 42, tags: ['desk', 'light', 'led'], dimensions: { w: 10, h: 30, d: 10 } })

/**
 * The L2 hit path: memory holds one entry, so each get of a rotating key misses L1 and is served
 * from Redis on loopback; against a raw ioredis GET + JSON.parse of the same value, same run.
 * Then the L1 hit path: the engine's get against dataCache's `before` and a whole Middy invocation.
 */
export const benchL2Hit = async (): Promise<Row[]> => {
  const redis = await startRedis()
  try {
    const keys = Array.from({ length: keyCount }, (_, index) => `product-${index}`)
    // A generous timeout: this measures the hit path, and a stall of this shared machine past the 50 ms
    // default would turn a hit into a load (which fails the run) rather than a slow sample.
    const store = redisStore({ url: redis.url, prefix: 'bench:', versionCheck: '1h', timeout: '1s' })
    const writer = createCache({ name: 'products', load: product, ttl: '1h', l2: store })
    // Seeded in batches: one getMany of every key would put a thousand lease-and-write round trips on
    // loopback at once, and the writes past the L2 timeout would be counted as errors, not stored.
    for (let start = 0; start < keyCount; start += seedBatch) await writer.getMany(keys.slice(start, start + seedBatch))
    if (writer.stats().l2Errors !== 0) throw new Error(`bench: seeding L2 failed ${writer.stats().l2Errors} times`)
    const reader = createCache<ReturnType<typeof product>>({ name: 'products', load: () => { throw new Error('bench: the L2 path loaded') }, ttl: '1h', l2: store, l1: { maxEntries: 1 } })
    // ioredis as it comes, as the store's own connection is (not auto-pipelined).
    const raw = new Redis(redis.url)
    for (const key of keys) await raw.set(`raw:${key}`, JSON.stringify(product(key)))
    const scope = createScope()

    let rawChecksum = 0
    let engineChecksum = 0
    let rawRuns = 0
    let engineRuns = 0
    const l2Measured = await measureRatio(
      async () => {
        for (let index = 0; index < l2Operations; index++) {
          const text = await raw.get(`raw:${keys[index % keyCount] ?? ''}`)
          rawChecksum += (JSON.parse(text ?? '{}') as { stock: number }).stock
        }
        rawRuns++
      },
      async () => {
        for (let index = 0; index < l2Operations; index++) engineChecksum += (await reader.get(keys[index % keyCount] ?? '', { scope })).stock
        engineRuns++
      },
      l2Operations,
      l2Rounds,
    )
    const l2Get = { name: 'middy-cache get, L2 hit', nsPerOp: l2Measured.contenderNs }
    const rawGet = { name: 'ioredis GET + JSON.parse', nsPerOp: l2Measured.baselineNs }
    // The raw runs, twice as many, read the same values as the engine's.
    if (rawChecksum / rawRuns !== engineChecksum / engineRuns) throw new Error('bench: the contenders did not read the same values')
    const stats = reader.stats()
    if (stats.loads !== 0 || stats.hits !== 0 || stats.l2Hits === 0) throw new Error('bench: the measured gets were not all L2 hits')

    const engine = createCache({ name: 'l1-products', load: product, ttl: '1h' })
    await engine.getMany(keys)
    const middleware = dataCache({ name: 'l1products', key: (event: { id: string }) => event.id, load: product, ttl: '1h' })
    const before = middleware.before
    if (before === undefined) throw new Error('bench: dataCache has no before hook')
    // Called as the Lambda runtime calls it: with a plain context, which the middleware fills.
    const handler = middy<{ id: string }>().use(middleware).handler((_event, context) => Promise.resolve(context.l1products?.stock)) as unknown as (event: { id: string }, context: Context) => Promise<unknown>
    const bare = middy<{ id: string }>().handler((event) => Promise.resolve(event.id.length))
    const events = keys.map((id) => ({ id }))
    // A new context for every invocation, as the runtime hands them.
    const nextContext = lambdaContexts(60_000)
    for (const event of events) await handler(event, nextContext())
    const [engineHit, beforeHit] = await measureSideBySide(
      [
        { name: 'engine get, L1 hit', run: async () => { for (let index = 0; index < l1Operations; index++) await engine.get(keys[index % keyCount] ?? '', { scope }) } },
        {
          name: 'dataCache before, L1 hit',
          run: async () => {
            for (let index = 0; index < l1Operations; index++) {
              await before({ event: events[index % keyCount] ?? { id: '' }, context: nextContext(), response: undefined, error: undefined, internal: {} } as unknown as Parameters<typeof before>[0])
            }
          },
        },
      ],
      l1Operations,
      rounds,
    )
    const [invocation, bareInvocation] = await measureSideBySide(
      [
        { name: 'middy + dataCache, L1 hit', run: async () => { for (let index = 0; index < invocations; index++) await handler(events[index % keyCount] ?? { id: '' }, nextContext()) } },
        { name: 'bare middy', run: async () => { for (let index = 0; index < invocations; index++) await bare(events[index % keyCount] ?? { id: '' }, nextContext()) } },
      ],
      invocations,
      rounds,
    )
    if (engineHit === undefined || beforeHit === undefined || invocation === undefined || bareInvocation === undefined) throw new Error('bench: a contender is missing')
    const invocationNs = invocation.nsPerOp
    const bareNs = bareInvocation.nsPerOp

    const ratio = l2Measured.ratio
    const result = {
      bench: 'l2-hit',
      node: process.version,
      date: new Date().toISOString(),
      keys: keyCount,
      rounds,
      l2: { operationsPerRound: l2Operations, rounds: l2Rounds, nsPerGet: { middyCache: l2Get.nsPerOp, rawIoredisGetJsonParse: rawGet.nsPerOp }, ratioToRawGet: ratio },
      l1: {
        operationsPerRound: l1Operations,
        invocationsPerRound: invocations,
        nsPerGet: { engine: engineHit.nsPerOp, dataCacheBefore: beforeHit.nsPerOp, middyWithDataCache: invocationNs, bareMiddy: bareNs },
        middlewareOverEngineNs: beforeHit.nsPerOp - engineHit.nsPerOp,
      },
      bars,
      withinBars: ratio <= bars.maxRatioToRawGet,
    }
    const path = writeResult('l2-hit.json', result)
    const format = (ns: number): string => `${ns.toFixed(0).padStart(7)} ns`
    console.log(`L2 hit (L1 miss, Redis on loopback), ${keyCount} keys rotating, the median of ${l2Rounds} rounds of ${l2Operations} sequential gets, each between two raw rounds (${process.version})`)
    console.log(`  ${l2Get.name.padEnd(30)} ${format(l2Get.nsPerOp)} per get`)
    console.log(`  ${rawGet.name.padEnd(30)} ${format(rawGet.nsPerOp)} per get`)
    console.log(`  ratio                          ${ratio.toFixed(2)}x (bar <= ${bars.maxRatioToRawGet}x: ${result.withinBars ? 'met' : 'NOT met'})`)
    console.log(`L1 hit through dataCache, median of ${rounds} rounds`)
    console.log(`  ${engineHit.name.padEnd(30)} ${format(engineHit.nsPerOp)} per get`)
    console.log(`  ${beforeHit.name.padEnd(30)} ${format(beforeHit.nsPerOp)} per invocation`)
    console.log(`  ${invocation.name.padEnd(30)} ${format(invocationNs)} per invocation`)
    console.log(`  ${bareInvocation.name.padEnd(30)} ${format(bareNs)} per invocation`)
    console.log(`  written to ${path}`)
    raw.disconnect()
    await store.close()
    return [
      { section: 'L2 hit (L1 miss, Redis on loopback), per get', comparison: 'middy-cache get vs ioredis GET + JSON.parse', ours: formatNs(l2Get.nsPerOp), theirs: formatNs(rawGet.nsPerOp), ratio, bar: `<= ${bars.maxRatioToRawGet}x`, met: result.withinBars },
      infoRow('L1 hit through Middy, per invocation', 'Middy + dataCache, L1 hit vs bare Middy', formatNs(invocationNs), formatNs(bareNs), invocationNs / bareNs),
    ]
  } finally {
    await redis.stop()
  }
}
