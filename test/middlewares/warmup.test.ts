import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import middy, { type MiddlewareObj } from '@middy/core'
import { contextValuesMiddleware } from '../../middlewares/shared/context-values.js'
import { invocationOf, onEarlyReturn } from '../../middlewares/shared/invocation.js'
import { warmup, type WarmupAnswer } from '../../middlewares/warmup.js'
import { reservedMs } from '../../src/lambda/budget.js'
import type { WarmupOptions } from '../../src/lambda/warmup-options.js'
import { CacheKind, createCache, Outcome, registerCache, Tier, type Cache, type CacheOptions, type Duration } from '../../src/index.js'
import { redisStore, type L2Store } from '../../entrypoints/redis.js'
import { awsRestJsonError, startHttpFaultProxy, startTcpProxy, uniqueName, type TcpProxy } from '../harness/index.js'
import { manualClock } from '../support/clock.js'
import { deferred, flushPromises } from '../support/deferred.js'
import { captureOutput, metricNamesOf, type EmfBlob } from '../support/emf.js'
import { recordedMotoFunction } from '../support/invoke-recorder.js'
import { invoke } from '../support/invoke.js'
import { lambdaContext } from '../support/lambda-context.js'
import { withoutFunctionArn } from '../support/lambda-functions.js'
import { closeEnvironments, environments, linkedTime } from '../integration/l2-support.js'
import { forgetProcessWideState } from '../support/process-state.js'

const unregisters: (() => void)[] = []

afterEach(() => {
  for (const unregister of unregisters.splice(0)) unregister()
})

/** A cache as configCache/dataCache register theirs, unregistered after the test. */
const registered = <V>(options: CacheOptions<V>): Cache<V> => {
  const cache = createCache(options)
  unregisters.push(registerCache({ cache: cache as Cache<unknown>, kind: CacheKind.Data, secret: false }))
  return cache
}

const handlerBehind = (...middlewares: MiddlewareObj[]) => {
  const handle = jest.fn(() => Promise.resolve('handled'))
  let chain = middy()
  for (const middleware of middlewares) chain = chain.use(middleware)
  return { handler: chain.handler(handle), handle }
}

const ping = async (options: WarmupOptions = {}, event: unknown = { warmer: true }, context = lambdaContext()): Promise<WarmupAnswer> => {
  const { handler, handle } = handlerBehind(warmup(options))
  const answer = (await invoke(handler, event, context)) as WarmupAnswer
  expect(handle).not.toHaveBeenCalled()
  return answer
}

describe('warmup: any other event', () => {
  test('goes on to the handler, and the check returns synchronously (no promise on the ordinary path)', async () => {
    const { handler, handle } = handlerBehind(warmup())
    expect(await invoke(handler, { httpMethod: 'GET', path: '/orders' })).toBe('handled')
    expect(handle).toHaveBeenCalledTimes(1)
    const request = { event: { warmer: 'yes' }, context: lambdaContext(), response: undefined, error: undefined, internal: {} }
    expect(warmup().before?.(request)).toBeUndefined()
  })
})

