import middy from '@middy/core'
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { mockClient } from 'aws-sdk-client-mock'
import { cacheMetrics } from '../../middlewares/cache-metrics.js'
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

describe('secretsCache refreshOn that throws', () => {
  test('the handler error reaches the caller, cacheMetrics placed before still writes the invocation', async () => {
    const { client, restore } = mockedSecrets()
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    const name = `secrets-hooks-${++nextName}`
    const handler = middy()
      .use(cacheMetrics({ namespace, service }))
      .use(
        secretsCache({
          name,
          secrets: { stripeKey: 'shop/stripe' },
          // A predicate written for AWS SDK errors, as users write it: a plain Error has no $metadata.
          refreshOn: (error) => (error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode === 401,
          prefetch: false,
          secretsManager: { awsSdkV3Client: client },
        }),
      )
      .handler(() => Promise.reject(new Error('boom')))
    await expect(invoke(handler)).rejects.toThrow('boom')
    expect(samplesOf(output.blobs(), { namespace, name: 'Gets', dimensions: { service, cache: name } })).toEqual([1])
    expect(warn).toHaveBeenCalledTimes(1)
    warn.mockRestore()
    restore()
  })
})

describe('secretsCache capTtlAtRotation with a NextRotationDate in the past (a rotation that failed)', () => {
  test('the secret is not reloaded on every invocation', async () => {
    const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
    const mock = mockClient(client)
    let version = 0
    mock.on(GetSecretValueCommand).callsFake(() => ({ SecretString: `v${++version}` }))
    // AWS: "If rotation is unsuccessful, this date may be in the past."
    mock.on(DescribeSecretCommand).resolves({ RotationEnabled: true, NextRotationDate: new Date(Date.now() - 3_600_000) })
    const handler = middy()
      .use(secretsCache({ secrets: { key: 'rotating' }, ttl: '15m', capTtlAtRotation: true, prefetch: false, secretsManager: { awsSdkV3Client: client } }))
      .handler((_event, context) => Promise.resolve(context.secrets.key))
    expect(await invoke(handler)).toBe('v1')
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await invoke(handler)).toBe('v1')
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await invoke(handler)).toBe('v1')
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(1)
    mock.restore()
  })
})
