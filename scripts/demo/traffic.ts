import type { FanOutReport } from 'middy-cache'
import type { RedisHandle } from '../../test/harness/index.js'
import { productRequest, scheduledEvent, sqsBatch, warmupPing } from './events.js'
import { withoutSnapshot } from './functions.js'
import { Trigger, type Recorder } from './recorder.js'
import { Outage, type AwsGateway } from './runtime/aws-gateway.js'
import type { LambdaRuntime } from './runtime/lambda-runtime.js'
import { catalogSize, productId } from './seed.js'

/** Everything a phase of the script acts on. */
export interface DemoWorld {
  readonly runtime: LambdaRuntime
  readonly gateway: AwsGateway
  readonly recorder: Recorder
  /** The private redis-server behind product-api's shared tier; undefined when the demo runs L1 only. */
  readonly redis: RedisHandle | undefined
  /** Time passes for the whole world: every environment is frozen for `ms`, and Redis forgets what would have expired. */
  readonly passTime: (ms: number) => Promise<void>
}

export interface Phase {
  readonly name: string
  /** What the phase shows, for the report. */
  readonly shows: string
  readonly run: (world: DemoWorld) => Promise<void>
}

const minutes = (count: number): number => count * 60_000
const hours = (count: number): number => count * 3_600_000

/** A fixed pseudo-random sequence (mulberry32), so that every run sends the same traffic. */
const seededRandom = (seed: number): (() => number) => {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state)
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296
  }
}

/**
 * Product ids from `first` to `last` as real traffic asks for them: a few hot ones, a long tail
 * (Zipf); a share asks for one that does not exist. Each call site has its own seed, so a phase
 * sends the same requests whichever phases ran before it.
 */
const productIds = (seed: number, count: number, first: number, last: number, unknownShare: number): string[] => {
  const random = seededRandom(seed)
  const weights = Array.from({ length: last - first + 1 }, (_, rank) => 1 / (rank + 1))
  const total = weights.reduce((sum, weight) => sum + weight, 0)
  const pick = (): string => {
    let target = random() * total
    for (const [rank, weight] of weights.entries()) {
      target -= weight
      if (target <= 0) return productId(first + rank)
    }
    return productId(last)
  }
  return Array.from({ length: count }, () => (random() < unknownShare ? 'p-999' : pick()))
}

/** `clients` callers, each sending its next request once its previous one is answered, as a load test does. */
const sendConcurrently = async (world: DemoWorld, functionName: string, events: readonly unknown[], clients: number): Promise<void> => {
  let next = 0
  const client = async (): Promise<void> => {
    for (let index = next++; index < events.length; index = next++) await world.runtime.invoke(functionName, events[index], Trigger.Client)
  }
  await Promise.all(Array.from({ length: clients }, client))
}

const getProducts = (world: DemoWorld, ids: readonly string[], clients: number): Promise<void> =>
  sendConcurrently(world, 'product-api', ids.map(productRequest), clients)

/** Runs `traffic` while `service` is down in the way `outage` says, and brings it back however that ends. */
const duringOutage = async (world: DemoWorld, service: string, outage: Outage, traffic: () => Promise<void>): Promise<void> => {
  world.gateway.setOutage(service, outage)
  try {
    await traffic()
  } finally {
    world.gateway.setOutage(service, undefined)
  }
}

/** A warm-up answer's fan-out, as far as the report needs it. */
const fanOutOf = (payload: unknown): Pick<FanOutReport, 'requested' | 'invoked' | 'failed' | 'errors'> | undefined => {
  const fanOut = typeof payload === 'object' && payload !== null ? (payload as { fanOut?: unknown }).fanOut : undefined
  if (typeof fanOut !== 'object' || fanOut === null) return undefined
  const { requested, invoked, failed, errors } = fanOut as Record<string, unknown>
  if (typeof requested !== 'number' || typeof invoked !== 'number' || typeof failed !== 'number' || !Array.isArray(errors)) return undefined
  return { requested, invoked, failed, errors: errors.map(String) }
}

/** Orders as a shop's checkout queues them; every seventh names a product that does not exist, and one in thirty is no order at all. */
const orderBodies = (count: number): string[] =>
  Array.from({ length: count }, (_, index) => {
    if (index % 30 === 29) return 'not an order'
    const skus = productIds(1_000 + index, 1 + (index % 3), 1, 40, 0)
    const lines = skus.map((sku, line) => ({ sku: index % 7 === 6 && line === 0 ? 'p-999' : sku, quantity: 1 + ((index + line) % 4) }))
    return JSON.stringify({ orderId: `o-${String(index + 1).padStart(4, '0')}`, lines })
  })