describe('warmup: answering a ping', () => {
  test('answers without calling the handler: warmed, how it was recognised, cold start, environment, refreshes, duration', async () => {
    const answer = await ping()
    expect(answer).toEqual({
      warmed: true,
      source: 'warmer',
      coldStart: expect.any(Boolean) as boolean,
      environmentId: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
      refreshed: 0,
      refreshFailed: 0,
      durationMs: expect.any(Number) as number,
    })
  })

  test.each<[string, unknown, WarmupOptions, string]>([
    ['a serverless-plugin-warmup ping', { source: 'serverless-plugin-warmup' }, {}, 'serverless-plugin-warmup'],
    ['a ping of a listed EventBridge schedule', { source: 'aws.events', 'detail-type': 'Scheduled Event', resources: ['arn:aws:events:us-east-1:123456789012:rule/warm'] }, { schedules: ['warm'] }, 'schedule'],
    ['a ping the predicate recognises', { type: 'keep-warm' }, { isPing: (event) => (event as { type?: string }).type === 'keep-warm' }, 'custom'],
  ])('%s', async (_, event, options, source) => {
    expect(await ping(options, event)).toMatchObject({ warmed: true, source })
  })

  test('a serverless-plugin-warmup ping holds its environment for childDelay, since the plugin sends its concurrency pings at once; a lambda-warmer ping, sent alone, does not', async () => {
    const answered: string[] = []
    const pingAs = (sender: string, event: unknown): Promise<WarmupAnswer> =>
      ping({ childDelay: '120ms' }, event).then((answer) => {
        answered.push(sender)
        return answer
      })
    const [plugin] = await Promise.all([pingAs('serverless-plugin-warmup', { source: 'serverless-plugin-warmup' }), pingAs('lambda-warmer', { warmer: true })])
    // Sent second, the lambda-warmer ping answered first: a hold of the same childDelay, begun after
    // the plugin's, would have ended after it.
    expect(answered).toEqual(['lambda-warmer', 'serverless-plugin-warmup'])
    expect(plugin.durationMs).toBeGreaterThanOrEqual(115)
  })

  test('a ping whose concurrency is unusable still warms this environment and says why it did not fan out', async () => {
    const logger = { info: jest.fn(), warn: jest.fn() }
    const answer = await ping({ logger }, { warmer: true, concurrency: 'many' })
    expect(answer.fanOut).toBeUndefined()
    expect(answer.warnings).toEqual(['concurrency must be a whole number of 1 or more; got "many"'])
    expect(logger.warn).toHaveBeenCalledWith('middy-cache: warm-up ping answered with problems', answer)
  })

  test('an isPing that answers with a promise (async without saying so) takes no event for a ping and says why; neither its rejection nor an async logger\'s fails the invocation', async () => {
    const closed = () => Promise.reject(new Error('log transport closed'))
    const logger = { info: jest.fn(closed), warn: jest.fn(closed) }
    // As a JavaScript caller, or a cast, can pass it: the types ask for a boolean.
    const isPing = ((event: { kind?: string }) => (event.kind === 'keep-warm' ? Promise.resolve(true) : Promise.reject(new Error('lookup failed')))) as unknown as NonNullable<WarmupOptions['isPing']>
    const { handler, handle } = handlerBehind(warmup({ isPing, logger }))

    expect(await invoke(handler, { kind: 'keep-warm' })).toBe('handled')
    expect(await invoke(handler, { kind: 'order' })).toBe('handled')
    expect(await invoke(handler, { warmer: true })).toMatchObject({ warmed: true })

    expect(handle).toHaveBeenCalledTimes(2)
    expect(logger.warn.mock.calls).toEqual([
      ['middy-cache: warmup isPing failed; the event is taken for no ping', { error: expect.objectContaining({ message: expect.stringMatching(/isPing answered with a promise/) as unknown }) as unknown }],
      ['middy-cache: warmup isPing failed; the event is taken for no ping', { error: expect.objectContaining({ message: expect.stringMatching(/isPing answered with a promise/) as unknown }) as unknown }],
    ])
    expect(logger.info).toHaveBeenCalledWith('middy-cache: warm-up ping answered', expect.objectContaining({ warmed: true }))
    // Node reports a rejection left unhandled once the microtasks of the turn that made it have run; Jest fails the test then.
    await flushPromises()
  })

  test('logs each answer at info when all went well', async () => {
    const logger = { info: jest.fn(), warn: jest.fn() }
    const answer = await ping({ logger })
    expect(logger.info).toHaveBeenCalledWith('middy-cache: warm-up ping answered', answer)
    expect(logger.warn).not.toHaveBeenCalled()
  })
})

