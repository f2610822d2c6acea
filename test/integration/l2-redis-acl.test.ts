import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { redisStore, type L2Store, type RedisStoreOptions } from '../../entrypoints/redis.js'
import { createCache, createScope } from '../../src/index.js'
import { LOOPBACK, startRedis, type RedisHandle } from '../harness/index.js'
import { codeBlocksIn } from '../support/markdown-code-block.js'
import { patientTimeout, recordingLogger } from './l2-support.js'

/**
 * The ACL user the README tells to make for the store, run as it is written there: every feature works
 * with exactly its commands, and without any one of them the store still serves (what it cannot do
 * is skipped) and a warning names what is missing.
 */

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8')
const aclLines = (codeBlocksIn(readme, 'redis')[0]?.code ?? '').split('\n').filter((line) => line.startsWith('ACL SETUSER '))
/** The README's two commands: the user, and what cluster mode adds. */
const [userRule, clusterRule] = aclLines.map((line) => line.slice('ACL SETUSER '.length).split(' '))
const user = userRule?.[0] ?? ''
const password = userRule?.find((rule) => rule.startsWith('>'))?.slice(1) ?? ''
const allowed = (rules: readonly string[] | undefined): string[] => (rules ?? []).filter((rule) => rule.startsWith('+')).map((rule) => rule.slice(1))

test("the README's ACL user: one command for the user, one for what cluster mode adds", () => {
  expect(aclLines).toHaveLength(2)
  expect(user).toBe('middy-cache')
  expect(allowed(userRule)).toEqual(['get', 'set', 'del', 'pttl', 'incr', 'eval', 'info'])
  expect(clusterRule?.[0]).toBe(user)
  expect(allowed(clusterRule)).toEqual(['cluster|slots'])
})

const opened: L2Store[] = []
afterEach(async () => {
  jest.restoreAllMocks()
  await Promise.all(opened.splice(0).map((store) => store.close()))
})

/** What the workload saw: every value it was served, and what was said about the store. */
interface Run {
  readonly values: string[]
  readonly l2Errors: number
  readonly loads: number
  readonly warnings: string[]
}

/**
 * Two environments use every feature, with the store's default prefix (which the README's key
 * pattern names): a miss written to L2 and read by the other, a stampede on one key across both
 * (the lease), set and delete reaching the other, and clear() moving the namespace version on.
 */
const workload = async (connection: () => Pick<RedisStoreOptions, 'url' | 'cluster'>): Promise<Run> => {
  const logger = recordingLogger()
  const consoleWarnings: string[] = []
  jest.spyOn(console, 'warn').mockImplementation((message: unknown) => {
    consoleWarnings.push(String(message))
  })
  const name = `acl${Math.random().toString(36).slice(2, 8)}`
  let loads = 0
  let generation = 1
  const load = async (key: string): Promise<string> => {
    loads++
    await sleep(50)
    return `${key}@${generation}`
  }
  const environment = (): L2Store => {
    // Redis answers every command, if only to refuse it: a timeout met would be a busy machine's, not the store's.
    const store = redisStore({ ...connection(), timeout: patientTimeout, versionCheck: 0, lease: { ttl: '5s', wait: '2s' }, breaker: { failures: 3, coolDown: '1h' } })
    opened.push(store)
    return store
  }
  const [storeOfA, storeOfB] = [environment(), environment()]
  const a = createCache({ name, load, ttl: '1m', l2: storeOfA, logger })
  const b = createCache({ name, load, ttl: '1m', l2: storeOfB, logger })
  const values: string[] = []
  const [first, second, third, fourth, fifth, sixth] = [createScope(), createScope(), createScope(), createScope(), createScope(), createScope()]
  values.push(await a.get('written', { scope: first }))
  values.push(...(await Promise.all([a.get('stampede', { scope: first }), b.get('stampede', { scope: second })])))
  values.push((await b.lookup('written', { scope: second })).value)
  await a.set('set', 'set by a', { scope: third })
  values.push(await b.get('set', { scope: fourth }))
  await a.delete('set', { scope: third })
  generation = 2
  values.push(await createCache({ name, load, ttl: '1m', l2: storeOfB, logger }).get('set', { scope: fourth }))
  await a.clear({ scope: fifth })
  values.push(await b.get('written', { scope: sixth }))
  return {
    values,
    l2Errors: [first, second, third, fourth, fifth, sixth].reduce((sum, scope) => sum + scope.countersFor(name).l2Errors, 0),
    loads,
    warnings: [...logger.messages, ...consoleWarnings],
  }
}

/** What the workload is served whatever the store can do: never another value. */
const servedAsLoaded = ['written@1', 'stampede@1', 'stampede@1', 'written@1']
/**
 * What it may be served next, by what the store can do: what was set, or loaded again when it could
 * not be written; after the delete, what was set when the delete did not reach L2; after clear(),
 * what the other environment held when the version could not move on.
 */