/** The traffic the demo sends, phase by phase. */
export const demoScript: readonly Phase[] = [
  {
    name: 'cold start',
    shows: 'a new environment: INIT loads the bundle and prefetches config and secrets; the product loads from DynamoDB',
    run: (world) => getProducts(world, ['p-001'], 1),
  },
  {
    name: 'steady traffic',
    shows: '300 requests from 2 clients over 40 products (3% for one that does not exist): a second environment starts, then memory answers',
    run: (world) => getProducts(world, productIds(2, 300, 1, 40, 0.03), 2),
  },
  {
    name: 'warm-up ping',
    shows: '{ warmer: true, concurrency: 3 }: entries that would go stale before the next ping are refreshed, and the ping fans out through Lambda Invoke',
    run: async (world) => {
      const ping = await world.runtime.invoke('product-api', warmupPing(3), Trigger.Client)
      await world.runtime.idle()
      const fanOut = fanOutOf(ping.payload)
      world.recorder.note(
        `${ping.environmentId} fanned out to ${fanOut?.invoked ?? 0} of ${(fanOut?.requested ?? 1) - 1} other environments` +
          `${fanOut?.failed ? ` (${fanOut.failed} failed: ${fanOut.errors.join('; ')})` : ''}; product-api now has ${world.runtime.environmentCount('product-api')} environments`,
      )
    },
  },
  {
    name: 'gap past the ttl',
    shows: 'every environment frozen for 5.5 minutes (ttl 5m, staleWhileRevalidate 1m): stale values answer at once and refresh beside the handler, which waits for them at most settleBudget (100 ms)',
    run: async (world) => {
      await world.passTime(minutes(5.5))
      await getProducts(world, productIds(4, 120, 1, 40, 0.03), 3)
    },
  },
  {
    name: 'SSM outage',
    shows: 'frozen 7 more minutes, then SSM answers every call with HTTP 500: the storefront settings are served stale (staleIfError 1h), SSM asked once a second per environment (retryAfterError)',
    run: async (world) => {
      await world.passTime(minutes(7))
      await duringOutage(world, 'ssm', Outage.Errors, () => getProducts(world, productIds(5, 60, 1, 40, 0), 3))
    },
  },
  {
    name: 'SSM unreachable',
    shows: "SSM back, 2 s later, then unreachable: every call hangs unanswered, as when the network path to it is lost; each environment waits for it at most the cache's timeout (1 s), then serves the stale settings, and asks again at most once a second (retryAfterError)",
    run: async (world) => {
      // Past retryAfterError (1 s), so the settings are asked of SSM again.
      await world.passTime(2_000)
      await duringOutage(world, 'ssm', Outage.Unreachable, () => getProducts(world, productIds(7, 18, 1, 40, 0), 3))
    },
  },
  {
    name: 'Redis outage',
    shows: 'SSM back, 2 s later; redis-server stopped (SIGSTOP: connects, never answers) while new products are asked for: each L2 call gives up after 50 ms until the breaker opens',
    run: async (world) => {
      // Past retryAfterError (1 s), so the settings refresh from the recovered SSM.
      await world.passTime(2_000)
      const { redis } = world
      if (redis === undefined) {
        world.recorder.note('skipped: no redis-server, product-api runs with memory only')
        return
      }
      redis.pause()
      try {
        await getProducts(world, productIds(6, 80, 41, catalogSize, 0), 3)
      } finally {
        redis.resume()
      }
    },
  },
  {
    name: 'orders-worker',
    shows: '8 SQS batches of 10 orders: each batch looks its products up with one getMany; orders that cannot be priced are reported as batchItemFailures',
    run: async (world) => {
      const bodies = orderBodies(80)
      const batches = Array.from({ length: 8 }, (_, index) => sqsBatch(bodies.slice(index * 10, index * 10 + 10)))
      await sendConcurrently(world, 'orders-worker', batches, 1)
      const failures = world.recorder.invocations
        .filter((record) => record.functionName === 'orders-worker')
        .reduce((count, record) => count + ((record.payload as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures?.length ?? 0), 0)
      world.recorder.note(`${failures} of ${bodies.length} records returned to the queue as batchItemFailures`)
    },
  },
  {
    name: 'nightly-report',
    shows: 'the EventBridge schedule fires once: report settings from the cache, a scan of the products, the report written to S3; no cold-start snapshot yet: the miss is counted, and one is written for the next night',
    run: async (world) => {
      await sendConcurrently(world, 'nightly-report', [scheduledEvent('middy-cache-examples-demo-nightly-report', new Date())], 1)
      const s3 = world.recorder.sdkCalls.filter((call) => call.phase === 'nightly-report' && call.service === 's3')
      const count = (method: string): number => s3.filter((call) => call.operation === method).length
      world.recorder.note(`S3: ${count('GET')} GET (the cold-start snapshot, not there yet), ${count('PUT')} PUT (the report, and the snapshot for the next night)`)
    },
  },
  {
    name: 'next night, SSM down',
    shows: 'a day later Lambda has reclaimed the idle environment, and SSM fails at 2 a.m.: a new environment starts from last night\'s snapshot; the same function with no snapshot, for comparison',
    run: async (world) => {
      await world.passTime(hours(24))
      await world.runtime.reclaimIdle('nightly-report')
      await duringOutage(world, 'ssm', Outage.Errors, async () => {
        const event = scheduledEvent('middy-cache-examples-demo-nightly-report', new Date(Date.now() + hours(24)))
        const withOne = await world.runtime.invoke('nightly-report', event, Trigger.Client)
        const without = await world.runtime.invoke(withoutSnapshot, event, Trigger.Client)
        const outcome = (record: typeof withOne): string =>
          record.failure === undefined ? `wrote the report in ${record.latencyMs.toFixed(0)} ms (cold start included)` : `failed after ${record.latencyMs.toFixed(0)} ms: ${record.failure}`
        world.recorder.note(`with last night's snapshot, ${withOne.environmentId} ${outcome(withOne)}: its settings stood in for SSM`)
        world.recorder.note(`without a snapshot, ${without.environmentId} ${outcome(without)}: nothing could stand in`)
      })
    },
  },
]
