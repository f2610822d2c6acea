import middy, { type MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { putParameters, uniqueName } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { captureOutput, samplesOf, type Captured } from '../support/emf.js'
import { setEnv } from '../support/env.js'
import { invoke } from '../support/invoke.js'
import { lambdaContext } from '../support/lambda-context.js'
import { forgetProcessWideState } from '../support/process-state.js'

/**
 * Two copies of the package in one process, as an ESM import beside a CommonJS require of it, or a
 * bundle that inlines it twice, load them: what one copy registers or counts, the other sees.
 */

type Copy = typeof import('../../entrypoints/index.js') &
  Pick<typeof import('../../middlewares/shared/invocation.js'), 'invocationOf'> &
  Pick<typeof import('../../middlewares/shared/redacted.js'), 'holderHiding'>

/** One more copy of the package's modules, beside those loaded before it. */
const loadCopy = (): Copy => {
  let copy: Copy | undefined
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    copy = {
      ...(require('../../entrypoints/index.js') as typeof import('../../entrypoints/index.js')),
      invocationOf: (require('../../middlewares/shared/invocation.js') as typeof import('../../middlewares/shared/invocation.js')).invocationOf,
      holderHiding: (require('../../middlewares/shared/redacted.js') as typeof import('../../middlewares/shared/redacted.js')).holderHiding,
    }
    /* eslint-enable @typescript-eslint/no-require-imports */
  })
  if (copy === undefined) throw new Error('isolateModules did not run')
  return copy
}

const namespace = 'Shop'
const service = 'orders'

let first: Copy
let second: Copy
let output: Captured
let restoreEnv: () => void
beforeEach(() => {
  // Each test a new environment, in which two copies load.
  forgetProcessWideState()
  first = loadCopy()
  second = loadCopy()
  restoreEnv = setEnv({ AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', POWERTOOLS_DEV: undefined, POWERTOOLS_METRICS_DISABLED: undefined, POWERTOOLS_METRICS_NAMESPACE: undefined })
  output = captureOutput()
})
afterEach(() => {
  output.restore()
  restoreEnv()
})

const samples = (name: string, dimensions: Record<string, string> = {}): number[] => samplesOf(output.blobs(), { namespace, name, dimensions: { service, ...dimensions } })

describe('two copies of the package in one process', () => {
  test('the copies are apart, as the rest of this file needs them', () => {
    expect(second.dataCache).not.toBe(first.dataCache)
  })

  test("a cache made by one copy is counted by the other's cacheMetrics and refreshed by its warm-up ping", async () => {
    const load = jest.fn((id: string) => `product ${id}`)
    const handler = middy()
      .use(second.warmup())
      .use(second.cacheMetrics({ namespace, service }))
      .use(first.dataCache({ name: 'products', key: () => 'a', load, ttl: '1m' }))
      .handler(() => Promise.resolve('handled'))

    expect(await invoke(handler)).toBe('handled')
    expect(samples('Gets', { cache: 'products' })).toEqual([1])
    // Its entry stops being fresh before the next ping (ttl 1m, interval 5m): the ping reloads it.
    expect(await invoke(handler, { warmer: true })).toMatchObject({ warmed: true, refreshed: 1 })
    expect(load).toHaveBeenCalledTimes(2)
  })

  test("a warm-up ping answered by one copy's warmup is written by the other's cacheMetrics placed after it", async () => {
    const handler = middy()
      .use(first.warmup())
      .use(second.cacheMetrics({ namespace, service }))
      .handler(() => Promise.resolve('handled'))

    expect(await invoke(handler, { warmer: true })).toMatchObject({ warmed: true })
    expect(samples('WarmupPing')).toEqual([1])
  })

  test('one request has one invocation state, and the environment one cold start, whichever copy counts it', async () => {
    const handlerOf = (copy: Copy) =>
      middy()
        .use(copy.cacheMetrics({ namespace, service }))
        .handler(() => Promise.resolve('handled'))
    await invoke(handlerOf(first))
    await invoke(handlerOf(second))
    expect(samples('ColdStart')).toEqual([1])

    const request = { context: {} }
    expect(second.invocationOf(request)).toBe(first.invocationOf(request))
  })

  test('README names the keys on globalThis under which the copies meet', async () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8')
    const documented = /under `Symbol\.for\('(middy-cache\.)<name>(\.v\d+)'\)` keys/.exec(readme)
    expect(documented).not.toBeNull()
    const [, prefix = '', version = ''] = documented ?? []
    await invoke(middy().use(first.warmup()).use(second.cacheMetrics({ namespace, service })).handler(() => Promise.resolve('handled')))
    const shared = Object.getOwnPropertySymbols(globalThis).flatMap((key) => Symbol.keyFor(key) ?? []).filter((key) => key.startsWith(prefix))
    expect(shared.length).toBeGreaterThan(0)
    expect(shared.filter((key) => !key.endsWith(version))).toEqual([])
  })

  test("names are checked across the copies: one's configCache merges with the other's, a property both put there is refused, and so is a dataCache of the name", async () => {
    const prefix = `/${uniqueName('copies')}`
    await putParameters({ [`${prefix}/table`]: 'products', [`${prefix}/region`]: 'eu-west-1' })
    const config = (copy: Copy, parameters: Record<string, string>): MiddlewareObj =>
      copy.configCache({ parameters, prefetch: false, clientConfig: motoClientConfig() }) as MiddlewareObj
    const readConfig = (_event: unknown, context: Context): Promise<unknown> => Promise.resolve({ ...(context as unknown as { config: object }).config })

    const merged = middy().use(config(first, { table: `${prefix}/table` })).use(config(second, { region: `${prefix}/region` })).handler(readConfig)
    const reused = lambdaContext()
    for (const context of [lambdaContext(), reused, reused]) expect(await invoke(merged, {}, context)).toEqual({ table: 'products', region: 'eu-west-1' })

    const sameProperty = middy().use(config(first, { table: `${prefix}/table` })).use(config(second, { table: `${prefix}/region` })).handler(readConfig)
    await expect(invoke(sameProperty)).rejects.toThrow(`(parameter "${prefix}/region") both put a value on context.config.table`)

    const data = first.dataCache({ name: 'config', key: () => 'a', load: (id: string) => id, ttl: '1m' }) as MiddlewareObj
    for (const chain of [middy().use(data).use(config(second, { table: `${prefix}/table` })), middy().use(config(second, { table: `${prefix}/table` })).use(data)]) {
      await expect(invoke(chain.handler(readConfig))).rejects.toThrow('in one chain share the name "config"')
    }
  })

  test('values one copy hid on the context stay hidden when the other adds to them', () => {
    const held = first.holderHiding(undefined, new Set(['password']))
    Object.assign(held, { password: 'hunter2', table: 'products' })
    const added = second.holderHiding(held, new Set(['apiKey']))
    Object.assign(added, { apiKey: 'k-123' })
    expect(JSON.stringify(added)).toBe('{"password":"[redacted]","table":"products","apiKey":"[redacted]"}')
  })
})
