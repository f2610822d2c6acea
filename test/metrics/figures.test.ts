import { CacheCounters } from '../../src/cache/counters.js'
import { cacheFigures, invocationFigures, MetricGroup, metricGroups, type Figure } from '../../src/metrics/index.js'

const allGroups = new Set(metricGroups)
const counters = (fields: Partial<Record<Exclude<keyof CacheCounters, 'count' | 'gets'>, number>>): CacheCounters =>
  Object.assign(new CacheCounters(), fields)
const byName = (figures: readonly Figure[]): Record<string, number> => Object.fromEntries(figures.map((figure) => [figure.name, figure.value]))

describe('per-cache figures', () => {
  test('hits and misses per tier, with the hit rate of gets that did not wait for the source', () => {
    const figures = cacheFigures(counters({ hits: 5, l2Hits: 2, staleServed: 1, misses: 1, staleOnError: 1, l2TimeMs: 6, l2Operations: 2 }), false, allGroups)
    expect(byName(figures)).toEqual({ Gets: 10, L1Hits: 5, L1Misses: 4, L2Hits: 2, Misses: 1, StaleServed: 1, StaleOnError: 1, HitRate: 80, L2Latency: 3 })
    expect(figures.find((figure) => figure.name === 'HitRate')?.unit).toBe('Percent')
    expect(figures.filter((figure) => !['HitRate', 'L2Latency'].includes(figure.name)).every((figure) => figure.unit === 'Count')).toBe(true)
    expect(byName(cacheFigures(counters({ errors: 1 }), false, allGroups))).toEqual({ Gets: 1, L1Misses: 1, GetErrors: 1, HitRate: 0 })
  })

  test('a stale value served from L2 is an L1 miss, a hit of the hit rate, and its read counts in L2Latency', () => {
    const figures = cacheFigures(counters({ hits: 1, staleServed: 3, l2StaleServed: 2, l2Misses: 1, misses: 1, l2TimeMs: 9, l2Operations: 3 }), false, allGroups)
    expect(byName(figures)).toEqual({ Gets: 5, L1Hits: 1, L1Misses: 3, Misses: 1, StaleServed: 3, HitRate: 80, L2Misses: 1, L2Latency: 3 })
  })

  test('a rate of 0 is written; counts of 0 are not', () => {
    expect(byName(cacheFigures(counters({ misses: 2, loads: 2, loadsEnded: 2, loadTimeMs: 30 }), false, allGroups))).toEqual({
      Gets: 2, L1Misses: 2, Misses: 2, HitRate: 0, Loads: 2, LoadLatency: 15,
    })
    expect(cacheFigures(new CacheCounters(), false, allGroups)).toEqual([])
  })

  test('latencies are the mean per load and per L2 operation, in milliseconds, even when 0', () => {
    const figures = cacheFigures(counters({ loads: 4, loadsEnded: 4, loadErrors: 1, loadTimeouts: 1, notCached: 1, loadTimeMs: 100, l2Misses: 3, l2Errors: 1, l2TimeMs: 8, l2Operations: 4 }), false, allGroups)
    expect(byName(figures)).toEqual({ Loads: 4, LoadErrors: 1, LoadTimeouts: 1, NotCached: 1, LoadLatency: 25, L2Misses: 3, L2Errors: 1, L2Latency: 2 })
    expect(figures.filter((figure) => figure.name.endsWith('Latency')).map((figure) => figure.unit)).toEqual(['Milliseconds', 'Milliseconds'])
    expect(byName(cacheFigures(counters({ loads: 1, loadsEnded: 1, loadTimeMs: 0 }), false, allGroups))).toEqual({ Loads: 1, LoadLatency: 0 })
  })

  test('L2Latency is the mean L2 operation, whatever number of gets shared it or one get made', () => {
    // Five concurrent gets share one flight, whose one read took 8 ms and served them all.
    expect(byName(cacheFigures(counters({ l2Hits: 5, l2TimeMs: 8, l2Operations: 1 }), false, allGroups))).toMatchObject({ L2Hits: 5, L2Latency: 8 })
    // One get: its read missed, then two lease attempts, the second of which found the value another environment wrote.
    expect(byName(cacheFigures(counters({ l2Misses: 1, l2Hits: 1, l2TimeMs: 9, l2Operations: 3 }), false, allGroups))).toMatchObject({ L2Latency: 3 })
    // With the breaker open no operation runs: no latency, not 0 ms.
    expect(byName(cacheFigures(counters({ misses: 1 }), false, allGroups))).not.toHaveProperty('L2Latency')
  })

  test('load latency is the mean of the loads that ended: one still running has no duration, not 0 ms', () => {
    expect(byName(cacheFigures(counters({ loads: 3, loadsEnded: 2, loadTimeMs: 80 }), false, allGroups))).toEqual({ Loads: 3, LoadLatency: 40 })
    expect(byName(cacheFigures(counters({ loads: 1 }), false, allGroups))).toEqual({ Loads: 1 })
  })

  test('a warm-up ping writes no hits, misses or hit rate of any tier; its loads and L2 errors stay', () => {
    const ping = counters({ hits: 3, misses: 1, l2Hits: 1, l2Misses: 1, l2Errors: 1, l2TimeMs: 9, l2Operations: 3, loads: 2, loadsEnded: 2, loadTimeMs: 10 })
    expect(byName(cacheFigures(ping, true, allGroups))).toEqual({ Loads: 2, LoadLatency: 5, L2Errors: 1, L2Latency: 3 })
  })

  test('only the groups asked for', () => {
    const busy = counters({ hits: 1, misses: 1, loads: 1, loadsEnded: 1, loadTimeMs: 4, l2Misses: 1, l2TimeMs: 1, l2Operations: 1 })
    expect(Object.keys(byName(cacheFigures(busy, false, new Set([MetricGroup.Loads]))))).toEqual(['Loads', 'LoadLatency'])
    expect(Object.keys(byName(cacheFigures(busy, false, new Set([MetricGroup.L2]))))).toEqual(['L2Misses', 'L2Latency'])
    expect(Object.keys(byName(cacheFigures(busy, false, new Set([MetricGroup.Gets]))))).toEqual(['Gets', 'L1Hits', 'L1Misses', 'Misses', 'HitRate'])
  })
})

describe('per-invocation figures', () => {
  const first = { coldStart: true, initDurationMs: 240, sequence: 1 }
  const later = { coldStart: false, initDurationMs: undefined, sequence: 2 }

  test('ColdStart and InitDuration on the first invocation of an on-demand environment only', () => {
    expect(invocationFigures({ start: first, initializationType: 'on-demand', warmupPing: false })).toEqual([
      { name: 'ColdStart', unit: 'Count', value: 1 },
      { name: 'InitDuration', unit: 'Milliseconds', value: 240 },
    ])
    expect(invocationFigures({ start: later, initializationType: 'on-demand', warmupPing: false })).toEqual([])
  })

  test.each([['provisioned-concurrency'], ['snap-start'], ['lambda-managed-instances'], [undefined]])('never a cold start when initialised as %s', (initializationType) => {
    expect(invocationFigures({ start: first, initializationType, warmupPing: false })).toEqual([])
  })

  test('a warm-up ping counts as one, cold or not', () => {
    expect(byName(invocationFigures({ start: first, initializationType: 'on-demand', warmupPing: true }))).toEqual({ ColdStart: 1, InitDuration: 240, WarmupPing: 1 })
    expect(invocationFigures({ start: later, initializationType: 'provisioned-concurrency', warmupPing: true })).toEqual([{ name: 'WarmupPing', unit: 'Count', value: 1 }])
  })
})
