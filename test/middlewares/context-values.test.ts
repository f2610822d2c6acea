import middy, { type Request } from '@middy/core'
import { createCache, type Duration } from '../../src/index.js'
import { flushOnEarlyReturn } from '../../middlewares/flush-on-early-return.js'
import { contextValuesMiddleware, type ContextEntry } from '../../middlewares/shared/context-values.js'
import { invocationIfAny, invocationOf } from '../../middlewares/shared/invocation.js'
import { deferred, flushPromises } from '../support/deferred.js'
import { manualClock, movableTime } from '../support/clock.js'
import { invoke } from '../support/invoke.js'
import { lambdaContext } from '../support/lambda-context.js'
import { forgetProcessWideState } from '../support/process-state.js'

const entries: ContextEntry[] = [
  { property: 'table', key: '/t', optional: false, label: 'parameter "/t"' },
  { property: 'flag', key: '/f', optional: true, label: 'parameter "/f"' },
]

const requestFor = (): Request => ({ event: {}, context: lambdaContext(10_000), response: undefined, error: undefined, internal: {} })

const middlewareOver = (load: (key: string) => unknown, clock = manualClock()) => {
  const cache = createCache<unknown>({ name: 'values', load, ttl: '1m', staleWhileRevalidate: '1m', negativeTtl: '1m', now: clock.now })
  const middleware = contextValuesMiddleware({ middleware: 'configCache', cache, contextName: 'config', entries, prefetch: false, settleBudgetMs: 100, holderFor: () => ({}) })
  // Middy types hook results as any; what matters here is whether they are promises.
  const run = {
    before: (request: Request): unknown => middleware.before?.(request) as unknown,
    after: (request: Request): unknown => middleware.after?.(request) as unknown,
  }
  return { cache, run, clock }
}

const contextOf = (request: Request): Record<string, unknown> => request.context as unknown as Record<string, unknown>

type ContextValuesModule = typeof import('../../middlewares/shared/context-values.js')
type InvocationModule = typeof import('../../middlewares/shared/invocation.js')
type EngineModule = typeof import('../../src/index.js')

type Copy = Pick<ContextValuesModule, 'contextValuesMiddleware'> & Pick<InvocationModule, 'invocationOf' | 'invocationIfAny' | 'readInvocationCounts'> & Pick<EngineModule, 'createCache'>

/**
 * One more copy of the values middleware beside those loaded before it, sharing the process-wide state
 * with them, as a process that loads the package twice (an ESM import beside a CommonJS require) does.
 */
const copyBeside = (): Copy => {
  let copy: Copy | undefined
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = (path: string): unknown => require(path)
    copy = {
      ...(load('../../middlewares/shared/context-values.js') as ContextValuesModule),
      ...(load('../../middlewares/shared/invocation.js') as InvocationModule),
      ...(load('../../src/index.js') as EngineModule),
    }
  })
  if (copy === undefined) throw new Error('isolateModules did not run')
  return copy
}

/** A fresh copy of the values middleware, without the process-wide state: a new execution environment, none of its invocations run yet. */
const freshCopy = (): Copy => {
  forgetProcessWideState()
  return copyBeside()
}

/**
 * A fresh copy of the values middleware in a process where a cacheMetrics was made, which reads
 * what each invocation counted: its caches then count every warm read in the invocation's state.
 * A copy of its own, so that the tests before and after it still run in a process without one.
 */
const countedCopy = (): Copy => {
  const copy = freshCopy()
  copy.readInvocationCounts()
  return copy
}