describe('warmup: refresh ahead', () => {
  test('refreshes exactly the entries that would stop being fresh before the next ping, in every registered cache, and waits for them', async () => {
    const clock = manualClock()
    const load = jest.fn((key: string) => Promise.resolve(`${key}@${clock.now()}`))
    const products = registered<string>({ name: 'products', load, ttl: '1h', now: clock.now })
    const flags = registered<string>({ name: 'flags', load, ttl: '1h', staleWhileRevalidate: '10m', now: clock.now })
    await flags.set('stale-already', 'v0', { ttl: '1s', staleWhileRevalidate: '10m' })
    clock.advance(2_000)
    await products.set('fresh-for-1m', 'v0', { ttl: '1m' })
    await products.set('fresh-for-4m59s', 'v0', { ttl: 299 })
    await products.set('fresh-for-6m', 'v0', { ttl: '6m' })
    await products.set('fresh-for-1h', 'v0', { ttl: '1h' })
    await flags.set('fresh-for-5m-exactly', 'v0', { ttl: '5m' })

    const answer = await ping()

    expect(load.mock.calls.map(([key]) => key).sort()).toEqual(['fresh-for-1m', 'fresh-for-4m59s', 'fresh-for-5m-exactly', 'stale-already'])
    expect(answer).toMatchObject({ refreshed: 4, refreshFailed: 0 })
    const reloaded = `@${clock.now()}`
    expect(await products.get('fresh-for-1m')).toBe(`fresh-for-1m${reloaded}`)
    expect(await flags.get('stale-already')).toBe(`stale-already${reloaded}`)
    expect(await products.get('fresh-for-6m')).toBe('v0')

    load.mockClear()
    expect(await ping({ interval: '10m' })).toMatchObject({ refreshed: 1 })
    expect(load.mock.calls.map(([key]) => key)).toEqual(['fresh-for-6m'])
  })

  test('a failing reload is reported, never thrown, and the last good value stays', async () => {
    const clock = manualClock()
    const load = jest.fn().mockResolvedValueOnce('good').mockRejectedValueOnce(new Error('SSM throttled'))
    const config = registered({ name: 'config', load, ttl: '1m', staleIfError: '1h', now: clock.now })
    await config.get('table')
    const logger = { info: jest.fn(), warn: jest.fn() }

    const answer = await ping({ logger })

    expect(answer).toMatchObject({ warmed: true, refreshed: 0, refreshFailed: 1 })
    expect(logger.warn).toHaveBeenCalledWith('middy-cache: warm-up ping answered with problems', answer)
    expect(await config.get('table')).toBe('good')
  })

  test('waits for a load still running (a prefetch from INIT) before answering, since no user is waiting', async () => {
    const prefetched = deferred<string>()
    const config = registered({ name: 'prefetched', load: () => prefetched.promise, ttl: '5m' })
    const prefetch = config.get('table')
    let answered = false
    const answering = ping().then((answer) => {
      answered = true
      return answer
    })
    await flushPromises()
    expect(answered).toBe(false)
    prefetched.resolve('orders')
    await answering
    expect(await prefetch).toBe('orders')
    expect(config.stats().inFlight).toBe(0)
  })

  test('abandons a prefetch from INIT still running after maxDuration: nobody waits for it, and it would run on across the freeze', async () => {
    const signals: AbortSignal[] = []
    const cache = registered<unknown>({
      name: 'hung-prefetch',
      load: (_key, { signal }) => {
        signals.push(signal)
        return new Promise<string>(() => undefined)
      },
      ttl: '1m',
    })
    contextValuesMiddleware({ middleware: 'secretsCache', cache, contextName: 'secrets', entries: [{ property: 'stripe', key: 'stripe', optional: false, label: 'secret "stripe"' }], prefetch: true, settleBudgetMs: 100, holderFor: () => ({}) })
    expect(signals).toHaveLength(1)

    const answer = await ping({ maxDuration: '50ms' })

    expect(answer).toMatchObject({ refreshed: 0, refreshFailed: 0 })
    expect(signals[0]?.aborted).toBe(true)
    expect(cache.stats().inFlight).toBe(0)
  })
})

