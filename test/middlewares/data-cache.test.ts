import middy, { type MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import { join } from 'node:path'
import { configCache } from '../../middlewares/config-cache.js'
import { dataCache, DataScope, type DataBatchLoadContext, type DataCacheHandle } from '../../middlewares/data-cache.js'
import { secretsCache } from '../../middlewares/secrets-cache.js'
import { invocationOf } from '../../middlewares/shared/invocation.js'
import { CacheKind, CacheLoadError, Outcome, registeredCaches, Tier, type CacheCounters, type EntryFreshness } from '../../src/index.js'
import { createSecret, putParameters, uniqueName } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { movableTime } from '../support/clock.js'
import { invoke } from '../support/invoke.js'
import { lambdaContext } from '../support/lambda-context.js'
import { runScript } from '../support/node-script.js'

interface Product {
  id: string
  name: string
}

const product = (id: string): Product => ({ id, name: `Product ${id}` })
const byId = (id: string | undefined) => ({ pathParameters: id === undefined ? null : { id } })

/** Reads the invocation's counters for `cache` after the handler, as cacheMetrics would. */
const countersOf = (cache: string, seen: CacheCounters[]): MiddlewareObj => ({
  after: (request) => {
    seen.push(invocationOf(request).scope.countersFor(cache))
  },
})

describe('eager: the event key is loaded before the handler onto context[name]', () => {
  test('the first invocation loads, the next is an L1 hit; the handler receives the value', async () => {
    const load = jest.fn((id: string) => Promise.resolve(product(id)))
    const counters: CacheCounters[] = []
    const handler = middy()
      .use(countersOf('products', counters))
      .use(dataCache({ name: 'products', key: (event: { pathParameters: { id: string } | null }) => event.pathParameters?.id, load, ttl: '5m' }))
      .handler((_event, context) => Promise.resolve(context.products))
    expect(await invoke(handler, byId('42'))).toEqual(product('42'))
    expect(await invoke(handler, byId('42'))).toEqual(product('42'))
    expect(load).toHaveBeenCalledTimes(1)
    expect(counters.map((count) => [count.misses, count.hits])).toEqual([[1, 0], [0, 1]])
  })

  test('a handler cannot change the cached value in place: the change throws, and the next caller reads the value as loaded', async () => {
    const load = (id: string) => ({ id, price: 10, tags: ['new'] })
    const handler = middy()
      .use(dataCache({ name: 'priced', key: (event: { pathParameters: { id: string } | null }) => event.pathParameters?.id, load, ttl: '5m' }))
      .handler((_event, context) => {
        // Past the compile-time guard (see data-cache-types.test.ts), as plain JavaScript would be.
        const priced = context.priced as unknown as { price: number; tags: string[] }
        priced.price = 99
        priced.tags.push('personal discount')
        return Promise.resolve(priced)
      })
    await expect(invoke(handler, byId('1'))).rejects.toThrow(TypeError)
    const reader = middy()
      .use(dataCache({ name: 'priced', key: (event: { pathParameters: { id: string } | null }) => event.pathParameters?.id, load, ttl: '5m' }))
      .handler((_event, context) => Promise.resolve(context.priced))
    expect(await invoke(reader, byId('1'))).toEqual({ id: '1', price: 10, tags: ['new'] })
  })

  test('a warm invocation: before puts the fresh value on the context synchronously, and after has nothing to wait for', async () => {
    const middleware = dataCache({ name: 'warm', key: (event: { id: string }) => event.id, load: (id: string) => product(id), ttl: '5m' })
    const requestFor = (id: string) => ({ event: { id }, context: {}, response: undefined, error: undefined, internal: {} }) as unknown as Parameters<NonNullable<typeof middleware.before>>[0]
    const cold = requestFor('7')
    const loading: unknown = middleware.before?.(cold)
    expect(loading).toBeInstanceOf(Promise)
    await loading
    const warm = requestFor('7')
    expect(middleware.before?.(warm)).toBeUndefined()
    expect((warm.context as unknown as { warm: Product }).warm).toEqual(product('7'))
    expect(invocationOf(warm).scope.countersFor('warm').hits).toBe(1)
    expect(middleware.after?.(warm)).toBeUndefined()
    // Another key is not in memory: the async way again.
    const other = requestFor('8')
    const loadingOther: unknown = middleware.before?.(other)
    expect(loadingOther).toBeInstanceOf(Promise)
    await loadingOther
    expect((other.context as unknown as { warm: Product }).warm).toEqual(product('8'))
  })

  test('after a cache waited in before, the next reads the clock again: a value that expired during the wait is loaded, not served as fresh', async () => {
    const time = movableTime()
    try {
      let slowSource = false
      let version = 1
      const loadSlowly = (id: string): string => {
        // Once slow, its load takes five seconds of the invocation.
        if (slowSource) time.advance(5_000)
        return `${id} v${version}`
      }
      const load = (id: string): string => `${id} v${version}`
      const key = (event: { id: string }) => event.id
      const handler = middy()
        .use(dataCache({ name: 'slow', key, load: loadSlowly, ttl: '10s' }))
        .use(dataCache({ name: 'quick', key, load, ttl: '12s' }))
        .handler((_event, context) => Promise.resolve([context.slow, context.quick]))
      expect(await invoke(handler, { id: '1' })).toEqual(['1 v1', '1 v1'])
      time.advance(11_000)
      slowSource = true
      version = 2
      // 'quick' was fresh when the invocation began, and 4 s past its ttl once 'slow' had loaded.
      expect(await invoke(handler, { id: '1' })).toEqual(['1 v2', '1 v2'])
    } finally {
      jest.restoreAllMocks()
    }
  })

  test('loads hanging on nothing that holds the event loop, left running at the answer, keep the loop busy while after and onError wait for them', async () => {
    // On Lambda, a loop that runs empty before the answer ends the invocation with an error instead.
    expect(await runScript(join(__dirname, 'fixtures', 'hung-refresh.ts'))).toBe('answered v1\nanswered v1\nfailed with CacheTimeoutError\nevent loop empty\n')
  })

  test('an undefined key: the event is not cached; the handler gets undefined, nothing is loaded, the handle is there', async () => {
    const load = jest.fn((id: string) => product(id))
    const counters: CacheCounters[] = []
    const handler = middy()
      .use(countersOf('optional', counters))
      .use(dataCache({ name: 'optional', key: (event: { pathParameters: { id: string } | null }) => event.pathParameters?.id, load, ttl: '5m' }))
      .handler((_event, context) => Promise.resolve({ value: context.optional, handle: typeof context.caches.optional.get }))
    expect(await invoke(handler, byId(undefined))).toEqual({ value: undefined, handle: 'function' })
    expect(load).not.toHaveBeenCalled()
    expect(counters[0]?.gets).toBe(0)
  })

  test('"not found" reaches the handler as undefined, and is remembered for negativeTtl', async () => {
    const load = jest.fn((): Product | undefined => undefined)
    const handler = middy()
      .use(dataCache({ name: 'negative', key: () => 'missing', load, ttl: '5m', negativeTtl: '30s' }))
      .handler((_event, context) => Promise.resolve(context.negative))
    expect(await invoke(handler)).toBeUndefined()
    expect(await invoke(handler)).toBeUndefined()
    expect(load).toHaveBeenCalledTimes(1)
  })

  test('a load that fails with nothing to fall back on fails the invocation with CacheLoadError; the handler does not run', async () => {
    const body = jest.fn(() => Promise.resolve('ran'))
    const handler = middy()
      .use(dataCache({ name: 'failing', key: () => 'k', load: () => Promise.reject(new Error('table unavailable')), ttl: '5m' }))
      .handler(body)
    await expect(invoke(handler)).rejects.toBeInstanceOf(CacheLoadError)
    expect(body).not.toHaveBeenCalled()
  })

  test('a key function that returns something else than a string or undefined is a clear error', async () => {
    const handler = middy()
      .use(dataCache({ name: 'badKey', key: () => 42 as unknown as string, load: () => 'v', ttl: '5m' }))
      .handler(() => Promise.resolve('ran'))
    await expect(invoke(handler)).rejects.toThrow(/key of cache "badKey" must return a string, or undefined/)
  })

  test('an async key function is a clear error: the key must be known at once, and a promise is none', async () => {
    const load = jest.fn((id: string) => id)
    const handler = middy()
      .use(dataCache({ name: 'asyncKey', key: (() => Promise.resolve('1')) as unknown as () => string, load, ttl: '5m' }))
      .handler(() => Promise.resolve('ran'))
    await expect(invoke(handler)).rejects.toThrow('middy-cache: key of cache "asyncKey" must return a string, or undefined for an event that is not cached; got a promise')
    expect(load).not.toHaveBeenCalled()
  })

  // Jest fails the test that is running when a rejection goes unhandled; Lambda would end the invocation with Runtime.UnhandledPromiseRejection.
  test('an async key or principal function whose promise rejects fails the invocation with the clear error, and leaves no unhandled rejection', async () => {
    const load = jest.fn((id: string) => id)
    const rejecting = (): Promise<string> => Promise.reject(new Error('token expired'))
    const asyncKey = middy()
      .use(dataCache({ name: 'rejectingKey', key: rejecting as unknown as () => string, load, ttl: '5m' }))
      .handler(() => Promise.resolve('ran'))
    const asyncPrincipal = middy()
      .use(dataCache({ name: 'rejectingPrincipal', key: () => 'cart', load, ttl: '5m', scope: 'principal', principal: rejecting as unknown as () => string }))
      .handler(() => Promise.resolve('ran'))
    await expect(invoke(asyncKey)).rejects.toThrow('middy-cache: key of cache "rejectingKey" must return a string, or undefined for an event that is not cached; got a promise')
    await expect(invoke(asyncPrincipal)).rejects.toThrow('middy-cache: principal of cache "rejectingPrincipal" must return a string or undefined; got a promise')
    // Node reports a rejection left unhandled once the microtasks of the turn that made it have run.
    await new Promise((resolve) => setImmediate(resolve))
    expect(load).not.toHaveBeenCalled()
  })
})

describe('lazy: the handler reads context.caches[name] for keys it finds itself', () => {
  test('get and getMany; getMany loads the misses in one batch through loadMany', async () => {
    const load = jest.fn((id: string) => product(id))
    const loadMany = jest.fn((ids: readonly string[]) => Promise.resolve(ids.map(product)))
    const handler = middy<{ Records: { body: string }[] }>()
      .use(dataCache({ name: 'lazy', load, loadMany, ttl: '5m' }))
      .handler(async (event, context) => {
        const handle = context.caches.lazy
        const first = await handle.get('1')
        const all = await handle.getMany(event.Records.map((record) => record.body))
        return { first, all }
      })
    const records = { Records: ['1', '2', '3', '2'].map((body) => ({ body })) }
    expect(await invoke(handler, records)).toEqual({ first: product('1'), all: ['1', '2', '3', '2'].map(product) })
    expect(load).toHaveBeenCalledTimes(1)
    expect(loadMany).toHaveBeenCalledTimes(1)
    expect(loadMany.mock.calls[0]?.[0]).toEqual(['2', '3'])
  })

  test("a loader's own loadMany is used (the ready loaders carry one)", async () => {
    const loadMany = jest.fn((ids: readonly string[]) => Promise.resolve(new Map(ids.map((id) => [id, product(id)]))))
    const load = Object.assign((id: string) => product(id), { loadMany })
    const handler = middy()
      .use(dataCache({ name: 'ready', load, ttl: '5m' }))
      .handler((_event, context) => context.caches.ready.getMany(['a', 'b']))
    expect(await invoke(handler)).toEqual([product('a'), product('b')])
    expect(loadMany).toHaveBeenCalledTimes(1)
  })

  test('set, delete, lookup and clear through the handle', async () => {
    const handler = middy()
      .use(dataCache({ name: 'writes', load: (id: string) => product(id), ttl: '5m' }))
      .handler(async (_event, context) => {
        const handle: DataCacheHandle<Product> = context.caches.writes
        await handle.set('x', { id: 'x', name: 'written' })
        const written = await handle.lookup('x')
        const deleted = await handle.delete('x')
        const reloaded = await handle.lookup('x')
        await handle.clear()
        return { written, deleted, reloaded }
      })
    expect(await invoke(handler)).toEqual({
      written: { value: { id: 'x', name: 'written' }, outcome: Outcome.Hit, tier: Tier.L1 },
      deleted: true,
      reloaded: { value: product('x'), outcome: Outcome.Miss, tier: Tier.Source },
    })
  })

  test('a key that is not a string is rejected by the handle', async () => {
    const handler = middy()
      .use(dataCache({ name: 'typedKeys', scope: 'principal', principal: () => 'alice', load: (id: string) => id, ttl: '5m' }))
      .handler(async (_event, context) => {
        const handle = context.caches.typedKeys
        return Promise.allSettled([handle.get(7 as unknown as string), handle.getMany([7 as unknown as string])])
      })
    const [single, many] = (await invoke(handler)) as PromiseSettledResult<unknown>[]
    expect(single).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/needs string keys; got number/) as unknown } })
    expect(many).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/getMany needs an array of string keys/) as unknown } })
  })

  test("the handle's methods are called on it; one taken off it throws a TypeError, as the README says", async () => {
    const ids = ['a', 'b']
    const handler = middy()
      .use(dataCache({ name: 'detached', load: (id: string) => id.toUpperCase(), ttl: '5m' }))
      .handler((_event, context) => {
        const handle = context.caches.detached
        // eslint-disable-next-line @typescript-eslint/unbound-method -- the mistake the README warns of
        expect(() => ids.map(handle.get)).toThrow(new TypeError("Cannot read properties of undefined (reading '#cache')"))
        return Promise.all(ids.map((id) => handle.get(id)))
      })
    expect(await invoke(handler)).toEqual(['A', 'B'])
  })
})

