import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import secretsManager from '@middy/secrets-manager'
import ssm from '@middy/ssm'
import { getParameter } from '@aws-lambda-powertools/parameters/ssm'
import { getSecret } from '@aws-lambda-powertools/parameters/secrets'
import { configCache, secretsCache } from '../entrypoints/index.js'
import { createSecret, putParameters, startMoto } from '../test/harness/index.js'
import { lambdaContext } from '../test/support/lambda-context.js'
import { measureSideBySide, writeResult } from './support/measure.js'
import { formatNs, infoRow, type Row } from './support/results.js'

type InvokeHandler = (event: unknown, context: Context) => Promise<unknown>

/**
 * @middy/secrets-manager 6 caches through its own @middy/util 6, whose refresh timer is not unref'd:
 * left alone it keeps this process up for `cacheExpiry`, then refreshes against the stopped moto and
 * raises an unhandled rejection. Its util's clearCache clears those timers.
 */
const clearMiddySecretsManagerCache = async (): Promise<void> => {
  const resolve = createRequire(createRequire(import.meta.url).resolve('@middy/secrets-manager')).resolve
  const util = (await import(pathToFileURL(resolve('@middy/util')).href)) as { clearCache?: unknown }
  const { clearCache } = util
  if (typeof clearCache !== 'function') throw new Error("bench: @middy/secrets-manager's @middy/util has no clearCache")
  Reflect.apply(clearCache, util, [])
}

/**
 * The least a middleware that puts cached values on the context can do per invocation: per-request
 * state made by the first such middleware (in the request, as Lambda Managed Instances require),
 * one clock reading shared through it, a freshness check and a values object set on the context.
 * Two of them, as config and secrets are two middlewares, show where the bar lies on this machine.
 */
const leastWork = Symbol('least-work')
interface LeastWorkRequest {
  readonly context: object
  [leastWork]?: { readonly now: number; hits: number }
}
const leastContextMiddleware = (property: string, values: Readonly<Record<string, string>>, freshUntil: number) => {
  const count = Object.keys(values).length
  return {
  before: (request: LeastWorkRequest): undefined => {
    let state = request[leastWork]
    if (state === undefined) {
      state = { now: performance.now(), hits: 0 }
      request[leastWork] = state
    }
    if (state.now >= freshUntil) throw new Error('bench: the least-work values expired')
    state.hits += count
    Reflect.set(request.context, property, values)
    return undefined
  },
  after: (request: LeastWorkRequest): undefined => {
    if (request[leastWork] === undefined) throw new Error('bench: no least-work state')
    return undefined
  },
  }
}

const invocations = 20_000
const rounds = 7
const bar = { maxRatioToBare: 1.15 }
const event = {}

/**
 * A warm invocation with two parameters and one secret on the context, every value already cached:
 * a bare Middy handler, this suite, @middy/ssm + @middy/secrets-manager, and Powertools' getters in
 * the handler, side by side against the same moto_server.
 */
