// One fresh execution environment for bench/snapshot.ts, run in a process of its own: module load
// (INIT: the snapshot read starts here) followed at once by the first invocation, as Lambda does.
// Prints {"initMs","firstInvocationMs","loads"} as one JSON line.
import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import { setTimeout as sleep } from 'node:timers/promises'
import { coldStartSnapshot } from '../../entrypoints/snapshot.js'
import { dataCache } from '../../entrypoints/index.js'
import { lambdaContext } from '../../test/support/lambda-context.js'

/** 'none': no snapshot middleware; 'snapshot': with it (the object present or not is the parent's choice). */
const mode = process.env.BENCH_SNAPSHOT_MODE
const bucket = process.env.BENCH_SNAPSHOT_BUCKET ?? ''
const version = process.env.BENCH_SNAPSHOT_VERSION ?? 'v1'
const sourceLatencyMs = Number(process.env.BENCH_SOURCE_LATENCY_MS ?? '20')

let loads = 0
/** The source: a database or API answering in about 20 ms. */
const load = async (id: string): Promise<{ id: string; name: string; price: number }> => {
  loads++
  await sleep(sourceLatencyMs)
  return { id, name: `Product ${id}`, price: 12.5 }
}

type Event = { id: string; related: string[] }
const chain = middy<Event>()
const withSnapshot = mode === 'snapshot' ? chain.use(coldStartSnapshot({ bucket, caches: ['catalog'], version, timeout: '1s' })) : chain
// The event's product before the handler, then the products it relates to: two rounds of the source.
const handler = withSnapshot
  .use(dataCache({ name: 'catalog', key: (event: Event) => event.id, load, ttl: '1h' }))
  .handler(async (event, context) => ({ product: context.catalog, related: await context.caches.catalog.getMany(event.related) })) as unknown as (event: Event, context: Context) => Promise<unknown>

const initMs = performance.now()
const startedAt = performance.now()
await handler({ id: '1', related: ['2', '3', '4', '5', '6'] }, lambdaContext(30_000, 'bench-snapshot'))
const firstInvocationMs = performance.now() - startedAt
process.stdout.write(JSON.stringify({ initMs, firstInvocationMs, loads }) + '\n')