const servedLater = [['set by a', 'set@1'], ['set@2', 'set by a'], ['written@2', 'written@1']]
/** The keys and values of the workload: no warning may quote one. */
const keysAndValues = /written|stampede|set by a|set@/

describe("a Redis whose application user is the README's", () => {
  let redis: RedisHandle
  let admin: Redis
  beforeAll(async () => {
    // The default user may do all: the harness's readiness probe, and the test's admin.
    redis = await startRedis()
    admin = new Redis(redis.url, { disconnectTimeout: 100 })
  })
  afterAll(async () => {
    admin.disconnect()
    await redis.stop()
  })
  beforeEach(async () => {
    await admin.call('ACL', 'DELUSER', user)
    await admin.call('ACL', 'SETUSER', ...(userRule ?? []))
  })
  const asUser = () => ({ url: redis.url.replace('redis://', `redis://${user}:${password}@`) })

  test('with exactly its commands: values, leases, set, delete and clear() all reach the other environment; nothing fails, nothing is warned of', async () => {
    const run = await workload(asUser)
    expect(run.values).toEqual([...servedAsLoaded, 'set by a', 'set@2', 'written@2'])
    // written, stampede (one load for both environments), set after its delete, written after clear().
    expect(run.loads).toBe(4)
    expect(run.l2Errors).toBe(0)
    expect(run.warnings).toEqual([])
  })

  test.each([
    ['get', 'GET'],
    ['set', 'SET'],
    ['del', 'DEL'],
    ['pttl', 'PTTL'],
    ['incr', 'INCR'],
    ['eval', 'EVAL'],
  ])('without %s: every value is still the loader\'s or the one set, and a warning names %s', async (command, named) => {
    await admin.call('ACL', 'SETUSER', user, `-${command}`)
    const run = await workload(asUser)
    expect(run.values.slice(0, 4)).toEqual(servedAsLoaded)
    run.values.slice(4).forEach((value, index) => {
      expect(servedLater[index]).toContain(value)
    })
    expect(run.warnings).toEqual(expect.arrayContaining([expect.stringContaining(`Redis at ${redis.host}:${redis.port} does not let the store's ACL user use ${named} (NOPERM)`)]))
    expect(run.warnings.filter((warning) => keysAndValues.test(warning))).toEqual([])
  })

  test('without info: ioredis skips its ready check, says so, and every feature works', async () => {
    await admin.call('ACL', 'SETUSER', user, '-info')
    const run = await workload(asUser)
    expect(run.values).toEqual([...servedAsLoaded, 'set by a', 'set@2', 'written@2'])
    expect(run.l2Errors).toBe(0)
    expect(run.warnings).toEqual(expect.arrayContaining([expect.stringContaining("Skipping the ready check because INFO command fails: \"NOPERM this user has no permissions to run the 'info' command\"")]))
  })
})

describe("a cluster whose application user is the README's, cluster line included", () => {
  let redis: RedisHandle
  let admin: Redis
  beforeAll(async () => {
    redis = await startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', LOOPBACK] })
    admin = new Redis(redis.url, { disconnectTimeout: 100 })
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
    for (let attempt = 0; attempt < 100 && !String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'); attempt++) await sleep(50)
  })
  afterAll(async () => {
    admin.disconnect()
    await redis.stop()
  })
  beforeEach(async () => {
    await admin.call('ACL', 'DELUSER', user)
    await admin.call('ACL', 'SETUSER', ...(userRule ?? []))
    await admin.call('ACL', 'SETUSER', ...(clusterRule ?? []))
  })
  const asUser = () => ({ cluster: { nodes: [{ host: redis.host, port: redis.port }], options: { redisOptions: { username: user, password } } } })

  test('with exactly its commands: every feature works through ioredis Cluster', async () => {
    const run = await workload(asUser)
    expect(run.values).toEqual([...servedAsLoaded, 'set by a', 'set@2', 'written@2'])
    expect(run.loads).toBe(4)
    expect(run.l2Errors).toBe(0)
    expect(run.warnings).toEqual([])
  })

  test('without cluster|slots: the loader serves, and a warning names CLUSTER|SLOTS', async () => {
    await admin.call('ACL', 'SETUSER', user, '-cluster|slots')
    const run = await workload(asUser)
    expect(run.values.slice(0, 4)).toEqual(servedAsLoaded)
    run.values.slice(4).forEach((value, index) => {
      expect(servedLater[index]).toContain(value)
    })
    expect(run.warnings).toEqual(expect.arrayContaining([expect.stringContaining(`Redis at ${redis.host}:${redis.port} does not let the store's ACL user use CLUSTER|SLOTS (NOPERM)`)]))
  })
})