describe('the values middleware behind configCache and secretsCache', () => {
  test('a cold invocation loads in a promise; a warm one puts the values on the context synchronously', async () => {
    const load = jest.fn((key: string) => (key === '/t' ? 'products' : undefined))
    const { run } = middlewareOver(load)

    const cold = requestFor()
    const loading = run.before(cold)
    expect(loading).toBeInstanceOf(Promise)
    await loading
    expect(contextOf(cold).config).toEqual({ table: 'products', flag: undefined })

    const warm = requestFor()
    expect(run.before(warm)).toBeUndefined()
    expect(contextOf(warm).config).toEqual({ table: 'products', flag: undefined })
    // Unchanged values: the same frozen object, so a warm invocation builds nothing and none can alter another's.
    expect(contextOf(warm).config).toBe(contextOf(cold).config)
    expect(Object.isFrozen(contextOf(warm).config)).toBe(true)
    // No cacheMetrics in the process reads what the invocation counted: it made no state to count in.
    expect(invocationIfAny(warm)).toBeUndefined()
    expect(run.after(warm)).toBeUndefined()
    expect(load).toHaveBeenCalledTimes(2)
  })

  test('once a cacheMetrics is made in the process, a warm invocation counts its hits in the invocation', async () => {
    const counted = countedCopy()
    const cache = counted.createCache<unknown>({ name: 'counted', load: (key: string) => `value of ${key}`, ttl: '1m' })
    const middleware = counted.contextValuesMiddleware({ middleware: 'configCache', cache, contextName: 'config', entries, prefetch: false, settleBudgetMs: 100, holderFor: () => ({}) })
    await middleware.before?.(requestFor())

    const warm = requestFor()
    expect(middleware.before?.(warm)).toBeUndefined()
    expect(contextOf(warm).config).toEqual({ table: 'value of /t', flag: 'value of /f' })
    expect(counted.invocationOf(warm).scope.counters.get('counted')?.hits).toBe(2)
  })

  test('a warm invocation with no state made before it, in a process without cacheMetrics, places the values without making any', async () => {
    const cache = createCache<unknown>({ name: 'uncounted', load: (key: string) => `value of ${key}`, ttl: '1m' })
    const middleware = contextValuesMiddleware({ middleware: 'configCache', cache, contextName: 'config', entries, prefetch: false, settleBudgetMs: 100, holderFor: () => ({}) })
    await middleware.before?.(requestFor())

    const warm = requestFor()
    expect(middleware.before?.(warm)).toBeUndefined()
    expect(contextOf(warm).config).toEqual({ table: 'value of /t', flag: 'value of /f' })
    expect(invocationIfAny(warm)).toBeUndefined()
    expect(cache.stats().hits).toBe(2)

    // A state another middleware of the suite made first (warmup, say): the warm read is counted there.
    const joined = requestFor()
    const state = invocationOf(joined)
    expect(middleware.before?.(joined)).toBeUndefined()
    expect(state.scope.counters.get('uncounted')?.hits).toBe(2)
  })

  test('the first invocation of an environment is counted even when the prefetch at INIT left every value fresh, so that no later one is taken for the cold start', async () => {
    const environment = freshCopy()
    const cache = environment.createCache<unknown>({ name: 'prefetched', load: (key: string) => `value of ${key}`, ttl: '1m' })
    const middleware = environment.contextValuesMiddleware({ middleware: 'configCache', cache, contextName: 'config', entries, prefetch: true, settleBudgetMs: 100, holderFor: () => ({}) })
    await flushPromises()

    const first = requestFor()
    expect(middleware.before?.(first)).toBeUndefined()
    expect(environment.invocationIfAny(first)?.start).toMatchObject({ coldStart: true, sequence: 1 })
    await middleware.after?.(first)
    const next = requestFor()
    expect(middleware.before?.(next)).toBeUndefined()
    expect(contextOf(next).config).toEqual({ table: 'value of /t', flag: 'value of /f' })
    expect(environment.invocationIfAny(next)).toBeUndefined()
    expect(environment.invocationOf(requestFor()).start).toMatchObject({ coldStart: false })
  })

  test('a stale value is served at once and its refresh is settled in after, which then returns a promise', async () => {
    const gate = deferred<string>()
    let calls = 0
    const { run, clock } = middlewareOver((key) => (key === '/t' && ++calls > 1 ? gate.promise : 'v1'))
    await run.before(requestFor())
    clock.advance(61_000)

    const request = requestFor()
    await run.before(request)
    expect(contextOf(request).config).toMatchObject({ table: 'v1' })
    const settling = run.after(request)
    expect(settling).toBeInstanceOf(Promise)
    gate.resolve('v2')
    await settling
    expect(invocationOf(request).settled).toBeDefined()

    const next = requestFor()
    expect(run.before(next)).toBeUndefined()
    expect(contextOf(next).config).toMatchObject({ table: 'v2' })
    expect(contextOf(request).config).toMatchObject({ table: 'v1' })
  })

  test('a request another middleware answers early still has the refresh begun in before settled (with flushOnEarlyReturn)', async () => {
    const clock = manualClock()
    const refreshes: AbortSignal[] = []
    const load = (key: string, { signal }: { signal: AbortSignal }): unknown => {
      if (clock.now() === 1_000) return `${key} v1`
      refreshes.push(signal)
      return new Promise(() => undefined)
    }
    const cache = createCache<unknown>({ name: 'answered-early', load, ttl: '1m', staleWhileRevalidate: '1m', now: clock.now })
    const middleware = contextValuesMiddleware({ middleware: 'configCache', cache, contextName: 'config', entries, prefetch: false, settleBudgetMs: 10, holderFor: () => ({}) })
    const handler = middy({ requestEnd: flushOnEarlyReturn })
      .use(middleware)
      .use({ before: () => 'the stored answer' })
      .handler(() => Promise.resolve('handled'))
    await invoke(handler)
    clock.advance(61_000)
    expect(await invoke(handler)).toBe('the stored answer')
    expect(refreshes).toHaveLength(2)
    expect(refreshes.every((signal) => signal.aborted)).toBe(true)
  })

  test('a missing required value fails before with its name, and leaves the context untouched', async () => {
    const { run } = middlewareOver(() => undefined)
    const request = requestFor()
    await expect(run.before(request)).rejects.toThrow('parameter "/t" for context.config.table was not found')
    expect(contextOf(request).config).toBeUndefined()
  })

  // A default name is read and written at code of its own; any other name through the code all share.
  test.each(['config', 'settings'])('what another middleware put under the name (%s) is merged; what this one put there before is not merged again', async (name) => {
    const cache = createCache<unknown>({ name: 'merged', load: (key: string) => `value of ${key}`, ttl: '1m' })
    const spreading = (existing: unknown): Record<string, unknown> => (typeof existing === 'object' && existing !== null ? { ...existing } : {})
    const middleware = contextValuesMiddleware({ middleware: 'configCache', cache, contextName: name, entries, prefetch: false, settleBudgetMs: 100, holderFor: spreading })
    // A whole request, as Middy runs it: a request whose `after` has not run yet is still running its handler.
    const run = async (request: Request): Promise<void> => {
      await (middleware.before?.(request) as unknown)
      await (middleware.after?.(request) as unknown)
    }

    const fresh = requestFor()
    await run(fresh)
    const shared = contextOf(fresh)[name]

    const withOther = requestFor()
    contextOf(withOther)[name] = { region: 'eu-west-1' }
    await run(withOther)
    expect(contextOf(withOther)[name]).toEqual({ region: 'eu-west-1', table: 'value of /t', flag: 'value of /f' })

    // The runtime hands each invocation a new context; a test harness may hand the same one again.
    const reused = { ...requestFor(), context: fresh.context }
    await run(reused)
    expect(contextOf(reused)[name]).toBe(shared)
    contextOf(reused)[name] = { region: 'us-east-1' }
    const reusedAgain = { ...requestFor(), context: fresh.context }
    await run(reusedAgain)
    expect(contextOf(reusedAgain)[name]).toEqual({ region: 'us-east-1', table: 'value of /t', flag: 'value of /f' })
  })

  test('after one such middleware waited in before, the next reads the clock again: a value that expired during the wait is loaded, not served as fresh', async () => {
    const time = movableTime()
    try {
      let slowSource = false
      let version = 1
      const loadSlowly = (key: string): string => {
        // Once slow, config's two loads take five seconds of the invocation.
        if (slowSource) time.advance(2_500)
        return `${key} v${version}`
      }
      const config = createCache<unknown>({ name: 'config', load: loadSlowly, ttl: '10s' })
      const secrets = createCache<unknown>({ name: 'secrets', load: (key: string) => `${key} v${version}`, ttl: '12s' })
      const middlewares = [config, secrets].map((cache) =>
        contextValuesMiddleware({ middleware: 'configCache', cache, contextName: cache.name, entries, prefetch: false, settleBudgetMs: 100, holderFor: () => ({}) }),
      )
      const before = async (request: Request): Promise<void> => {
        for (const middleware of middlewares) await middleware.before?.(request)
      }
      await before(requestFor())
      time.advance(11_000)
      slowSource = true
      version = 2
      const request = requestFor()
      await before(request)
      // The secrets were fresh when the invocation began, and 4 s past their ttl once config had loaded.
      expect(contextOf(request)).toMatchObject({ config: { table: '/t v2' }, secrets: { table: '/t v2' } })
      expect(secrets.stats()).toMatchObject({ hits: 0, loads: 4 })
    } finally {
      jest.restoreAllMocks()
    }
  })

  test.each([
    { how: 'counted for a cacheMetrics (when its state is made)', modules: countedCopy, counted: true },
    { how: 'uncounted', modules: () => ({ createCache, contextValuesMiddleware }), counted: false },
  ])('a warm invocation of two such middlewares over the default clock, $how, reads the clock once', async ({ modules, counted }) => {
    const copy = modules()
    const middlewares = ['config', 'secrets'].map((name) => {
      const cache = copy.createCache<unknown>({ name: `${name}-${String(counted)}`, load: (key: string) => `${name} ${key}`, ttl: '1h' })
      return copy.contextValuesMiddleware({ middleware: 'configCache', cache, contextName: name, entries, prefetch: false, settleBudgetMs: 100, holderFor: () => ({}) })
    })
    const invokeBoth = async (request: Request): Promise<void> => {
      for (const middleware of middlewares) await middleware.before?.(request)
      for (const middleware of middlewares) await middleware.after?.(request)
    }
    await invokeBoth(requestFor())
    const reads = jest.spyOn(performance, 'now')
    try {
      const warm = requestFor()
      await invokeBoth(warm)
      expect(reads).toHaveBeenCalledTimes(1)
      expect(invocationIfAny(warm) !== undefined).toBe(counted)
      expect(contextOf(warm)).toMatchObject({ config: { table: 'config /t' }, secrets: { table: 'secrets /t' } })
    } finally {
      reads.mockRestore()
    }
  })

  test('uncounted, the reading shared within a request is not used once the request ended, nor once a middleware made its state', async () => {
    const time = movableTime()
    try {
      let slowSource = false
      const cacheNamed = (name: string, ttl: Duration, load = (key: string): string => `${name} ${key}`) => createCache<unknown>({ name, load, ttl })
      const slowly = (key: string): string => {
        // Once slow, the two loads take five seconds of the invocation.
        if (slowSource) time.advance(2_500)
        return `slow ${key}`
      }
      const caches = [cacheNamed('fresh', '1h'), cacheNamed('slow', '10s', slowly), cacheNamed('last', '13s')]
      const middlewares = caches.map((cache) =>
        contextValuesMiddleware({ middleware: 'configCache', cache, contextName: cache.name, entries, prefetch: false, settleBudgetMs: 100, holderFor: () => ({}) }),
      )
      const [fresh] = middlewares
      const invokeAll = async (request: Request): Promise<void> => {
        for (const middleware of middlewares) await middleware.before?.(request)
        for (const middleware of middlewares) await middleware.after?.(request)
      }
      await invokeAll(requestFor())
      const warm = requestFor()
      await invokeAll(warm)
      expect(invocationIfAny(warm)).toBeUndefined()

      // The same request object handed again, later: read anew, so the expired value is loaded.
      time.advance(61 * 60_000)
      const reused = fresh?.before?.(warm) as unknown
      expect(reused).toBeInstanceOf(Promise)
      await reused
      await invokeAll(requestFor())

      // The first serves from memory, the second loads for five seconds, the third expires meanwhile.
      time.advance(11_000)
      slowSource = true
      const next = requestFor()
      for (const middleware of middlewares) await middleware.before?.(next)
      expect(caches.map((cache) => cache.stats().loads)).toEqual([4, 6, 6])
      expect(contextOf(next)).toMatchObject({ fresh: { table: 'fresh /t' }, slow: { table: 'slow /t' }, last: { table: 'last /t' } })
    } finally {
      jest.restoreAllMocks()
    }
  })

  test('uncounted, a reading one copy of the package took is not used once a middleware of the other copy made the state and waited', async () => {
    const first = freshCopy()
    const second = copyBeside()
    const time = movableTime()
    try {
      let slowSource = false
      const slowly = (key: string): string => {
        // Once slow, the two loads take five seconds of the invocation.
        if (slowSource) time.advance(2_500)
        return `slow ${key}`
      }
      const madeBy = (copy: Copy, name: string, ttl: Duration, load = (key: string): string => `${name} ${key}`) => {
        const cache = copy.createCache<unknown>({ name, load, ttl })
        return { cache, middleware: copy.contextValuesMiddleware({ middleware: 'configCache', cache, contextName: name, entries, prefetch: false, settleBudgetMs: 100, holderFor: () => ({}) }) }
      }
      // The first and the last from one copy, the one between them from the other.
      const chain = [madeBy(first, 'fresh', '1h'), madeBy(second, 'slow', '10s', slowly), madeBy(first, 'last', '13s')]
      const caches = chain.map(({ cache }) => cache)
      const middlewares = chain.map(({ middleware }) => middleware)
      const invokeAll = async (request: Request): Promise<void> => {
        for (const middleware of middlewares) await middleware.before?.(request)
        for (const middleware of middlewares) await middleware.after?.(request)
      }
      await invokeAll(requestFor())

      // The first serves from memory uncounted, the second loads for five seconds, the third expires meanwhile.
      time.advance(11_000)
      slowSource = true
      const next = requestFor()
      await invokeAll(next)
      expect(caches.map((cache) => cache.stats().loads)).toEqual([2, 4, 4])
    } finally {
      jest.restoreAllMocks()
    }
  })

  test('uncounted, a middleware over a clock of its own judges freshness by that clock, not by the reading another over the default clock took', async () => {
    const copy = freshCopy()
    // Far from the monotonic clock's readings, which count from the start of the process.
    const own = manualClock(10 ** 12)
    let version = 1
    const byDefault = copy.createCache<unknown>({ name: 'config', load: (key: string) => `config ${key}`, ttl: '1h' })
    const byOwn = copy.createCache<unknown>({ name: 'secrets', load: (key: string) => `secrets ${key} v${String(version)}`, ttl: '1m', now: own.now })
    const middlewares = [byDefault, byOwn].map((cache) =>
      copy.contextValuesMiddleware({ middleware: 'configCache', cache, contextName: cache.name, entries, prefetch: false, settleBudgetMs: 100, holderFor: () => ({}) }),
    )
    const invokeBoth = async (request: Request): Promise<void> => {
      for (const middleware of middlewares) await middleware.before?.(request)
      for (const middleware of middlewares) await middleware.after?.(request)
    }
    await invokeBoth(requestFor())
    await invokeBoth(requestFor())

    own.advance(2 * 60_000)
    version = 2
    const request = requestFor()
    await invokeBoth(request)
    expect(contextOf(request)).toMatchObject({ config: { table: 'config /t' }, secrets: { table: 'secrets /t v2' } })
    expect(byOwn.stats().loads).toBe(4)
  })

  test('a prefetch that a freeze left hanging is aborted once the first invocation after the thaw loads anew, so its request does not stay open', async () => {
    const clock = manualClock()
    const signals: AbortSignal[] = []
    const load = (key: string, { signal }: { signal: AbortSignal }): Promise<string> => {
      signals.push(signal)
      return signals.length <= 2 ? new Promise<string>(() => undefined) : Promise.resolve(`value of ${key}`)
    }
    const cache = createCache<unknown>({ name: 'prefetch-hung', load, ttl: '1h', now: clock.now })
    const middleware = contextValuesMiddleware({ middleware: 'configCache', cache, contextName: 'config', entries, prefetch: true, settleBudgetMs: 100, holderFor: () => ({}) })
    expect(signals).toHaveLength(2)
    // Provisioned concurrency froze INIT for an hour with the prefetch on the wire.
    clock.advance(60 * 60_000)

    const request = requestFor()
    await middleware.before?.(request)
    await middleware.after?.(request)
    expect(contextOf(request).config).toEqual({ table: 'value of /t', flag: 'value of /f' })
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true, false, false])
    expect(cache.stats().inFlight).toBe(0)
  })
})
