import middy from '@middy/core'
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { mockClient } from 'aws-sdk-client-mock'
import { cacheMetrics } from '../../middlewares/cache-metrics.js'
import { flushOnEarlyReturn } from '../../middlewares/flush-on-early-return.js'
import { secretsCache } from '../../middlewares/secrets-cache.js'
import { captureOutput, samplesOf, type Captured } from '../support/emf.js'
import { setEnv } from '../support/env.js'
import { invoke } from '../support/invoke.js'

const namespace = 'Shop'
const service = 'orders'

let output: Captured
let restoreEnv: () => void
beforeEach(() => {
  restoreEnv = setEnv({
    AWS_LAMBDA_INITIALIZATION_TYPE: undefined,
    POWERTOOLS_DEV: undefined,
    POWERTOOLS_METRICS_DISABLED: undefined,
    POWERTOOLS_METRICS_NAMESPACE: undefined,
    POWERTOOLS_SERVICE_NAME: undefined,
  })
  output = captureOutput()
})
afterEach(() => {
  output.restore()
  restoreEnv()
})

let nextName = 0
const mockedSecrets = (): { client: SecretsManagerClient; restore: () => void } => {
  const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
  const mock = mockClient(client)
  let gets = 0
  mock.on(GetSecretValueCommand).callsFake(() => ({ SecretString: `sk_live_${++gets}` }))
  mock.on(DescribeSecretCommand).resolves({ RotationEnabled: false })
  return { client, restore: () => { mock.restore() } }
}

describe('cacheMetrics before logMetrics with throwOnEmptyMetrics', () => {
  test('a request whose handler adds no metric still writes the cache metrics (with flushOnEarlyReturn)', async () => {
    const { client, restore } = mockedSecrets()
    const name = `secrets-hooks-${++nextName}`
    const metrics = new Metrics({ namespace, serviceName: service })
    const handler = middy({ requestEnd: flushOnEarlyReturn })
      .use(cacheMetrics({ metrics }))
      .use(logMetrics(metrics, { throwOnEmptyMetrics: true }))
      .use(secretsCache({ name, secrets: { stripeKey: 'shop/stripe' }, prefetch: false, secretsManager: { awsSdkV3Client: client } }))
      .handler((event) => {
        if ((event as { add?: boolean }).add === true) metrics.addMetric('Orders', MetricUnit.Count, 1)
        return Promise.resolve('ok')
      })
    await expect(invoke(handler, { add: true })).resolves.toBe('ok')
    await expect(invoke(handler, { add: false })).rejects.toThrow('The number of metrics recorded must be higher than zero')
    expect(samplesOf(output.blobs(), { namespace, name: 'Gets', dimensions: { service, cache: name } })).toEqual([1, 1])
    restore()
  })
})

