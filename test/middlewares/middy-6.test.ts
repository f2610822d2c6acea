import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import type { Context } from 'aws-lambda'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import middy6 from 'middy-core-6'
import { cacheMetrics, configCache, dataCache, httpCache, secretsCache, warmup } from '../../entrypoints/index.js'
import { createSecret, putParameters, uniqueName } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { captureOutput, samplesOf, type Captured } from '../support/emf.js'
import { setEnv } from '../support/env.js'
import { httpApiEvent } from '../support/http-events.js'
import { headerOf, statusOf } from '../support/http-results.js'
import { invoke } from '../support/invoke.js'
import { forgetProcessWideState } from '../support/process-state.js'
import { countRequests } from '../support/sdk-requests.js'

/**
 * The package allows `@middy/core` 6 as well as 7 (its peer range): the whole suite in one chain on
 * Middy 6, against SSM and Secrets Manager on moto_server. Middy 6 types its middlewares apart from
 * Middy 7's, hence the casts; what runs is the same objects.
 */


class AuthenticationError extends Error {}

type Handler = (event: unknown, context: Context) => Promise<unknown>
type Middy6Middleware = Parameters<ReturnType<typeof middy6>['use']>[0]
const onMiddy6 = (middleware: object): Middy6Middleware => middleware as Middy6Middleware

const namespace = 'Shop'
const service = 'orders'

let output: Captured
let restoreEnv: () => void
beforeEach(() => {
  forgetProcessWideState()
  restoreEnv = setEnv({ AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', POWERTOOLS_DEV: undefined, POWERTOOLS_METRICS_DISABLED: undefined, POWERTOOLS_METRICS_NAMESPACE: undefined })
  output = captureOutput()
})
afterEach(() => {
  output.restore()
  restoreEnv()
})

describe('the suite on @middy/core 6', () => {
  const table = `/${uniqueName('shop')}/table`
  const secretName = uniqueName('shop/stripe')

  beforeAll(async () => {
    await putParameters({ [table]: 'products' })
    await createSecret(secretName, 'sk_live_1')
  })

  test('the alias is Middy 6', () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'node_modules', 'middy-core-6', 'package.json'), 'utf8')) as { version: string }
    expect(manifest.version).toMatch(/^6\./)
  })

  test('values on the context, a warm-up ping answered with its metrics written, the handler error seen by secretsCache, and httpCache answering 304', async () => {
    const load = jest.fn((id: string) => ({ id, name: `product ${id}` }))
    const secretsClient = new SecretsManagerClient(motoClientConfig())
    const secretRequests = countRequests(secretsClient)
    let failWith: Error | undefined
    const handler = middy6()
      .use(onMiddy6(warmup()))
      .use(onMiddy6(cacheMetrics({ namespace, service })))
      .use(onMiddy6(httpCache({ maxAge: '1m' })))
      .use(onMiddy6(configCache({ parameters: { table }, clientConfig: motoClientConfig() })))
      .use(onMiddy6(secretsCache({ secrets: { stripeKey: secretName }, refreshOn: (error) => error instanceof AuthenticationError, secretsManager: { awsSdkV3Client: secretsClient } })))
      .use(onMiddy6(dataCache({ name: 'product', key: (event: { pathParameters?: { id?: string } }) => event.pathParameters?.id, load, ttl: '1m' })))
      .handler((_event: unknown, context: Context) => {
        if (failWith !== undefined) return Promise.reject(failWith)
        const { config, secrets, product } = context as unknown as { config: { table: string }; secrets: { stripeKey: string }; product: { name: string } }
        return Promise.resolve({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: `${config.table} ${secrets.stripeKey} ${product.name}` })
      }) as unknown as Handler

    const first = await invoke(handler, httpApiEvent())
    expect(statusOf(first)).toBe(200)
    expect((first as { body: string }).body).toBe('products sk_live_1 product 42')
    const etag = String(headerOf(first, 'etag'))
    expect(etag).toMatch(/^"/)

    const revalidated = await invoke(handler, httpApiEvent({ headers: { 'if-none-match': etag } }))
    expect(statusOf(revalidated)).toBe(304)
    expect(load).toHaveBeenCalledTimes(1)

    expect(await invoke(handler, { source: 'serverless-plugin-warmup' })).toMatchObject({ warmed: true, source: 'serverless-plugin-warmup', coldStart: false })
    const blobs = output.blobs()
    expect(samplesOf(blobs, { namespace, name: 'ColdStart', dimensions: { service } })).toEqual([1])
    expect(samplesOf(blobs, { namespace, name: 'WarmupPing', dimensions: { service } })).toEqual([1])
    expect(samplesOf(blobs, { namespace, name: 'Gets', dimensions: { service, cache: 'product' } })).toEqual([1, 1])

    // secretsCache's onError sees the handler's error: the secrets are dropped and fetched again.
    expect(secretRequests.count('GetSecretValueCommand')).toBe(1)
    failWith = new AuthenticationError('rejected')
    await expect(invoke(handler, httpApiEvent())).rejects.toThrow('rejected')
    failWith = undefined
    expect((await invoke(handler, httpApiEvent())) as { body: string }).toMatchObject({ body: 'products sk_live_1 product 42' })
    expect(secretRequests.count('GetSecretValueCommand')).toBe(2)
    secretsClient.destroy()
  })
})