describe('warmup: when a ping with loads still running answers (fake timers: the moment is read off the clock the deadline runs on)', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] })
  })
  afterEach(() => {
    jest.useRealTimers()
  })

  /**
   * Pings, then moves the fake clock on a millisecond at a time until the ping has answered; returns
   * the answer and how far the clock had moved. At each moment, what falls due runs before the clock
   * moves on, the real setImmediate callbacks it queues included: the ping's deadline acts once
   * pending I/O has been read (`timeoutAfterPendingIo`). The loads left at the deadline are given up
   * on a timer of 0 ms, which Node, and the fake clock, run 1 ms later: the answer comes at the
   * deadline or within that millisecond.
   */
  const pingAnsweredAfter = async (...args: Parameters<typeof ping>): Promise<{ answer: WarmupAnswer; afterMs: number }> => {
    let answer: WarmupAnswer | undefined
    void ping(...args).then((answered) => (answer = answered))
    for (let afterMs = 0; afterMs <= 15_000; afterMs++) {
      for (let turn = 0; turn < 3; turn++) {
        await jest.advanceTimersByTimeAsync(0)
        await flushPromises()
      }
      if (answer !== undefined) return { answer, afterMs }
      await jest.advanceTimersByTimeAsync(1)
    }
    throw new Error('the ping did not answer within 15 s of fake time, past the default maxDuration')
  }

  test('abandons loads still running after maxDuration, so nothing outlives the invocation; a hung reload counts as failed and the old value stays', async () => {
    const signals: AbortSignal[] = []
    const load = jest.fn((_key: string, { signal }: { signal: AbortSignal }) => {
      if (load.mock.calls.length === 1) return Promise.resolve('old')
      signals.push(signal)
      return new Promise<string>(() => undefined)
    })
    const clock = manualClock()
    const config = registered({ name: 'hung', load, ttl: '1m', now: clock.now })
    await config.get('table')
    // A load a caller without a scope still waits for is left to that caller (the engine abandons no
    // load someone waits for); the ping answers at maxDuration all the same.
    const secrets = registered({ name: 'hung-get', load: () => new Promise<string>(() => undefined), ttl: '1m' })
    void secrets.get('stripe')

    const { answer, afterMs } = await pingAnsweredAfter({ maxDuration: '50ms' })

    expect(afterMs).toBeGreaterThanOrEqual(50)
    expect(afterMs).toBeLessThanOrEqual(50 + 1)
    expect(answer).toMatchObject({ refreshed: 0, refreshFailed: 1 })
    expect(signals.map((signal) => signal.aborted)).toEqual([true])
    expect(config.stats().inFlight).toBe(0)
    expect(await config.get('table')).toBe('old')
  })

  test('never works past the invocation: with less time left than maxDuration, the ping answers when only the reserve for Middy and the runtime is left', async () => {
    const load = jest.fn().mockResolvedValueOnce('old').mockReturnValueOnce(new Promise(() => undefined))
    const clock = manualClock()
    const config = registered({ name: 'late', load, ttl: '1m', now: clock.now })
    await config.get('table')

    const { answer, afterMs } = await pingAnsweredAfter({}, { warmer: true }, lambdaContext(150))

    expect(afterMs).toBeGreaterThanOrEqual(150 - reservedMs)
    expect(afterMs).toBeLessThanOrEqual(150 - reservedMs + 1)
    expect(answer.refreshFailed).toBe(1)
  })
})

describe('warmup: refresh ahead with a shared tier (redis, through a proxy that can go silent)', () => {
  let proxy: TcpProxy
  let store: L2Store | undefined

  beforeAll(async () => {
    const redis = new URL(process.env.REDIS_URL ?? '')
    proxy = await startTcpProxy({ target: { host: redis.hostname, port: Number(redis.port) } })
  })

  afterEach(async () => {
    jest.restoreAllMocks()
    proxy.setBlackhole(false)
    await store?.close()
    store = undefined
  })

  afterAll(async () => {
    await proxy.close()
  })

  /**
   * A registered cache on L2 whose first load answers and every later one hangs until abandoned;
   * its namespace version is due for a check once its clock moves on. That clock moves the wall
   * clock along, as an environment's do: the copy it wrote to L2 ages as its own entry does, and is
   * no newer copy for the refresh to take instead of the reload.
   */
  const hangingOnL2 = (timeout: Duration, cacheOptions: Partial<CacheOptions<string>> = {}) => {
    const l2 = redisStore({ url: proxy.url('redis'), prefix: `${uniqueName('warm')}:`, timeout })
    store = l2
    const time = linkedTime()
    const clock = { now: time.clock(), advance: time.advance }
    const reloads: AbortSignal[] = []
    const load = jest.fn((_key: string, { signal }: { signal: AbortSignal }) => {
      if (load.mock.calls.length === 1) return Promise.resolve('old')
      reloads.push(signal)
      return new Promise<string>(() => undefined)
    })
    const cache = registered<string>({ name: uniqueName('shared'), load, ttl: '1m', now: clock.now, l2, ...cacheOptions })
    return { cache, clock, load, reloads, l2 }
  }

  test('a reload that outlives its timeout is waited for within maxDuration, then abandoned: none runs on after the answer', async () => {
    // The timeout covers the first load's L2 round trips too, which it must not meet on a busy machine;
    // maxDuration leaves the refresh as long again past it.
    const [timeoutMs, maxDurationMs] = [1_000, 2_000]
    const { cache, clock, reloads } = hangingOnL2('500ms', { timeout: `${timeoutMs}ms`, staleIfError: '1h' })
    await cache.get('table')
    // Past the version check's interval: the refresh reads the namespace version before it reloads.
    clock.advance(10_000)

    const answer = await ping({ maxDuration: `${maxDurationMs}ms` })

    expect(answer).toMatchObject({ refreshed: 0, refreshFailed: 1 })
    expect(answer.durationMs).toBeGreaterThanOrEqual(maxDurationMs - 10)
    expect(reloads.map((signal) => signal.aborted)).toEqual([true])
    expect(cache.stats().inFlight).toBe(0)
    expect(await cache.get('table')).toBe('old')
  })

  test('a version check the network holds past maxDuration does not hold the answer, and, answered after it, starts no reload', async () => {
    const { cache, clock, load, l2 } = hangingOnL2('5s')
    await cache.get('table')
    clock.advance(10_000)
    const events: string[] = []
    const versionReads: Promise<number>[] = []
    const readCounter = l2.readCounter.bind(l2)
    jest.spyOn(l2, 'readCounter').mockImplementation((key, signal) => {
      // The engine aborts the signal once it stops waiting for the read (the store's timeout).
      signal.addEventListener('abort', () => events.push('version read given up'), { once: true })
      const read = readCounter(key, signal).finally(() => events.push('version read answered'))
      versionReads.push(read)
      return read
    })
    proxy.setBlackhole(true)

    const answer = await ping({ maxDuration: '50ms' })
    events.push('ping answered')
    // The network delivers what it held: the version check gets its answer, after the ping's.
    proxy.setBlackhole(false)
    await Promise.allSettled(versionReads)
    await flushPromises()

    expect(versionReads).toHaveLength(1)
    expect(events).toEqual(['ping answered', 'version read answered'])
    expect(answer).toMatchObject({ refreshed: 0, refreshFailed: 1 })
    expect(load).toHaveBeenCalledTimes(1)
    expect(cache.stats().inFlight).toBe(0)
  })
})

