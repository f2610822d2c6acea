import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { redisStore } from '../entrypoints/redis.js'
import { createCache, createScope } from '../src/index.js'
import { startRedis } from '../test/harness/index.js'
import { median, writeResult } from './support/measure.js'
import { formatMs, infoRow, type Row } from './support/results.js'

const timeoutMs = 100
const breaker = { failures: 3, coolDownMs: 1_000 } as const
/**
 * What a slowdown may exceed the timeout by: the timer's lateness and the turn of the event loop a
 * timeout waits for before it is judged (so that an answer already read wins), on this shared
 * 2-core machine, where a busy neighbour makes timers fire late by a few milliseconds.
 */
const slackMs = 10
/** Invocations arrive this far apart, so that the breaker's cool-down passes within a phase, as it does under traffic. */
const gapMs = 10
const keyCount = 200
const healthyInvocations = 150
const stoppedForMs = 3_000
const killedForMs = 2_000
/** Longest wait for L2 to come back after the server does: the breaker's cool-down, then ioredis's reconnection. */
const recoveryMs = 8_000
/** Settle budget of an invocation's end, as the middlewares' `after` default. */
const settleBudgetMs = 100

interface Invocation {
  readonly ms: number
  readonly failed: boolean
  /** L2 operations that failed or timed out in the invocation, over both caches. */
  readonly l2Errors: number
}

interface Phase {
  readonly invocations: readonly Invocation[]
  /** How many invocations of the phase had run when the circuit was first seen open; undefined if it never opened. */
  readonly openedAfter: number | undefined
  readonly ms: number
}

/**
 * The DESIGN bar "Redis stopped (SIGSTOP) or killed: no invocation fails; each is slowed by no more
 * than the L2 timeout until the breaker opens". A private redis-server on loopback; two caches on one
 * store, each invocation a scope that gets one key from each (memory holds few entries, so both reads
 * go to L2), with a source that answers at once, so that what slows an invocation is L2 alone. Each
 * invocation is timed: healthy, then with Redis stopped, resumed, killed and restarted.
 */
