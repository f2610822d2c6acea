import middy, { type MiddlewareObj } from '@middy/core'
import { dataCache } from '../../middlewares/data-cache.js'
import { invocationOf } from '../../middlewares/shared/invocation.js'
import type { CacheCounters } from '../../src/index.js'
import { closeEnvironments, environments } from '../integration/l2-support.js'
import { invoke } from '../support/invoke.js'

afterEach(async () => {
  await closeEnvironments()
})

const countersOf = (cache: string, seen: CacheCounters[]): MiddlewareObj => ({
  after: (request) => {
    seen.push(invocationOf(request).scope.countersFor(cache))
  },
})

interface ProfileEvent {
  readonly id: string
  readonly user?: string
}

/** One Lambda environment's handler: its own dataCache, its own connection to the shared Redis. */
const environment = (store: ReturnType<ReturnType<typeof environments>['store']>, scope: 'shared' | 'principal') => {
  const load = jest.fn((id: string, { principal }: { principal: string | undefined }) => Promise.resolve({ id, for: principal ?? 'everyone' }))
  const counters: CacheCounters[] = []
  const handler = middy<ProfileEvent>()
    .use(countersOf('profiles', counters))
    .use(
      dataCache({
        name: 'profiles',
        key: (event: ProfileEvent) => event.id,
        load,
        ttl: '5m',
        l2: store,
        scope,
        ...(scope === 'principal' ? { principal: (event: ProfileEvent) => event.user } : {}),
      }),
    )
    .handler((_event, context) => Promise.resolve(context.profiles))
  return { handler, load, counters }
}

describe('dataCache with a shared tier', () => {
  test('a second environment finds in L2 what the first loaded', async () => {
    const env = environments()
    const first = environment(env.store(), 'shared')
    const second = environment(env.store(), 'shared')
    expect(await invoke(first.handler, { id: '1' })).toEqual({ id: '1', for: 'everyone' })
    expect(await invoke(second.handler, { id: '1' })).toEqual({ id: '1', for: 'everyone' })
    expect(second.load).not.toHaveBeenCalled()
    expect(second.counters[0]).toMatchObject({ l2Hits: 1, loads: 0 })
  })

  test("per-principal values in L2 are never served to another principal, nor without one", async () => {
    const env = environments()
    const first = environment(env.store(), 'principal')
    const second = environment(env.store(), 'principal')
    expect(await invoke(first.handler, { id: '1', user: 'alice' })).toEqual({ id: '1', for: 'alice' })
    expect(await invoke(second.handler, { id: '1', user: 'bob' })).toEqual({ id: '1', for: 'bob' })
    expect(await invoke(second.handler, { id: '1', user: 'alice' })).toEqual({ id: '1', for: 'alice' })
    expect(await invoke(second.handler, { id: '1' })).toEqual({ id: '1', for: 'everyone' })
    expect(second.load).toHaveBeenCalledTimes(2)
    expect(second.counters.map((counters) => counters.l2Hits)).toEqual([0, 1, 0])
    expect(second.counters[2]).toMatchObject({ notCached: 1, l2Misses: 0 })
  })

  test("a per-principal value L2 cannot store is warned about by its key and where it went wrong, never by the caller's identity", async () => {
    const env = environments()
    const warnings: string[] = []
    const handler = middy<ProfileEvent>()
      .use(
        dataCache({
          name: 'profiles',
          key: (event: ProfileEvent) => event.id,
          load: (id: string) => ({ id, seenAt: new Date(0) }),
          ttl: '5m',
          l2: env.store(),
          scope: 'principal',
          principal: (event: ProfileEvent) => event.user,
          logger: { warn: (message: string) => { warnings.push(message) } },
        }),
      )
      .handler((_event, context) => Promise.resolve(context.profiles))
    await invoke(handler, { id: '1', user: 'alice-4711' })
    expect(warnings).toEqual([expect.stringContaining('cache "profiles')])
    expect(warnings[0]).toContain('key "1" of a caller: value.seenAt is a Date')
    expect(warnings[0]).not.toContain('alice')
  })

  test('per-principal getMany without a principal loads in one batch and never reads nor writes L2', async () => {
    const env = environments()
    const loadMany = jest.fn((ids: readonly string[], { principal }: { principal: string | undefined }) => Promise.resolve(ids.map((id) => ({ id, for: principal ?? 'nobody' }))))
    const counters: CacheCounters[] = []
    const handler = middy<ProfileEvent>()
      .use(countersOf('profiles', counters))
      .use(dataCache({ name: 'profiles', load: (id: string) => ({ id, for: 'one by one' }), loadMany, ttl: '5m', l2: env.store(), scope: 'principal', principal: (event: ProfileEvent) => event.user }))
      .handler((_event, context) => context.caches.profiles.getMany(['1', '2', '1']))
    expect(await invoke(handler, { id: '' })).toEqual([{ id: '1', for: 'nobody' }, { id: '2', for: 'nobody' }, { id: '1', for: 'nobody' }])
    expect(loadMany.mock.calls.map(([ids]) => ids)).toEqual([['1', '2']])
    expect(counters[0]).toMatchObject({ loads: 1, notCached: 2, l2Operations: 0, l2Misses: 0, l2Skipped: 0 })
  })

  test("a shared cache of the same name on the same Redis never reads a caller's value, even by a key that spells the caller's", async () => {
    const env = environments()
    const perCaller = environment(env.store(), 'principal')
    const shared = environment(env.store(), 'shared')
    expect(await invoke(perCaller.handler, { id: 'me', user: 'alice' })).toEqual({ id: 'me', for: 'alice' })
    expect(await invoke(shared.handler, { id: '5:alice:me' })).toEqual({ id: '5:alice:me', for: 'everyone' })
    expect(shared.load).toHaveBeenCalledTimes(1)
    expect(shared.counters[0]).toMatchObject({ l2Hits: 0, loads: 1 })
    expect(await invoke(perCaller.handler, { id: 'me', user: 'alice' })).toEqual({ id: 'me', for: 'alice' })
  })
})