describe('warmup: one ping round over environments sharing one shared tier (redis)', () => {
  afterEach(async () => {
    jest.restoreAllMocks()
    await closeEnvironments()
  })

  /**
   * Three environments of one function on one Redis, each with the products it served before the
   * round: two found (ttl 5m) and one not found (negativeTtl 3m). Each environment's process
   * registers only its own cache, so each is registered only while its own ping runs.
   */
  const threeEnvironments = async () => {
    const env = environments()
    const time = linkedTime()
    let round = 0
    const loaded: string[] = []
    const load = (id: string): Promise<string | undefined> => {
      loaded.push(id)
      return Promise.resolve(id === 'gone' ? undefined : `${id}, round ${round}`)
    }
    const name = uniqueName('round')
    const caches = Array.from({ length: 3 }, () => createCache({ name, load, ttl: '5m', negativeTtl: '3m', staleWhileRevalidate: '1m', l2: env.store(), now: time.clock() }))
    const ids = ['p1', 'p2', 'gone']
    for (const cache of caches) await cache.getMany(ids)
    expect(loaded.sort()).toEqual([...ids].sort())
    loaded.length = 0
    round = 1
    /** One ping per environment, one after the other, `skewMs` apart: the round a fan-out makes. */
    const pingRound = async (interval: Duration, skewMs: number): Promise<WarmupAnswer[]> => {
      const answers: WarmupAnswer[] = []
      for (const cache of caches) {
        const unregister = registerCache({ cache: cache as Cache<unknown>, kind: CacheKind.Data, secret: false })
        try {
          answers.push(await ping({ interval }))
        } finally {
          unregister()
        }
        time.advance(skewMs)
      }
      return answers
    }
    return { caches, ids, loaded, time, pingRound }
  }

  test.each([
    ['6m, a minute of slack over the schedule: longer than the ttl', '6m'],
    ['5m, the ttl', '5m'],
  ] as const)('interval %s: each entry loads once among the environments; the others take its copy from L2, and serve it fresh', async (_name, interval) => {
    const { caches, ids, loaded, time, pingRound } = await threeEnvironments()
    // The next ping: the products are still fresh, and the not-found entry is due too.
    time.advance(2.5 * 60_000)

    const answers = await pingRound(interval, 400)

    expect(answers.map(({ refreshed, refreshFailed }) => ({ refreshed, refreshFailed }))).toEqual(caches.map(() => ({ refreshed: ids.length, refreshFailed: 0 })))
    expect(loaded.sort()).toEqual([...ids].sort())
    // Every environment holds the round's values, fresh, until the ttl from the round is up.
    time.advance(4 * 60_000)
    for (const cache of caches) {
      expect(await Promise.all(['p1', 'p2'].map((id) => cache.lookup(id)))).toEqual(['p1', 'p2'].map((id) => ({ value: `${id}, round 1`, outcome: Outcome.Hit, tier: Tier.L1 })))
    }
    expect(loaded.sort()).toEqual([...ids].sort())
  })
})