describe("scope: 'principal'", () => {
  const restCognito = (sub: string) => ({ requestContext: { authorizer: { claims: { sub, iss: 'https://cognito-idp.eu-west-1.amazonaws.com/pool' } } } })
  const httpJwt = (sub: string) => ({ requestContext: { authorizer: { jwt: { claims: { sub }, scopes: null } } } })
  const restLambdaAuthorizer = (principalId: string) => ({ requestContext: { authorizer: { principalId } } })
  const restIam = (userArn: string) => ({ requestContext: { identity: { userArn, cognitoIdentityId: null } } })
  const restIdentityPool = (cognitoIdentityId: string) => ({ requestContext: { identity: { userArn: 'arn:aws:sts::1:assumed-role/pool-role/s', cognitoIdentityId } } })
  const httpIam = (userArn: string) => ({ requestContext: { authorizer: { iam: { userArn, cognitoIdentity: null } } } })
  const functionUrlIam = (userArn: string) => ({
    requestContext: { accountId: '1', authorizer: { iam: { accessKey: 'AKIA', accountId: '1', callerId: 'AROA:s', cognitoIdentity: null, principalOrgId: null, userArn, userId: 'AROA:s' } } },
  })

  // Signed with IAM, the ARN left out: the principal id names the caller; the access key rotates.
  const restIamUserId = (user: string, accessKey = 'ASIAEXAMPLEKEY1') => ({
    requestContext: { identity: { accessKey, accountId: '123456789012', caller: user, user, userArn: null, cognitoIdentityId: null, cognitoIdentityPoolId: null } },
  })
  const httpIamUserId = (userId: string, accessKey = 'ASIAEXAMPLEKEY1') => ({
    requestContext: { authorizer: { iam: { accessKey, accountId: '123456789012', callerId: userId, cognitoIdentity: null, principalOrgId: null, userId } } },
  })

  const cartCache = () => {
    const load = jest.fn((key: string, { principal }: { principal: string | undefined }) => `${key} of ${principal ?? 'nobody'}`)
    const counters: CacheCounters[] = []
    const handler = middy()
      .use(countersOf('cart', counters))
      .use(dataCache({ name: 'cart', key: () => 'cart', load, ttl: '5m', scope: DataScope.Principal }))
      .handler((_event, context) => Promise.resolve(context.cart))
    return { handler, load, counters }
  }

  test.each([
    ['REST API, Cognito user pool authorizer', restCognito],
    ['HTTP API, JWT authorizer', httpJwt],
    ['REST API, Lambda authorizer', restLambdaAuthorizer],
    ['REST API, IAM caller', restIam],
    ['REST API, Cognito identity pool', restIdentityPool],
    ['HTTP API, IAM caller', httpIam],
    ['Function URL, IAM caller', functionUrlIam],
    ['REST API, IAM caller without userArn', (user: string) => restIamUserId(`AROAEXAMPLEROLEID:${user}`)],
    ['HTTP API or function URL, IAM caller without userArn', (userId: string) => httpIamUserId(`AIDAEXAMPLE${userId}`)],
  ])('%s: two principals never see each other\'s value; each is cached for its own principal', async (_, eventFor) => {
    const { handler, load } = cartCache()
    const alice: unknown = await invoke(handler, eventFor('alice'))
    const bob: unknown = await invoke(handler, eventFor('bob'))
    expect(alice).toMatch(/^cart of .*alice/)
    expect(bob).toMatch(/^cart of .*bob/)
    expect(await invoke(handler, eventFor('alice'))).toBe(alice)
    expect(await invoke(handler, eventFor('bob'))).toBe(bob)
    expect(load).toHaveBeenCalledTimes(2)
  })

  test('kinds of caller never meet: a JWT sub and an authorizer principalId of the same text are two principals', async () => {
    const { handler, load } = cartCache()
    await invoke(handler, httpJwt('same'))
    await invoke(handler, restLambdaAuthorizer('same'))
    expect(load).toHaveBeenCalledTimes(2)
  })

  test('an IAM caller without userArn keeps its entry when its access key rotates; another caller signing with a key alice once used is not served hers', async () => {
    const { handler, load } = cartCache()
    const alice = 'AROAEXAMPLEROLEID:alice'
    await invoke(handler, restIamUserId(alice, 'ASIAFIRSTKEY'))
    await invoke(handler, restIamUserId(alice, 'ASIASECONDKEY'))
    await invoke(handler, httpIamUserId(alice, 'ASIATHIRDKEY'))
    expect(load).toHaveBeenCalledTimes(1)
    expect(await invoke(handler, restIamUserId('AROAEXAMPLEROLEID:bob', 'ASIAFIRSTKEY'))).toBe('cart of iam-user-id:AROAEXAMPLEROLEID:bob')
    // A principal id and an ARN of the same text are two kinds of caller.
    expect(await invoke(handler, restIam(alice))).toBe(`cart of iam:${alice}`)
    expect(load).toHaveBeenCalledTimes(3)
  })

  test('no principal in the event: loaded for the request, never cached, and counted', async () => {
    const { handler, load, counters } = cartCache()
    expect(await invoke(handler, {})).toBe('cart of nobody')
    expect(await invoke(handler, { requestContext: {} })).toBe('cart of nobody')
    // An ALB's OIDC headers are the client's own unless the listener rule authenticates: no caller the lookup trusts.
    expect(await invoke(handler, { requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:::targetgroup/t/1' } }, headers: { 'x-amzn-oidc-identity': 'alice' } })).toBe('cart of nobody')
    expect(load).toHaveBeenCalledTimes(3)
    expect(counters.map((count) => [count.notCached, count.loads, count.hits])).toEqual([[1, 1, 0], [1, 1, 0], [1, 1, 0]])
  })

  test('a principal or key function that throws fails the invocation with its own error before the handler runs, loading nothing', async () => {
    const load = jest.fn((key: string) => key)
    const handle = jest.fn(() => Promise.resolve('ran'))
    const noAuthorizer = new TypeError("Cannot read properties of undefined (reading 'lambda')")
    const noPath = new TypeError("Cannot read properties of null (reading 'id')")
    const throwing = [
      dataCache({ name: 'principalThrows', key: () => 'k', load, ttl: '5m', scope: 'principal', principal: () => { throw noAuthorizer } }),
      dataCache({ name: 'keyThrows', key: () => { throw noPath }, load, ttl: '5m', scope: 'principal', principal: () => 'alice' }),
    ]
    const failures = await Promise.all(throwing.map((middleware) => invoke(middy().use(middleware).handler(handle)).catch((error: unknown) => error)))
    expect(failures).toEqual([noAuthorizer, noPath])
    expect(load).not.toHaveBeenCalled()
    expect(handle).not.toHaveBeenCalled()
  })

  test('a principal function answering an empty string names nobody: not cached', async () => {
    const load = jest.fn((key: string) => key)
    const handler = middy()
      .use(dataCache({ name: 'emptyPrincipal', key: () => 'k', load, ttl: '5m', scope: 'principal', principal: () => '' }))
      .handler((_event, context) => Promise.resolve(context.emptyPrincipal))
    await invoke(handler)
    await invoke(handler)
    expect(load).toHaveBeenCalledTimes(2)
  })

  test('no principal: set and delete do nothing, getMany loads each key for the request', async () => {
    const load = jest.fn((key: string) => key.toUpperCase())
    const handler = middy()
      .use(dataCache({ name: 'anonymous', load, ttl: '5m', scope: 'principal' }))
      .handler(async (_event, context) => {
        const handle = context.caches.anonymous
        await handle.set('a', 'written')
        return { many: await handle.getMany(['a', 'b']), deleted: await handle.delete('a'), lookup: await handle.lookup('a') }
      })
    expect(await invoke(handler, {})).toEqual({ many: ['A', 'B'], deleted: false, lookup: { value: 'A', outcome: Outcome.Miss, tier: Tier.Source } })
    expect(load).toHaveBeenCalledTimes(3)
  })

  test('no principal: getMany loads the distinct keys in one loadMany call, for the request only', async () => {
    const loadMany = jest.fn((keys: readonly string[], { principal }: { principal: string | undefined }) => Promise.resolve(keys.map((key) => `${key}@${principal ?? 'nobody'}`)))
    const load = jest.fn((key: string) => `${key} alone`)
    const counters: CacheCounters[] = []
    const handler = middy()
      .use(countersOf('anonymousBatch', counters))
      .use(dataCache({ name: 'anonymousBatch', load, loadMany, ttl: '5m', scope: 'principal' }))
      .handler((_event, context) => context.caches.anonymousBatch.getMany(['a', 'b', 'a']))
    expect(await invoke(handler, {})).toEqual(['a@nobody', 'b@nobody', 'a@nobody'])
    expect(await invoke(handler, {})).toEqual(['a@nobody', 'b@nobody', 'a@nobody'])
    expect(loadMany.mock.calls.map(([keys]) => keys)).toEqual([['a', 'b'], ['a', 'b']])
    expect(load).not.toHaveBeenCalled()
    expect(counters.map((count) => [count.loads, count.notCached, count.hits])).toEqual([[1, 2, 0], [1, 2, 0]])
    // Nothing an unidentified caller loaded is served to a caller.
    expect(await invoke(handler, { requestContext: { authorizer: { principalId: 'alice' } } })).toEqual(['a@authorizer:alice', 'b@authorizer:alice', 'a@authorizer:alice'])
  })

  test("the handle's set refuses freshness the engine would refuse, and a scope of the caller's own, with a caller or without one", async () => {
    const handler = middy()
      .use(dataCache({ name: 'checkedWrites', load: (id: string) => id, ttl: '5m', scope: 'principal' }))
      .handler(async (_event, context) => {
        const handle = context.caches.checkedWrites
        const messageOf = (written: Promise<unknown>) => written.then(() => 'stored', (error: unknown) => (error as Error).message)
        return {
          misspelt: await messageOf(handle.set('a', 'v', { ttL: '1m' } as unknown as EntryFreshness)),
          scoped: await messageOf(handle.set('a', 'v', { scope: {} } as unknown as EntryFreshness)),
          keyless: await messageOf(handle.delete(7 as unknown as string)),
        }
      })
    for (const event of [{ requestContext: { authorizer: { principalId: 'alice' } } }, {}]) {
      const { misspelt, scoped, keyless } = (await invoke(handler, event)) as Record<string, string>
      expect(misspelt).toMatch(/option "ttL" is not an option \(did you mean "ttl"\?\); known options: ttl, staleWhileRevalidate, staleIfError$/)
      expect(scoped).toMatch(/option "scope" is not an option/)
      expect(keyless).toMatch(/cache "checkedWrites" needs string keys; got number/)
    }
  })

  test('a principal function replaces the event fields, and a batch loader gets its principal', async () => {
    const loadMany = jest.fn((keys: readonly string[], { principal }: { principal: string | undefined }) => Promise.resolve(keys.map((key) => `${key}@${principal ?? '?'}`)))
    const handler = middy()
      .use(dataCache({ name: 'customPrincipal', load: (key: string) => key, loadMany, ttl: '5m', scope: 'principal', principal: (event: { tenant: string }) => event.tenant }))
      .handler((_event, context) => context.caches.customPrincipal.getMany(['a', 'b']))
    expect(await invoke(handler, { tenant: 't1' })).toEqual(['a@t1', 'b@t1'])
    expect(await invoke(handler, { tenant: 't2' })).toEqual(['a@t2', 'b@t2'])
    expect(await invoke(handler, { tenant: 't1' })).toEqual(['a@t1', 'b@t1'])
    expect(loadMany).toHaveBeenCalledTimes(2)
  })

  test('a batch loader that fails one key alone fails that key only, for its principal', async () => {
    const loadMany = (keys: readonly string[], { principal, fail }: DataBatchLoadContext) => {
      fail('b', new Error(`no b for ${principal ?? '?'}`))
      return Promise.resolve(keys.map((key) => `${key}@${principal ?? '?'}`))
    }
    const handler = middy()
      .use(dataCache({ name: 'oneFailsPrincipal', load: (key: string) => key, loadMany, ttl: '5m', scope: 'principal', principal: () => 'alice' }))
      .handler(async (_event, context) => {
        const cache = context.caches.oneFailsPrincipal
        const [many, a] = await Promise.allSettled([cache.getMany(['a', 'b', 'c']), cache.get('a')])
        return [many.status === 'rejected' ? String(many.reason) : 'resolved', a.status === 'fulfilled' ? a.value : 'rejected', await cache.get('c')]
      })
    const [manyFailed, a, c] = (await invoke(handler)) as string[]
    expect(manyFailed).toMatch(/no b for alice/)
    expect([a, c]).toEqual(['a@alice', 'c@alice'])
  })

  test("a batch loader's array of another length than the keys is refused, never read by position", async () => {
    const loadMany = (keys: readonly string[]) => Promise.resolve(keys.filter((key) => key !== 'b').map((key) => `row ${key}`))
    const handler = middy()
      .use(dataCache({ name: 'unalignedPrincipal', load: (key: string) => key, loadMany, ttl: '5m', scope: 'principal', principal: () => 'alice' }))
      .handler((_event, context) => context.caches.unalignedPrincipal.getMany(['a', 'b', 'c']))
    await expect(invoke(handler)).rejects.toThrow('loadMany of cache "unalignedPrincipal" answered 2 values for 3 keys')
  })

  test("errors, which logs keep, name the cache and the caller's key, never the caller", async () => {
    const caller = 'alice@example.com'
    const failing = (name: string, more: Record<string, unknown>) =>
      middy()
        .use(dataCache({ name, key: () => 'cart', ttl: '5m', scope: 'principal', load: () => Promise.reject(new Error('table unavailable')), ...more }))
        .handler(() => Promise.resolve('ran'))
    const loadFailed: unknown = await invoke(failing('cartDown', {}), restLambdaAuthorizer(caller)).catch((error: unknown) => error)
    const anonymous: unknown = await invoke(failing('cartDown', {}), {}).catch((error: unknown) => error)
    const timedOut: unknown = await invoke(failing('cartSlow', { load: () => new Promise(() => undefined), timeout: '20ms' }), httpJwt(caller)).catch((error: unknown) => error)
    const notGiven: unknown = await invoke(
      middy()
        .use(dataCache({ name: 'cartStranger', load: (key: string) => key, loadMany: (_keys, { fail }) => { fail('x', new Error('no')); return Promise.resolve([]) }, ttl: '5m', scope: 'principal' }))
        .handler((_event, context) => context.caches.cartStranger.getMany(['a', 'b'])),
      restIam(`arn:aws:iam::1:user/${caller}`),
    ).catch((error: unknown) => error)
    const numericPrincipal: unknown = await invoke(
      middy().use(dataCache({ name: 'cartNumeric', key: () => 'cart', load: () => 'v', ttl: '5m', scope: 'principal', principal: () => 412_345 as unknown as string })).handler(() => Promise.resolve('ran')),
    ).catch((error: unknown) => error)
    expect(loadFailed).toMatchObject({ message: 'middy-cache: loading "cart" of a caller for cache "cartDown" failed: table unavailable', key: 'cart', cache: 'cartDown' })
    expect(anonymous).toMatchObject({ message: 'middy-cache: loading "cart" of an unidentified caller for cache "cartDown" failed: table unavailable', key: 'cart' })
    expect(timedOut).toMatchObject({ message: 'middy-cache: loading "cart" of a caller for cache "cartSlow" timed out after 20 ms', key: 'cart' })
    expect(notGiven).toMatchObject({
      message: 'middy-cache: loading "a" of a caller, loaded together with "b" of a caller, for cache "cartStranger" failed: middy-cache: loadMany of cache "cartStranger" failed "x" of a caller, a key it was not given',
      key: 'a',
    })
    expect(numericPrincipal).toMatchObject({ message: 'middy-cache: principal of cache "cartNumeric" must return a string or undefined; got number' })
    // As the Lambda runtime logs an uncaught error: its message and its enumerable properties.
    for (const error of [loadFailed, anonymous, timedOut, notGiven, numericPrincipal]) {
      expect(`${String(error)} ${JSON.stringify(error)}`).not.toMatch(/alice|412345/)
    }
  })

  test("keys cannot be forged across principals: principal 'a:b' with key 'c' is not principal 'a' with key 'b:c'", async () => {
    const handler = middy()
      .use(
        dataCache({
          name: 'forge',
          key: (event: { who: string; key: string }) => event.key,
          load: (key: string, { principal }) => `${principal ?? ''}|${key}`,
          ttl: '5m',
          scope: 'principal',
          principal: (event) => event.who,
        }),
      )
      .handler((_event, context) => Promise.resolve(context.forge))
    expect(await invoke(handler, { who: 'a:b', key: 'c' })).toBe('a:b|c')
    expect(await invoke(handler, { who: 'a', key: 'b:c' })).toBe('a|b:c')
  })
})

describe('names in one chain: a dataCache shares its name with no other cache of the chain', () => {
  const table = `/${uniqueName('shop')}/table`
  const stripe = uniqueName('shop/stripe')
  beforeAll(async () => {
    await putParameters({ [table]: 'products' })
    await createSecret(stripe, 'sk_live_123')
  })

  const collision = (first: string, second: string, name: string): string =>
    `middy-cache: ${first} and ${second} in one chain share the name "${name}", which is each one's property on the context`
  type Variant = 'eager' | 'eager, no key for this event' | 'lazy'
  const dataCacheNamed = (name: string, variant: Variant) =>
    dataCache({
      name,
      ...(variant === 'lazy' ? {} : { key: () => (variant === 'eager' ? '42' : undefined) }),
      load: (id: string) => product(id),
      ttl: '5m',
    }) as MiddlewareObj
  const valuesCache = (name: 'config' | 'secrets'): MiddlewareObj =>
    name === 'config'
      ? (configCache({ parameters: { table }, prefetch: false, clientConfig: motoClientConfig() }) as MiddlewareObj)
      : (secretsCache({ secrets: { stripeKey: stripe }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }) as MiddlewareObj)
  const description = { config: 'configCache "config"', secrets: 'secretsCache "secrets"' } as const

  test.each([
    ['config', 'eager'],
    ['config', 'eager, no key for this event'],
    ['config', 'lazy'],
    ['secrets', 'eager'],
    ['secrets', 'eager, no key for this event'],
    ['secrets', 'lazy'],
  ] as const)('a dataCache named like the %s cache (%s): an error naming both, whichever runs first; the handler never runs', async (name, variant) => {
    const body = jest.fn(() => Promise.resolve('ran'))
    const dataFirst = middy().use(dataCacheNamed(name, variant)).use(valuesCache(name)).handler(body)
    await expect(invoke(dataFirst)).rejects.toThrow(collision(`dataCache "${name}"`, description[name], name))
    const dataLast = middy().use(valuesCache(name)).use(dataCacheNamed(name, variant)).handler(body)
    await expect(invoke(dataLast)).rejects.toThrow(collision(description[name], `dataCache "${name}"`, name))
    // Every invocation, not the first alone: warm, a dataCache first still takes the name before the values go on the context.
    await expect(invoke(dataFirst)).rejects.toThrow(collision(`dataCache "${name}"`, description[name], name))
    expect(body).not.toHaveBeenCalled()
  })

  test.each(['lazy', 'eager, no key for this event'] as const)(
    "a dataCache (%s) on a router's chain named like the configCache on its route's: an error on every invocation, warm ones too",
    async (variant) => {
      const body = jest.fn(() => Promise.resolve('ran'))
      const route = middy().use(valuesCache('config')).handler(body)
      // As @middy/http-router calls a route's handler: with the event and context the router's got.
      const router = middy()
        .use(dataCacheNamed('config', variant))
        .handler((event: unknown, context: Context) => route(event as never, context as never))
      for (let invocation = 0; invocation < 3; invocation++) {
        await expect(invoke(router)).rejects.toThrow(collision('dataCache "config"', description.config, 'config'))
      }
      expect(body).not.toHaveBeenCalled()
    },
  )

  test('a dataCache named like a configCache and a secretsCache that merge their values: the error names all three', async () => {
    const handler = middy()
      .use(configCache({ name: 'settings', parameters: { table }, prefetch: false, clientConfig: motoClientConfig() }))
      .use(secretsCache({ name: 'settings', secrets: { stripeKey: stripe }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .use(dataCacheNamed('settings', 'lazy'))
      .handler(() => Promise.resolve('ran'))
    await expect(invoke(handler)).rejects.toThrow(collision('configCache "settings", secretsCache "settings"', 'dataCache "settings"', 'settings'))
  })

  test('caches of names of their own, in either order: each value lands where it should, on every invocation', async () => {
    const chains = [
      middy().use(valuesCache('config')).use(valuesCache('secrets')).use(dataCacheNamed('product', 'eager')),
      middy().use(dataCacheNamed('product', 'eager')).use(valuesCache('secrets')).use(valuesCache('config')),
    ]
    for (const chain of chains) {
      const handler = chain.handler((_event, context) => {
        const { config, secrets, product: value } = context as unknown as { config: { table: string }; secrets: { stripeKey: string }; product: Product }
        return Promise.resolve([config.table, secrets.stripeKey, value])
      })
      for (let invocation = 0; invocation < 3; invocation++) expect(await invoke(handler)).toEqual(['products', 'sk_live_123', product('42')])
    }
  })

  test.each([
    ['eager', 'eager'],
    ['eager', 'lazy'],
    ['lazy', 'lazy'],
    ['eager, no key for this event', 'eager'],
  ] as const)('two dataCaches of one name (%s, %s): an error naming both and the name; in two chains of one module, each works', async (first, second) => {
    const body = jest.fn(() => Promise.resolve('ran'))
    const [one, other] = [dataCacheNamed('products', first), dataCacheNamed('products', second)]
    const both = middy().use(one).use(other).handler(body)
    await expect(invoke(both)).rejects.toThrow(collision('dataCache "products"', 'dataCache "products"', 'products'))
    expect(body).not.toHaveBeenCalled()
    const alone = [middy().use(one).handler(body), middy().use(other).handler(body)]
    for (const handler of alone) expect(await invoke(handler)).toBe('ran')
  })

  test.each([
    ['a string', 'on'],
    ['null', null],
    ['an object', { id: '7' }],
  ] as const)('%s already on the context under its name: an eager dataCache refuses to replace it, naming itself and the property; a lazy one leaves it', async (kind, value) => {
    const before: MiddlewareObj = {
      before: (request) => {
        ;(request.context as unknown as Record<string, unknown>).product = value
      },
    }
    const eager = middy().use(before).use(dataCacheNamed('product', 'eager')).handler(() => Promise.resolve('ran'))
    await expect(invoke(eager)).rejects.toThrow(
      `middy-cache: dataCache "product" cannot use context.product: it already holds ${kind} from something other than this suite's caches (another middleware, or the context the function was invoked with), which its value would replace; give the cache another name`,
    )
    const lazy = middy()
      .use(before)
      .use(dataCacheNamed('product', 'lazy'))
      .handler((_event, context) => Promise.resolve((context as unknown as Record<string, unknown>).product))
    expect(await invoke(lazy)).toEqual(value)
  })

  test('a context handed to every invocation, as a test may: the value the last invocation left is replaced, without an error', async () => {
    const handler = middy()
      .use(dataCache({ name: 'product', key: (event: { id?: string }) => event.id, load: (id: string) => product(id), ttl: '5m' }))
      .handler((_event, context) => Promise.resolve(context.product))
    const context = lambdaContext()
    expect(await invoke(handler, { id: '1' }, context)).toEqual(product('1'))
    expect(await invoke(handler, { id: '2' }, context)).toEqual(product('2'))
    expect(await invoke(handler, {}, context)).toBeUndefined()
    expect(await invoke(handler, { id: '3' }, context)).toEqual(product('3'))
  })
})

describe('options are checked at construction', () => {
  const load = (): number => 1
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['a misspelt option', { name: 'x', load, ttl: '1m', tll: '1m' }, /option "tll" is not an option \(did you mean "ttl"\?\)/],
    ['no name', { load, ttl: '1m' }, /option "name" is required/],
    ['the handles\' name', { name: 'caches', load, ttl: '1m' }, /option "name" cannot be "caches"/],
    ['a Lambda context property', { name: 'functionName', load, ttl: '1m' }, /option "name" cannot be "functionName"/],
    ['a name the engine refuses', { name: 'bad name!', load, ttl: '1m' }, /option "name" must be 1 to 64 letters/],
    ['no loader', { name: 'x', ttl: '1m' }, /option "load" is required/],
    ['no ttl', { name: 'x', load }, /option "ttl" is required/],
    ['a key that is not a function', { name: 'x', load, ttl: '1m', key: 'id' }, /option "key" must be a function/],
    ['an unknown scope', { name: 'x', load, ttl: '1m', scope: 'user' }, /option "scope" must be 'shared' or 'principal'/],
    ['a principal function without principal scope', { name: 'x', load, ttl: '1m', principal: () => 'p' }, /option "principal" applies only with scope: 'principal'/],
    ["a loader's loadMany that is not a function", { name: 'x', load: Object.assign(() => 1, { loadMany: 'no' }), ttl: '1m' }, /option "load.loadMany" must be a function/],
    ['prefetch (data caches have no keys to prefetch)', { name: 'x', load, ttl: '1m', prefetch: true }, /option "prefetch" is not an option/],
    ['an l2 that is not a store', { name: 'x', load, ttl: '1m', l2: { get: () => undefined } }, /option "l2" must be a store made by redisStore/],
    ['a bad settle budget', { name: 'x', load, ttl: '1m', settleBudget: 'soon' }, /option "settleBudget"/],
    // Past setTimeout's ceiling (2^31-1 ms), which off Lambda would fire at once.
    ['a settle budget longer than any invocation', { name: 'x', load, ttl: '1m', settleBudget: '25d' }, /option "settleBudget" must be from 0 ms to 900000 ms; got "25d"/],
    ['a bad retryAfterError', { name: 'x', load, ttl: '1m', retryAfterError: -1 }, /option "retryAfterError"/],
    // Only undefined is left for the engine's default: a null meets its validation.
    ['a null staleWhileRevalidate', { name: 'x', load, ttl: '1m', staleWhileRevalidate: null }, /option "staleWhileRevalidate" must be a number of seconds or a string such as .*; got null/],
    ['a null l1', { name: 'x', load, ttl: '1m', l1: null }, /option "l1" must be an object such as .*; got null/],
  ]
  test.each(cases)('%s', (_, options, message) => {
    expect(() => dataCache(options as unknown as Parameters<typeof dataCache>[0])).toThrow(message)
  })

  test("a settle budget up to Lambda's longest timeout, 15 minutes, is accepted", () => {
    expect(() => dataCache({ name: 'x', load, ttl: '1m', settleBudget: '15m' })).not.toThrow()
  })

  test('registers its cache as data, not secret', () => {
    dataCache({ name: 'registered', load, ttl: '1m' })
    expect(registeredCaches().find((registration) => registration.cache.name === 'registered')).toMatchObject({ kind: CacheKind.Data, secret: false })
  })
})
