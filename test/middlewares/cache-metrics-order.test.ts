import middy from '@middy/core'
import { createSecret, putParameters, uniqueName } from '../harness/index.js'
import { captureOutput, samplesOf, type Captured, type EmfBlob } from '../support/emf.js'
import { setEnv } from '../support/env.js'
import { invoke } from '../support/invoke.js'
import { freshSuite } from '../support/process-state.js'

/**
 * configCache and secretsCache count a warm invocation's hits only where something reads them: once
 * a cacheMetrics is made, wherever it sits in the chain, every warm read is counted in its invocation.
 */

const namespace = 'Shop'
const service = 'orders'
const table = `/${uniqueName('order')}/table`
const stripe = `${uniqueName('order')}/stripe`

beforeAll(async () => {
  await putParameters({ [table]: 'products' })
  await createSecret(stripe, 'sk_test_123')
})

let output: Captured
let restoreEnv: () => void
beforeEach(() => {
  restoreEnv = setEnv({ AWS_LAMBDA_INITIALIZATION_TYPE: undefined, POWERTOOLS_DEV: undefined, POWERTOOLS_METRICS_DISABLED: undefined, POWERTOOLS_METRICS_NAMESPACE: undefined })
  output = captureOutput()
})
afterEach(() => {
  output.restore()
  restoreEnv()
})

const perCache = (cache: string, name: string, blobs: readonly EmfBlob[]): number[] => samplesOf(blobs, { namespace, name, dimensions: { service, cache } })

describe('cacheMetrics placed after configCache and secretsCache', () => {
  test('warm invocations write the hits of both, as cold ones write their misses', async () => {
    const suite = freshSuite()
    const handler = middy()
      .use(suite.configCache({ parameters: { table }, ttl: '1h', prefetch: false }))
      .use(suite.secretsCache({ secrets: { stripeKey: stripe }, ttl: '1h', prefetch: false }))
      .use(suite.cacheMetrics({ namespace, service }))
      .handler((_event, context) => Promise.resolve(`${context.config.table} ${context.secrets.stripeKey}`))

    for (let invocation = 0; invocation < 3; invocation++) await expect(invoke(handler)).resolves.toBe('products sk_test_123')

    const blobs = output.blobs()
    expect(perCache('config', 'Misses', blobs)).toEqual([1])
    expect(perCache('config', 'L1Hits', blobs)).toEqual([1, 1])
    expect(perCache('secrets', 'Misses', blobs)).toEqual([1])
    expect(perCache('secrets', 'L1Hits', blobs)).toEqual([1, 1])
  })
})