describe('warmup: metrics still flush on a ping', () => {
  test("this suite's early-return work runs once, after the refresh, sees the ping, and the refresh counts as loads, never hits or misses", async () => {
    const clock = manualClock()
    const cache = registered({ name: 'counted', load: (key: string) => key, ttl: '1m', now: clock.now })
    await cache.get('a')
    await cache.get('b')
    const flushes: unknown[] = []
    // What cacheMetrics does in its `before`: register its flush for an early return.
    const metricsStandIn: MiddlewareObj = {
      before: (request) => {
        onEarlyReturn(request, () => {
          const invocation = invocationOf(request)
          const { hits, misses, loads, staleServed } = invocation.scope.countersFor('counted')
          flushes.push({ warmupPing: invocation.warmupPing, hits, misses, loads, staleServed })
          return Promise.resolve()
        })
      },
    }
    const { handler } = handlerBehind(metricsStandIn, warmup())

    const answer = (await invoke(handler, { warmer: true })) as WarmupAnswer

    expect(answer.refreshed).toBe(2)
    expect(flushes).toEqual([{ warmupPing: true, hits: 0, misses: 0, loads: 2, staleServed: 0 }])
  })

  test("Powertools logMetrics placed before warmup publishes its stored metrics on a ping (cleanupMiddlewares); an early return that skips it loses them", async () => {
    const countRequest: MiddlewareObj = {
      before: () => {
        metrics.addMetric('RequestsSeen', MetricUnit.Count, 1)
      },
    }
    // A namespace of its own: a cacheMetrics made anywhere in the process flushes every ping (warmup-metrics.test.ts).
    const metrics = new Metrics({ namespace: 'ShopApp', serviceName: 'orders' })
    const naiveWarmup: MiddlewareObj = { before: () => 'warmup' }
    const powertools = (blobs: EmfBlob[]): EmfBlob[] => blobs.filter((blob) => blob._aws.CloudWatchMetrics.some((directive) => directive.Namespace === 'ShopApp'))

    const output = captureOutput()
    try {
      await invoke(handlerBehind(logMetrics(metrics), countRequest, warmup()).handler, { warmer: true })
      const withWarmup = powertools(output.blobs())
      const seen = output.blobs().length
      await invoke(handlerBehind(logMetrics(metrics), countRequest, naiveWarmup).handler, { warmer: true })
      const withNaive = powertools(output.blobs().slice(seen))

      expect(withWarmup.flatMap(metricNamesOf)).toEqual(['RequestsSeen'])
      expect(withWarmup[0]).toMatchObject({ service: 'orders', RequestsSeen: 1 })
      expect(withNaive).toEqual([])
    } finally {
      output.restore()
      metrics.clearMetrics()
    }
  })

  test('a flush that throws (logMetrics with throwOnEmptyMetrics and nothing recorded) is reported in the answer, not thrown', async () => {
    const metrics = new Metrics({ namespace: 'Shop', serviceName: 'orders' })
    const output = captureOutput()
    try {
      const answer = (await invoke(handlerBehind(logMetrics(metrics, { throwOnEmptyMetrics: true }), warmup()).handler, { warmer: true })) as WarmupAnswer
      expect(answer.warmed).toBe(true)
      expect(answer.warnings).toEqual([expect.stringMatching(/^flushing metrics failed: RangeError: /)])
    } finally {
      output.restore()
    }
  })
})