export const benchWarmInvocation = async (): Promise<Row[]> => {
  const moto = await startMoto()
  const saved = { ...process.env }
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' })
  try {
    await putParameters({ '/bench/table': 'products', '/bench/currency': 'EUR' }, { endpoint: moto.endpoint })
    await createSecret('bench/stripe', 'sk_test_123', { endpoint: moto.endpoint })
    const context = lambdaContext(900_000)

    const bare = middy().handler((_event, lambda) => Promise.resolve(lambda.functionName))
    const suite = middy()
      .use(configCache({ parameters: { table: '/bench/table', currency: '/bench/currency' }, ttl: '5m' }))
      .use(secretsCache({ secrets: { stripeKey: 'bench/stripe' }, ttl: '5m' }))
      .handler((_event, lambda) => Promise.resolve(lambda.config.table + lambda.config.currency + lambda.secrets.stripeKey))
    const middyPackages = middy()
      .use(ssm({ fetchData: { table: '/bench/table', currency: '/bench/currency' }, setToContext: true, cacheExpiry: 300_000 }))
      .use(secretsManager({ fetchData: { stripeKey: 'bench/stripe' }, setToContext: true, cacheExpiry: 300_000 }))
      .handler((_event, lambda) => {
        const fetched = lambda as unknown as Record<string, unknown>
        return Promise.resolve(String(fetched.table) + String(fetched.currency) + String(fetched.stripeKey))
      })
    const freshUntil = performance.now() + 3_600_000
    const leastWorkPair = middy()
      .use(leastContextMiddleware('config', { table: 'products', currency: 'EUR' }, freshUntil))
      .use(leastContextMiddleware('secrets', { stripeKey: 'sk_test_123' }, freshUntil))
      .handler((_event, lambda) => {
        const { config, secrets } = lambda as unknown as { config: Record<string, string>; secrets: Record<string, string> }
        return Promise.resolve(String(config.table) + String(config.currency) + String(secrets.stripeKey))
      })
    const powertools = middy().handler(async () => {
      const [table, currency, stripeKey] = await Promise.all([
        getParameter('/bench/table', { maxAge: 300 }),
        getParameter('/bench/currency', { maxAge: 300 }),
        getSecret('bench/stripe', { maxAge: 300 }),
      ])
      return `${String(table)}${String(currency)}${String(stripeKey)}`
    })

    // Middy types a handler's context as the enriched one; the runtime hands every contender a plain Context.
    const contenders: { name: string; handler: InvokeHandler }[] = [
      { name: 'bare Middy handler', handler: bare },
      { name: 'middy-cache config+secrets', handler: suite as unknown as InvokeHandler },
      { name: '@middy/ssm + secrets-manager', handler: middyPackages as unknown as InvokeHandler },
      { name: 'Powertools getters', handler: powertools },
      { name: 'least work, two middlewares', handler: leastWorkPair },
    ]
    for (const { name, handler } of contenders) {
      const answer = await handler(event, context)
      if (name !== 'bare Middy handler' && answer !== 'productsEURsk_test_123') throw new Error(`bench: ${name} answered ${String(answer)}`)
    }
    const measured = await measureSideBySide(
      contenders.map(({ name, handler }) => ({
        name,
        run: async () => {
          for (let invocation = 0; invocation < invocations; invocation++) await handler(event, context)
        },
      })),
      invocations,
      rounds,
    )
    const bareNs = measured[0]?.nsPerOp ?? Number.NaN
    const rows = measured.map(({ name, nsPerOp }) => ({ name, nsPerInvocation: nsPerOp, ratioToBare: nsPerOp / bareNs }))
    const suiteRatio = rows[1]?.ratioToBare ?? Number.NaN
    const path = writeResult('warm-invocation.json', {
      bench: 'warm-invocation',
      node: process.version,
      date: new Date().toISOString(),
      invocationsPerRound: invocations,
      rounds,
      rows,
      bar,
      withinBar: suiteRatio <= bar.maxRatioToBare,
    })
    console.log(`Warm invocation, 2 parameters + 1 secret on the context, median of ${rounds} rounds of ${invocations} (${process.version})`)
    for (const row of rows) console.log(`  ${row.name.padEnd(30)} ${row.nsPerInvocation.toFixed(0).padStart(6)} ns  ${row.ratioToBare.toFixed(2)}x bare`)
    console.log(`  bar: middy-cache <= ${bar.maxRatioToBare}x bare: ${suiteRatio <= bar.maxRatioToBare ? 'met' : 'NOT met'}`)
    console.log(`  written to ${path}`)
    const section = 'Warm invocation, 2 parameters + 1 secret cached, per invocation'
    const suiteNs = rows[1]?.nsPerInvocation ?? Number.NaN
    const against = (index: number): { theirs: string; ratio: number } => {
      const other = rows[index]?.nsPerInvocation ?? Number.NaN
      return { theirs: `${formatNs(other)} (${(other / bareNs).toFixed(2)}x bare)`, ratio: suiteNs / other }
    }
    const middyPackagesRow = against(2)
    const powertoolsRow = against(3)
    const leastWorkRow = against(4)
    return [
      { section, comparison: 'middy-cache configCache + secretsCache vs a bare Middy handler', ours: formatNs(suiteNs), theirs: formatNs(bareNs), ratio: suiteRatio, bar: `<= ${bar.maxRatioToBare}x`, met: suiteRatio <= bar.maxRatioToBare },
      infoRow(section, 'vs @middy/ssm 7 + @middy/secrets-manager 6', formatNs(suiteNs), middyPackagesRow.theirs, middyPackagesRow.ratio),
      infoRow(section, 'vs Powertools getParameter/getSecret in the handler', formatNs(suiteNs), powertoolsRow.theirs, powertoolsRow.ratio),
      infoRow(section, 'vs two minimal hand-written context middlewares (per-request state, one clock read)', formatNs(suiteNs), leastWorkRow.theirs, leastWorkRow.ratio),
    ]
  } finally {
    await clearMiddySecretsManagerCache()
    process.env = saved
    await moto.stop()
  }
}
