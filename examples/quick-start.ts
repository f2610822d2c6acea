// The engine on its own, without Middy: `npm run demo:engine` runs this file.
import { setTimeout as sleep } from 'node:timers/promises'
import { createCache, createScope } from 'middy-cache'

interface Product {
  id: string
  name: string
}

// A stand-in for a slow, flaky source (SSM, DynamoDB, an HTTP API): 20 ms a call.
let sourceCalls = 0
let sourceIsDown = false
const getProduct = async (id: string, { signal }: { signal: AbortSignal }): Promise<Product | undefined> => {
  sourceCalls++
  await sleep(20, undefined, { signal })
  if (sourceIsDown) throw new Error('source unavailable')
  return id === 'missing' ? undefined : { id, name: `Product ${id}` }
}

// Simulated time for freshness (the engine reads it from `now`), so that what this prints is the
// same on a busy machine: on real time, a timer firing late would carry an entry past its window.
let elapsedMs = 0
const passTime = (ms: number): void => {
  elapsedMs += ms
}

const products = createCache({
  name: 'products',
  load: getProduct,
  ttl: '200ms',
  staleWhileRevalidate: '100ms',
  staleIfError: '1h',
  negativeTtl: '30s',
  timeout: '1s',
  now: () => elapsedMs,
})

// One scope per unit of work (in Lambda, per invocation): its own counters and background loads.
const scope = createScope()
const show = async (step: string, id: string): Promise<void> => {
  const { value, outcome, tier } = await products.lookup(id, { scope })
  console.log(`${step.padEnd(44)} ${outcome.padEnd(15)} ${tier.padEnd(7)} ${JSON.stringify(value)}`)
}

await show('first get: loads from the source', '42')
await show('second get: served from memory', '42')
await Promise.all(Array.from({ length: 1_000 }, () => products.get('7', { scope })))
console.log(`1,000 concurrent gets of a new key made ${sourceCalls - 1} source call`)
passTime(250)
await show('past ttl: stale now, refreshed beside us', '42')
await scope.settle(100)
await show('not found: loaded once...', 'missing')
await show('...then remembered for negativeTtl', 'missing')
passTime(400)
sourceIsDown = true
await show('source down: the last good value stands in', '42')
await products.get('new', { scope }).catch((error: unknown) => {
  console.log(`source down, nothing cached: ${String(error)}`)
})
const { hits, misses, staleServed, staleOnError, errors, loads } = scope.countersFor('products')
console.log('this scope counted:', { hits, misses, staleServed, staleOnError, errors, loads })