describe('warmup: cold start', () => {
  interface Environment {
    readonly middy: typeof middy
    readonly warmup: typeof warmup
    readonly contextValuesMiddleware: typeof contextValuesMiddleware
    readonly createCache: typeof createCache
  }
  const freshEnvironment = (): Environment => {
    let fresh: Environment | undefined
    forgetProcessWideState()
    jest.isolateModules(() => {
      // A fresh copy of the modules, without the process-wide state, is a fresh execution environment.
      /* eslint-disable @typescript-eslint/no-require-imports */
      fresh = {
        middy: (require('@middy/core') as { default: typeof middy }).default,
        warmup: (require('../../middlewares/warmup.js') as typeof import('../../middlewares/warmup.js')).warmup,
        contextValuesMiddleware: (require('../../middlewares/shared/context-values.js') as typeof import('../../middlewares/shared/context-values.js')).contextValuesMiddleware,
        createCache: (require('../../src/index.js') as typeof import('../../src/index.js')).createCache,
      }
      /* eslint-enable @typescript-eslint/no-require-imports */
    })
    if (fresh === undefined) throw new Error('isolateModules did not run')
    return fresh
  }

  const withInitializationType = async <T>(type: string | undefined, run: () => Promise<T>): Promise<T> => {
    const saved = process.env.AWS_LAMBDA_INITIALIZATION_TYPE
    if (type === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE
    else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = type
    try {
      return await run()
    } finally {
      if (saved === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE
      else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = saved
    }
  }

  test('the first ping of a fresh environment reports a cold start, the next one does not, both from the same environment', async () => {
    const environment = freshEnvironment()
    const handler = environment.middy().use(environment.warmup()).handler(() => Promise.resolve('handled'))
    const [first, second] = await withInitializationType('on-demand', async () => [
      (await invoke(handler, { warmer: true })) as WarmupAnswer,
      (await invoke(handler, { warmer: true })) as WarmupAnswer,
    ])
    expect(first).toMatchObject({ warmed: true, coldStart: true })
    expect(second).toMatchObject({ warmed: true, coldStart: false, environmentId: first.environmentId })
  })

  test('a ping after a real request is no cold start; nor is the first ping of an environment readied by provisioned concurrency', async () => {
    const warmAlready = freshEnvironment()
    const handler = warmAlready.middy().use(warmAlready.warmup()).handler(() => Promise.resolve('handled'))
    expect(await invoke(handler, { httpMethod: 'GET' })).toBe('handled')
    expect(await invoke(handler, { warmer: true })).toMatchObject({ coldStart: false })

    const provisioned = freshEnvironment()
    const provisionedHandler = provisioned.middy().use(provisioned.warmup()).handler(() => Promise.resolve('handled'))
    const answer = (await withInitializationType('provisioned-concurrency', () => invoke(provisionedHandler, { warmer: true }))) as WarmupAnswer
    expect(answer).toMatchObject({ coldStart: false })
  })

  test('a ping to another handler of the module, after requests served from memory with nothing counted (values prefetched at INIT), is no cold start', async () => {
    const environment = freshEnvironment()
    const cache = environment.createCache<unknown>({ name: 'config', load: (key: string) => `value of ${key}`, ttl: '1h' })
    const entries = [{ property: 'table', key: '/shop/table', optional: false, label: 'parameter "/shop/table"' }]
    const config = environment.contextValuesMiddleware({ middleware: 'configCache', cache, contextName: 'config', entries, prefetch: true, settleBudgetMs: 100, holderFor: () => ({}) })
    await flushPromises()
    const api = environment.middy().use(config).handler(() => Promise.resolve('handled'))
    const pinged = environment.middy().use(environment.warmup()).use(config).handler(() => Promise.resolve('handled'))
    const answer = await withInitializationType('on-demand', async () => {
      for (let request = 0; request < 3; request++) expect(await invoke(api)).toBe('handled')
      return (await invoke(pinged, { warmer: true })) as WarmupAnswer
    })
    expect(answer).toMatchObject({ warmed: true, coldStart: false })
  })

  test.each([['snap-start'], ['lambda-managed-instances'], [undefined]])('the first ping of an environment initialised as %s is no cold start, as the ColdStart metric has it', async (type) => {
    const environment = freshEnvironment()
    const handler = environment.middy().use(environment.warmup()).handler(() => Promise.resolve('handled'))
    const answer = (await withInitializationType(type, () => invoke(handler, { warmer: true }))) as WarmupAnswer
    expect(answer).toMatchObject({ warmed: true, coldStart: false })
  })
})

describe('warmup: fan-out to N environments (moto Lambda, through a recording proxy)', () => {
  const moto = recordedMotoFunction('warmup')

  const aliasContext = (requestId: string) => ({ ...lambdaContext(), invokedFunctionArn: `${moto.fn.arn}:${moto.fn.alias}`, awsRequestId: requestId })

  test('the originating ping invokes N-1 children on its alias, Event then RequestResponse; replayed, the children hold, answer as children and never fan out', async () => {
    const { handler, handle } = handlerBehind(warmup({ clientConfig: { endpoint: moto.recorder.url } }))

    const origin = (await invoke(handler, { warmer: true, concurrency: 3 }, aliasContext('origin-request'))) as WarmupAnswer

    expect(origin.fanOut).toEqual({ requested: 3, concurrency: 3, invoked: 2, failed: 0, errors: [] })
    expect(origin.child).toBeUndefined()
    const sent = [...moto.recorder.invokes]
    expect(sent.map(({ functionName, qualifier, invocationType }) => ({ functionName, qualifier, invocationType })).sort((a, b) => (a.invocationType ?? '').localeCompare(b.invocationType ?? ''))).toEqual([
      { functionName: moto.fn.arn, qualifier: 'live', invocationType: 'Event' },
      { functionName: moto.fn.arn, qualifier: 'live', invocationType: 'RequestResponse' },
    ])

    // Each child ping, exactly as it went over the wire, reaches another environment running the same handler.
    const children = await Promise.all(sent.map(async ({ payload }) => (await invoke(handler, payload, aliasContext('child-request'))) as WarmupAnswer))
    expect(children.map((child) => child.child).sort((a, b) => (a?.invocation ?? 0) - (b?.invocation ?? 0))).toEqual([
      { invocation: 2, of: 3, correlationId: 'origin-request' },
      { invocation: 3, of: 3, correlationId: 'origin-request' },
    ])
    for (const child of children) {
      expect(child.fanOut).toBeUndefined()
      expect(child.durationMs).toBeGreaterThanOrEqual(70)
    }
    expect(moto.recorder.invokes).toHaveLength(2)
    expect(handle).not.toHaveBeenCalled()
  })

  test('a failing Invoke never fails the ping: it is counted, explained and logged', async () => {
    moto.recorder.intercept(() => 'refuse')
    const logger = { info: jest.fn(), warn: jest.fn() }
    const answer = await ping({ clientConfig: { endpoint: moto.recorder.url, maxAttempts: 1 }, logger }, { warmer: true, concurrency: 3 }, aliasContext('refused'))
    expect(answer).toMatchObject({ warmed: true, fanOut: { requested: 3, concurrency: 3, invoked: 0, failed: 2 } })
    expect(answer.fanOut?.errors).toEqual([expect.stringMatching(/^AccessDeniedException/)])
    expect(logger.warn).toHaveBeenCalledWith('middy-cache: warm-up ping answered with problems', answer)
  })

  test('a throttled child (429: the environments are all busy) is sent once, not retried, and reported as a failure', async () => {
    const faults = await startHttpFaultProxy({ target: moto.recorder.url })
    try {
      const invocations = /^\/2015-03-31\/functions\/[^/]+\/invocations$/
      faults.inject({ path: invocations, ...awsRestJsonError('TooManyRequestsException', 'Rate Exceeded.', 429, { Reason: 'ConcurrentInvocationLimitExceeded', Type: 'User' }) })
      const logger = { info: jest.fn(), warn: jest.fn() }
      const answer = await ping({ clientConfig: { endpoint: faults.url }, logger }, { warmer: true, concurrency: 3 }, aliasContext('throttled'))
      expect(answer.fanOut).toEqual({ requested: 3, concurrency: 3, invoked: 0, failed: 2, errors: ['TooManyRequestsException: Rate Exceeded.'] })
      expect(faults.requests({ path: invocations })).toEqual({ seen: 2, answered: 2 })
      expect(logger.warn).toHaveBeenCalledWith('middy-cache: warm-up ping answered with problems', answer)
    } finally {
      await faults.close()
    }
  })

  test('maxConcurrency caps the fan-out', async () => {
    const answer = await ping({ clientConfig: { endpoint: moto.recorder.url }, maxConcurrency: 2 }, { warmer: true, concurrency: 500 }, aliasContext('capped'))
    expect(answer.fanOut).toEqual({ requested: 500, concurrency: 2, invoked: 1, failed: 0, errors: [] })
    expect(moto.recorder.invokes.map((sent) => sent.invocationType)).toEqual(['RequestResponse'])
  })

  test('without context.invokedFunctionArn there is no fan-out, and the answer says so', async () => {
    const answer = await ping({ clientConfig: { endpoint: moto.recorder.url } }, { warmer: true, concurrency: 3 }, withoutFunctionArn())
    expect(answer.fanOut).toEqual({ requested: 3, concurrency: 3, invoked: 0, failed: 0, errors: [], skipped: 'the Lambda context has no invokedFunctionArn to invoke' })
    expect(moto.recorder.invokes).toEqual([])
  })

  test('the originating ping and its refreshes run together: the answer comes once both are done', async () => {
    const clock = manualClock()
    const load = jest.fn(() => 'v')
    const cache = registered({ name: 'fanned', load, ttl: '1m', now: clock.now })
    await cache.get('k')
    const answer = await ping({ clientConfig: { endpoint: moto.recorder.url } }, { warmer: true, concurrency: 2 }, aliasContext('both'))
    expect(answer).toMatchObject({ refreshed: 1, fanOut: { invoked: 1, failed: 0 } })
  })
})