export const benchL2Outage = async (): Promise<Row[]> => {
  const redis = await startRedis()
  const store = redisStore({ url: redis.url, prefix: 'bench:', versionCheck: '1h', timeout: `${timeoutMs}ms`, breaker: { failures: breaker.failures, coolDown: `${breaker.coolDownMs}ms` } })
  try {
    const caches = ['products', 'prices'].map((name) => createCache({ name, load: (key: string) => ({ key, name }), ttl: '1h', l2: store, l1: { maxEntries: 10 } }))
    const circuit = (): string => caches[0]?.stats().l2Circuit ?? 'closed'
    let next = 0
    const invoke = async (): Promise<Invocation> => {
      const key = `item-${next++ % keyCount}`
      const scope = createScope()
      const startedAt = performance.now()
      let failed = false
      try {
        for (const cache of caches) await cache.get(key, { scope })
        await scope.settle(settleBudgetMs)
      } catch {
        failed = true
      }
      const ms = performance.now() - startedAt
      return { ms, failed, l2Errors: caches.reduce((sum, cache) => sum + scope.countersFor(cache.name).l2Errors, 0) }
    }
    /** Invokes every `gapMs` for `forMs`, or until the circuit is closed after an invocation when `untilClosed`. */
    const phase = async (forMs: number, untilClosed = false): Promise<Phase> => {
      const invocations: Invocation[] = []
      let openedAfter: number | undefined
      const startedAt = performance.now()
      while (performance.now() - startedAt < forMs) {
        invocations.push(await invoke())
        if (openedAfter === undefined && circuit() === 'open') openedAfter = invocations.length
        if (untilClosed && circuit() === 'closed') break
        await sleep(gapMs)
      }
      return { invocations, openedAfter, ms: performance.now() - startedAt }
    }

    // Every key in L2, then read from there: memory holds 10 of 200 keys a cache.
    for (let index = 0; index < keyCount; index++) await invoke()
    if (caches.some((cache) => cache.stats().l2Errors !== 0)) throw new Error('bench: L2 failed while healthy')
    const healthy: Invocation[] = []
    for (let index = 0; index < healthyInvocations; index++) {
      healthy.push(await invoke())
      await sleep(gapMs)
    }
    if (caches.some((cache) => cache.stats().l2Hits === 0)) throw new Error('bench: the healthy invocations were not served by L2')
    const healthyMs = median(healthy.map(({ ms }) => ms))

    const loopDelay = monitorEventLoopDelay({ resolution: 1 })
    loopDelay.enable()
    redis.pause()
    const stopped = await phase(stoppedForMs)
    if (stopped.invocations.every(({ l2Errors }) => l2Errors === 0)) throw new Error('bench: no invocation met Redis stopped')
    redis.resume()
    const resumed = await phase(recoveryMs, true)
    if (circuit() !== 'closed') throw new Error(`bench: L2 did not come back within ${recoveryMs} ms of the resume`)
    await redis.kill()
    const killed = await phase(killedForMs)
    await redis.start()
    const restarted = await phase(recoveryMs, true)
    if (circuit() !== 'closed') throw new Error(`bench: L2 did not come back within ${recoveryMs} ms of the restart`)
    loopDelay.disable()

    const outages = [
      { label: 'stopped (SIGSTOP), then resumed', down: stopped, back: resumed },
      { label: 'killed (SIGKILL), then restarted', down: killed, back: restarted },
    ].map(({ label, down, back }) => {
      const invocations = [...down.invocations, ...back.invocations]
      const worstSlowdownMs = Math.max(...invocations.map(({ ms }) => ms - healthyMs))
      return {
        label,
        invocations: invocations.length,
        failed: invocations.filter(({ failed }) => failed).length,
        // One by design, whatever number of gets the invocation makes: the rest of it skips the store.
        mostL2ErrorsInOneInvocation: Math.max(...invocations.map(({ l2Errors }) => l2Errors)),
        invocationsWithL2Errors: invocations.filter(({ l2Errors }) => l2Errors > 0).length,
        worstSlowdownMs,
        openedAfterInvocations: down.openedAfter,
        /** From the server's return until an invocation found the circuit closed again: the rest of the cool-down, then the reconnection. */
        backAfterMs: back.ms,
        withinBar: worstSlowdownMs <= timeoutMs + slackMs,
      }
    })
    const failed = outages.reduce((sum, outage) => sum + outage.failed, 0)
    const invocations = outages.reduce((sum, outage) => sum + outage.invocations, 0)
    const loopDelayMaxMs = loopDelay.max / 1e6
    const result = {
      bench: 'l2-outage',
      node: process.version,
      date: new Date().toISOString(),
      timeoutMs,
      breaker,
      slackMs,
      gapMs,
      healthy: { invocations: healthy.length, medianMs: healthyMs },
      outages,
      eventLoopDelayMs: { max: loopDelayMaxMs, p99: loopDelay.percentile(99) / 1e6 },
      bars: { failedInvocations: 0, maxSlowdownMs: timeoutMs, slackMs },
      withinBars: failed === 0 && outages.every((outage) => outage.withinBar),
    }
    const path = writeResult('l2-outage.json', result)
    console.log(`Redis outage: L2 timeout ${timeoutMs} ms, breaker ${breaker.failures} failures and ${breaker.coolDownMs} ms cool-down; one invocation every ${gapMs} ms, 2 caches on the store, one L2 read each (${process.version})`)
    console.log(`  healthy: median ${formatMs(healthyMs)} per invocation over ${healthy.length}`)
    for (const outage of outages) {
      console.log(`  ${outage.label}: ${outage.invocations} invocations, ${outage.failed} failed; ${outage.invocationsWithL2Errors} met an L2 timeout or failure (at most ${outage.mostL2ErrorsInOneInvocation} in one)`)
      console.log(`    worst slowdown over the healthy median ${formatMs(outage.worstSlowdownMs)} (bar <= ${timeoutMs} ms + ${slackMs} ms slack: ${outage.withinBar ? 'met' : 'NOT met'})`)
      console.log(`    breaker opened after ${outage.openedAfterInvocations ?? 'no'} invocations; closed again ${formatMs(outage.backAfterMs)} after the server came back`)
    }
    console.log(`  event loop delay meanwhile: max ${formatMs(loopDelayMaxMs)}, p99 ${formatMs(result.eventLoopDelayMs.p99)}`)
    console.log(`  written to ${path}`)
    const section = `Redis outage, per invocation (L2 timeout ${timeoutMs} ms, breaker after ${breaker.failures} failures)`
    return [
      { section, comparison: 'invocations failed, Redis stopped or killed, then back', ours: `${failed} of ${invocations}`, theirs: '', ratio: undefined, bar: '0', met: failed === 0 },
      ...outages.flatMap((outage) => [
        {
          section,
          comparison: `worst slowdown over the healthy median, ${outage.label}`,
          ours: formatMs(outage.worstSlowdownMs),
          theirs: `healthy: ${formatMs(healthyMs)}`,
          ratio: undefined,
          bar: `<= ${timeoutMs} ms timeout + ${slackMs} ms slack`,
          met: outage.withinBar,
        },
        infoRow(section, `breaker opened after, ${outage.label}`, `${outage.openedAfterInvocations ?? 'never'} invocations`, `breaker.failures: ${breaker.failures}`, undefined),
      ]),
    ]
  } finally {
    await store.close()
    await redis.stop()
  }
}
