import { setTimeout as sleep } from 'node:timers/promises'
import { createCache, createScope, Outcome, Tier } from '../../src/index.js'
import { redisStore } from '../../entrypoints/redis.js'
import type { Duration } from '../../src/index.js'
import { startRedis, type RedisHandle } from '../harness/index.js'

const timeoutMs = 100

describe('a private redis-server that stalls, dies and comes back', () => {
  let redis: RedisHandle
  const stores: { close: () => Promise<void> }[] = []

  beforeAll(async () => {
    redis = await startRedis()
  })

  afterEach(async () => {
    if (redis.paused) redis.resume()
    await Promise.all(stores.splice(0).map((store) => store.close()))
  })

  afterAll(async () => {
    await redis.stop()
  })

  const storeFor = (breaker: { failures: number; coolDown: Duration }) => {
    const store = redisStore({ url: redis.url, timeout: `${timeoutMs}ms`, breaker, versionCheck: '1h' })
    stores.push(store)
    return store
  }

  test('stopped (SIGSTOP): each invocation meets at most one L2 timeout until the breaker opens, then none; none fails', async () => {
    const cache = createCache({ name: 'stalled', load: (key: string) => `value of ${key}`, ttl: '1m', l2: storeFor({ failures: 3, coolDown: '1h' }) })
    expect(await cache.lookup('warm-up')).toMatchObject({ outcome: Outcome.Miss, tier: Tier.Source })
    redis.pause()
    for (const key of ['a', 'b', 'c']) {
      const scope = createScope()
      expect(await cache.get(key, { scope })).toBe(`value of ${key}`)
      const counters = scope.countersFor('stalled')
      // One operation timed out; the lease and the write-back that would follow were skipped.
      expect(counters).toMatchObject({ l2Errors: 1, loads: 1 })
      expect(counters.l2TimeMs).toBeGreaterThanOrEqual(timeoutMs - 5)
      expect(counters.l2TimeMs).toBeLessThan(2 * timeoutMs)
    }
    expect(cache.stats().l2Circuit).toBe('open')
    const open = createScope()
    expect(await cache.get('d', { scope: open })).toBe('value of d')
    expect(open.countersFor('stalled')).toMatchObject({ l2Errors: 0, l2TimeMs: 0, loads: 1 })
  })

  test('killed (SIGKILL), then restarted: invocations go on without L2, and a half-open probe brings it back', async () => {
    const store = storeFor({ failures: 2, coolDown: '200ms' })
    const writer = createCache({ name: 'killed', load: (key: string) => `value of ${key}`, ttl: '1m', l2: store })
    await writer.get('warm-up')
    await redis.kill()
    for (const key of ['a', 'b']) expect(await writer.get(key)).toBe(`value of ${key}`)
    expect(writer.stats().l2Circuit).toBe('open')

    await redis.start()
    await sleep(250)
    expect(writer.stats().l2Circuit).toBe('half-open')
    // ioredis reconnects on its own backoff: probes may fail until it has, each reopening the circuit for the cool-down.
    for (let attempt = 0; attempt < 20 && writer.stats().l2Circuit !== 'closed'; attempt++) {
      expect(await writer.get(`probe-${attempt}`)).toBe(`value of probe-${attempt}`)
      if (writer.stats().l2Circuit !== 'closed') await sleep(250)
    }
    expect(writer.stats().l2Circuit).toBe('closed')

    const reader = createCache({ name: 'killed', load: () => 'not from L2', ttl: '1m', l2: storeFor({ failures: 2, coolDown: '200ms' }) })
    await writer.set('after-recovery', 'shared again')
    expect(await reader.lookup('after-recovery')).toMatchObject({ value: 'shared again', tier: Tier.L2 })
  })
})
