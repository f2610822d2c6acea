import { pathToFileURL } from 'node:url'
import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import secretsManager from '@middy/secrets-manager'
import ssm from '@middy/ssm'
import { getParameter } from '@aws-lambda-powertools/parameters/ssm'
import { getSecret } from '@aws-lambda-powertools/parameters/secrets'
import { configCache, secretsCache } from '../entrypoints/index.js'
import { lambdaContexts } from '../test/support/lambda-context.js'
import { measureRatio } from './support/measure.js'

type InvokeHandler = (event: unknown, context: Context) => Promise<unknown>

/** What every contender but the bare handler must answer: the three values it read. */
const expectedAnswer = 'productsEURsk_test_123'
export const parameters = { '/bench/table': 'products', '/bench/currency': 'EUR' } as const
export const secret = { name: 'bench/stripe', value: 'sk_test_123' } as const

/**
 * The least a middleware that puts cached values on the context can do per invocation, as one
 * written by hand over a module-level map does it: one reading of the monotonic clock (DESIGN rule
 * 1), a freshness check, and a values object set on the context. Two of them, as config and secrets
 * are two middlewares, show where the bar lies on this machine.
 */
type PlaceOnContext = (context: Record<string, unknown>, values: Readonly<Record<string, string>>) => void
/** Each names its property in code of its own: one shared `context[property]` would see two names, which V8 looks up the generic way. */
const placeConfig: PlaceOnContext = (context, values) => {
  context.config = values
}
const placeSecrets: PlaceOnContext = (context, values) => {
  context.secrets = values
}
const { performance: performanceOfProcess } = globalThis
const leastContextMiddleware = (place: PlaceOnContext, values: Readonly<Record<string, string>>, freshUntil: number) => ({
  before: (request: { readonly context: Record<string, unknown> }): undefined => {
    if (performanceOfProcess.now() >= freshUntil) throw new Error('bench: the least-work values expired')
    place(request.context, values)
    return undefined
  },
  after: (): undefined => undefined,
})

const doNothing = (): { before: () => undefined; after: () => undefined } => ({ before: () => undefined, after: () => undefined })

/**
 * The bare handler's answer, built as every contender's is: three strings read off the context and
 * joined. The handlers then do the same work, so a ratio to bare measures only how the values got
 * there (joining them alone takes about 0.02x of a bare invocation).
 */
const joinedFromContext = (_event: unknown, lambda: Context): Promise<string> => Promise.resolve(lambda.functionName + lambda.functionVersion + lambda.awsRequestId)

/** Reads the three values off the context, where a middleware put them. */
const fromContext = (_event: unknown, lambda: Context): Promise<string> => {
  const { config, secrets } = lambda as unknown as { config: Record<string, string>; secrets: Record<string, string> }
  return Promise.resolve(String(config.table) + String(config.currency) + String(secrets.stripeKey))
}

/** Each contender, made only in the process that measures it. Middy types a handler's context as the enriched one; the runtime hands a plain Context. */
const contenders = {
  'middy-cache config+secrets': (): InvokeHandler =>
    middy()
      .use(configCache({ parameters: { table: '/bench/table', currency: '/bench/currency' }, ttl: '5m' }))
      .use(secretsCache({ secrets: { stripeKey: secret.name }, ttl: '5m' }))
      .handler((_event, lambda) => Promise.resolve(lambda.config.table + lambda.config.currency + lambda.secrets.stripeKey)) as unknown as InvokeHandler,
  '@middy/ssm + secrets-manager': (): InvokeHandler =>
    middy()
      .use(ssm({ fetchData: { table: '/bench/table', currency: '/bench/currency' }, setToContext: true, cacheExpiry: 300_000 }))
      .use(secretsManager({ fetchData: { stripeKey: secret.name }, setToContext: true, cacheExpiry: 300_000 }))
      .handler((_event, lambda) => {
        const fetched = lambda as unknown as Record<string, unknown>
        return Promise.resolve(String(fetched.table) + String(fetched.currency) + String(fetched.stripeKey))
      }) as unknown as InvokeHandler,
  'Powertools getters': (): InvokeHandler =>
    middy().handler(async () => {
      const [table, currency, stripeKey] = await Promise.all([
        getParameter('/bench/table', { maxAge: 300 }),
        getParameter('/bench/currency', { maxAge: 300 }),
        getSecret(secret.name, { maxAge: 300 }),
      ])
      return `${String(table)}${String(currency)}${String(stripeKey)}`
    }),
  'least work, two middlewares': (): InvokeHandler => {
    const freshUntil = performance.now() + 3_600_000
    return middy()
      .use(leastContextMiddleware(placeConfig, { table: parameters['/bench/table'], currency: parameters['/bench/currency'] }, freshUntil))
      .use(leastContextMiddleware(placeSecrets, { stripeKey: secret.value }, freshUntil))
      .handler(fromContext) as unknown as InvokeHandler
  },
  'two empty middlewares': (): InvokeHandler =>
    middy()
      .use(doNothing())
      .use(doNothing())
      .handler(joinedFromContext),
} as const satisfies Record<string, () => InvokeHandler>

export type ContenderName = keyof typeof contenders
export const contenderNames = Object.keys(contenders) as ContenderName[]

/** What one process measured: the bare handler and one contender, side by side. */
export interface PairMeasured {
  readonly bareNs: number
  readonly contenderNs: number
  /** The median over the rounds of the contender's time over the bare handler's around it. */
  readonly ratio: number
}

/**
 * Measures a bare Middy handler and the contender `name` side by side in this process, as Lambda
 * runs one handler per process: contenders measured in one process share Middy's request runner,
 * whose call sites then see every contender's hooks, which slows most the smallest of them.
 */
const measurePair = async (name: ContenderName, invocations: number, rounds: number): Promise<PairMeasured> => {
  // A new context for every invocation, as the runtime hands them: a middleware that writes to the
  // context never meets what it wrote the invocation before.
  const nextContext = lambdaContexts(900_000)
  const bare: InvokeHandler = middy().handler(joinedFromContext)
  const contender = contenders[name]()
  const answer = await contender({}, nextContext())
  if (name !== 'two empty middlewares' && answer !== expectedAnswer) throw new Error(`bench: ${name} answered ${String(answer)}`)
  const runOf = (handler: InvokeHandler) => async (): Promise<void> => {
    for (let invocation = 0; invocation < invocations; invocation++) await handler({}, nextContext())
  }
  const measured = await measureRatio(runOf(bare), runOf(contender), invocations, rounds)
  return { bareNs: measured.baselineNs, contenderNs: measured.contenderNs, ratio: measured.ratio }
}

// Run as a script by the warm-invocation bench: `<name> <invocations> <rounds>`, against the
// endpoint in AWS_ENDPOINT_URL; prints what it measured as one JSON line and exits, which also
// ends @middy/secrets-manager's refresh timer.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [name, invocations, rounds] = process.argv.slice(2)
  if (!contenderNames.includes(name as ContenderName)) throw new Error(`bench: no contender named ${String(name)}`)
  const measured = await measurePair(name as ContenderName, Number(invocations), Number(rounds))
  process.stdout.write(JSON.stringify(measured) + '\n')
  process.exit(0)
}
