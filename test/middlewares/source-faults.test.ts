import middy, { type MiddlewareObj } from '@middy/core'
import { setTimeout as sleep } from 'node:timers/promises'
import { configCache, type ParameterSpec, type PathSpec } from '../../middlewares/config-cache.js'
import { CacheError, CacheLoadError, CacheTimeoutError } from '../../src/cache/errors.js'
import { secretsCache, type SecretSpec } from '../../middlewares/secrets-cache.js'
import type { Duration } from '../../src/index.js'
import { awsJsonAnswer, awsJsonError, createSecret, destroySeedClients, putParameters, startHttpFaultProxy, uniqueName, updateSecret, type HttpFaultProxy } from '../harness/index.js'
import { localClientConfig } from '../support/aws-client-config.js'
import { invoke } from '../support/invoke.js'
import { within } from '../support/within.js'

/**
 * DESIGN/issue 4: "Access denied gives a clear error. Throttling is retried by the SDK, then
 * staleIfError applies." The SDK clients here are real and reach moto_server through a fault proxy
 * that answers chosen requests as AWS does, so the SDK's own error parsing and retry policy run.
 */

type ClientConfig = ReturnType<typeof localClientConfig> & { readonly maxAttempts?: number }

interface Freshness {
  readonly ttl?: Duration
  readonly staleIfError?: Duration
}

/** A middleware that puts one value from its AWS source on the context, set up as a user would. */
interface Source {
  readonly middleware: string
  /** The X-Amz-Target of the call that loads the value. */
  readonly operation: string
  /** How its errors name the value called `name` and where it lands. */
  described(name: string): string
  /** Stores a value under a new name in moto, and returns the name. */
  create(value: string): Promise<string>
  /** Stores a new value under an existing name. */
  update(name: string, value: string): Promise<void>
  /** One invocation of a handler that returns the value from the context. */
  invocation(name: string, clientConfig: ClientConfig, freshness?: Freshness): () => Promise<unknown>
}

const sources: readonly Source[] = [
  {
    middleware: 'configCache',
    operation: 'AmazonSSM.GetParameters',
    described: (name) => `parameter "${name}" (context.config.value)`,
    create: async (value) => {
      const name = `/${uniqueName('faults')}/table`
      await putParameters({ [name]: value })
      return name
    },
    update: (name, value) => putParameters({ [name]: value }),
    invocation: (name, clientConfig, freshness = {}) => {
      const handler = middy()
        .use(configCache({ parameters: { value: name }, prefetch: false, clientConfig, ...freshness }))
        .handler((_event, context) => Promise.resolve(context.config.value))
      return () => invoke(handler)
    },
  },
  {
    middleware: 'secretsCache',
    operation: 'secretsmanager.GetSecretValue',
    described: (name) => `secret "${name}" (context.secrets.value)`,
    create: async (value) => {
      const name = uniqueName('faults/stripe')
      await createSecret(name, value)
      return name
    },
    update: (name, value) => updateSecret(name, value),
    invocation: (name, clientConfig, freshness = {}) => {
      const handler = middy()
        .use(secretsCache({ secrets: { value: name }, prefetch: false, secretsManager: { clientConfig }, ...freshness }))
        .handler((_event, context) => Promise.resolve(context.secrets.value))
      return () => invoke(handler)
    },
  },
  {
    middleware: "secretsCache with source: 'ssm'",
    operation: 'AmazonSSM.GetParameters',
    described: (name) => `SecureString "${name}" (context.secrets.value)`,
    create: async (value) => {
      const name = `/${uniqueName('faults')}/signing-key`
      await putParameters({ [name]: { value, type: 'SecureString' } })
      return name
    },
    update: (name, value) => putParameters({ [name]: { value, type: 'SecureString' } }),
    invocation: (name, clientConfig, freshness = {}) => {
      const handler = middy()
        .use(secretsCache({ secrets: { value: { name, source: 'ssm' } }, prefetch: false, ssm: { clientConfig }, ...freshness }))
        .handler((_event, context) => Promise.resolve(context.secrets.value))
      return () => invoke(handler)
    },
  },
]

const throttled = awsJsonError('ThrottlingException', 'Rate exceeded')
const accessDenied = (name: string) => awsJsonError('AccessDeniedException', `User: arn:aws:sts::123456789012:assumed-role/shop/fn is not authorized to perform this action on resource: ${name}`)

afterAll(() => {
  destroySeedClients()
})

describe.each(sources)('$middleware when its AWS source answers with errors', (source) => {
  let proxy: HttpFaultProxy

  beforeEach(async () => {
    proxy = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL! })
  })

  afterEach(async () => {
    await proxy.close()
  })

  test('throttled twice, then answered: the SDK retries on its own and the value arrives', async () => {
    const name = await source.create('products')
    proxy.inject({ target: source.operation, times: 2, ...throttled })
    // No maxAttempts: the SDK's default policy (3 attempts), as a user's client has it.
    expect(await source.invocation(name, localClientConfig(proxy.url))()).toBe('products')
    expect(proxy.requests(source.operation)).toEqual({ seen: 3, answered: 2 })
  })

  test('throttled beyond the SDK attempts while an expired value refreshes: within staleIfError the last good value is served', async () => {
    const name = await source.create('v1')
    // Two attempts still show the SDK retrying, then giving up; the default three would only add a
    // second, longer throttling back-off (random, up to 2 s on today's SDK) to the test's run time.
    const invocation = source.invocation(name, { ...localClientConfig(proxy.url), maxAttempts: 2 }, { ttl: '100ms', staleIfError: '1h' })
    expect(await invocation()).toBe('v1')
    // A refresh that got through would bring v2: v1 after this can only be the stale value.
    await source.update(name, 'v2')
    await sleep(150)
    proxy.inject({ target: source.operation, ...throttled })
    expect(await invocation()).toBe('v1')
    expect(proxy.requests(source.operation)).toEqual({ seen: 3, answered: 2 })
  })

  test('access denied fails the invocation at once, with an error that names what it loads and has the SDK error as its cause', async () => {
    const name = await source.create('never seen')
    proxy.inject({ target: source.operation, ...accessDenied(name) })
    const error: unknown = await source.invocation(name, localClientConfig(proxy.url))().catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(Error)
    const { message, cause } = error as Error
    // Not a retryable error: one request, no back-off.
    expect(proxy.requests(source.operation)).toEqual({ seen: 1, answered: 1 })
    expect(message).toContain(`loading ${source.described(name)} for cache`)
    expect(message).toContain('is not authorized')
    // The SDK's error itself, so `error.cause.name` tells access denied from throttling or an outage.
    expect(cause).toMatchObject({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } })
  })
})

describe('configCache when SSM refuses a read of several parameters', () => {
  test("the error names every parameter of the call and where each lands, since the SDK's message names only the resource it refused", async () => {
    const proxy = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL! })
    try {
      const table = `/${uniqueName('faults')}/table`
      const key = `/${uniqueName('faults')}/key`
      await putParameters({ [table]: 'products', [key]: 'k-1' })
      proxy.inject({ target: 'AmazonSSM.GetParameters', ...accessDenied(key) })
      const handler = middy()
        .use(configCache({ parameters: { table, key }, prefetch: false, clientConfig: localClientConfig(proxy.url) }))
        .handler((_event, context) => Promise.resolve(context.config.table))
      const error: unknown = await invoke(handler).catch((thrown: unknown) => thrown)
      expect(proxy.requests('AmazonSSM.GetParameters')).toEqual({ seen: 1, answered: 1 })
      expect((error as Error).message).toContain(`loading parameter "${table}" (context.config.table), loaded together with parameter "${key}" (context.config.key), for cache "config" failed: `)
      expect((error as Error).message).toContain(`is not authorized to perform this action on resource: ${key}`)
    } finally {
      await proxy.close()
    }
  })

  test('a parameter SSM refuses alone fails alone: parameters and paths read by other calls still refresh, and its error names it alone', async () => {
    const proxy = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL! })
    try {
      const prefix = `/${uniqueName('faults')}`
      const table = `${prefix}/table`
      const key = `${prefix}/key`
      const path = `${prefix}/limits/`
      await putParameters({ [table]: 'v1', [key]: { value: 'k-1', type: 'SecureString' }, [`${path}max-items`]: '10' })
      // A SecureString shared by another account is named by its ARN, so read with a GetParameter of its own.
      const keyArn = `arn:aws:ssm:us-east-1:123456789012:parameter${key}`
      const configFor = () =>
        middy()
          .use(configCache({ parameters: { table, key: { name: keyArn, decrypt: true } }, paths: { limits: path }, ttl: '100ms', staleIfError: '1h', prefetch: false, clientConfig: localClientConfig(proxy.url) }))
          .handler((_event, context) => Promise.resolve({ ...context.config }))
      const handler = configFor()
      expect(await invoke(handler)).toEqual({ table: 'v1', key: 'k-1', limits: { 'max-items': '10' } })
      await putParameters({ [table]: 'v2', [`${path}max-items`]: '20' })
      await sleep(150)
      // KMS refuses to decrypt that one parameter (its key policy changed, say).
      proxy.inject({ target: 'AmazonSSM.GetParameter', ...awsJsonError('AccessDeniedException', `User: arn:aws:sts::123456789012:assumed-role/shop/fn is not authorized to perform: kms:Decrypt on resource: ${keyArn}`) })
      expect(await invoke(handler)).toEqual({ table: 'v2', key: 'k-1', limits: { 'max-items': '20' } })

      const error: unknown = await invoke(configFor()).catch((thrown: unknown) => thrown)
      expect((error as Error).message).toContain(`loading parameter "${keyArn}" (context.config.key) for cache "config" failed: User: `)
      expect((error as Error).cause).toMatchObject({ name: 'AccessDeniedException' })
    } finally {
      await proxy.close()
    }
  })

  test('a refused path read fails with the SDK error as its cause, not the wrapper of the provider that read it', async () => {
    const proxy = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL! })
    try {
      const path = `/${uniqueName('faults')}/limits/`
      await putParameters({ [`${path}max-items`]: '10' })
      proxy.inject({ target: 'AmazonSSM.GetParametersByPath', ...accessDenied(path) })
      const handler = middy()
        .use(configCache({ paths: { limits: path }, prefetch: false, clientConfig: localClientConfig(proxy.url) }))
        .handler((_event, context) => Promise.resolve(context.config.limits))
      const error: unknown = await invoke(handler).catch((thrown: unknown) => thrown)
      expect((error as Error).message).toContain(`loading path "${path}" (context.config.limits) for cache "config" failed: `)
      expect((error as Error).cause).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } })
    } finally {
      await proxy.close()
    }
  })
})

describe('configCache when an answer holds a parameter under a name it was not asked for', () => {
  test('the parameter asked fails with an error naming it, where it lands and the name that came back, even when optional', async () => {
    const proxy = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL! })
    try {
      const prefix = `/${uniqueName('faults')}`
      const [table, key] = [`${prefix}/table`, `${prefix}/key`]
      // A proxy that answers for another version of the parameter under a name of its own.
      proxy.inject({ target: 'AmazonSSM.GetParameters', ...awsJsonAnswer({ Parameters: [{ Name: table, Value: 'products', Type: 'String' }, { Name: `${key}:2`, Value: 'k-2', Type: 'String' }], InvalidParameters: [] }) })
      const handler = middy()
        .use(configCache({ parameters: { table, key: { name: key, optional: true } }, prefetch: false, clientConfig: localClientConfig(proxy.url) }))
        .handler((_event, context) => Promise.resolve({ ...context.config }))
      const error: unknown = await invoke(handler).catch((thrown: unknown) => thrown)
      expect(error).toBeInstanceOf(CacheLoadError)
      expect((error as Error).message).toContain(
        `loading parameter "${key}" (context.config.key) for cache "config" failed: middy-cache: SSM's answer to GetParameters neither holds parameter "${key}" nor lists it as not found, but holds "${key}:2", which was not asked for; no value is served for it: `,
      )
      expect((error as Error).message).toContain('check the endpoint the SSM client is given')
      expect((error as Error).cause).toBeInstanceOf(CacheError)
      expect(proxy.requests('AmazonSSM.GetParameters')).toEqual({ seen: 1, answered: 1 })
    } finally {
      await proxy.close()
    }
  })
})

/**
 * Invokes a handler behind the cache middleware `cacheOver` makes, its clients sent through a proxy
 * that leaves `operation` unanswered: the engine gives up on the load (a timeout), and the request
 * is aborted, not left running. The middleware is typed plainly: the handler reads nothing it puts on the context.
 */
const expectAbortedOnGiveUp = async (operation: string, cacheOver: (clientConfig: ReturnType<typeof localClientConfig>) => MiddlewareObj): Promise<void> => {
  const proxy = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL! })
  try {
    proxy.inject({ target: operation, hang: true })
    const handler = middy().use(cacheOver(localClientConfig(proxy.url))).handler(() => Promise.resolve('answered'))
    await expect(invoke(handler)).rejects.toBeInstanceOf(CacheTimeoutError)
    await within(proxy.abandoned(operation), `the hanging ${operation} request was never aborted`)
    expect(proxy.requests(operation)).toEqual({ seen: 1, answered: 0 })
  } finally {
    await proxy.close()
  }
}

describe('configCache when SSM hangs', () => {
  test.each<[string, string, (prefix: string) => { readonly parameters?: { readonly value: ParameterSpec }; readonly paths?: { readonly value: PathSpec } }]>([
    ['a parameter', 'AmazonSSM.GetParameters', (prefix: string) => ({ parameters: { value: `${prefix}/table` } })],
    ['a path', 'AmazonSSM.GetParametersByPath', (prefix: string) => ({ paths: { value: `${prefix}/limits/` } })],
    // Names read one by one with GetParameter, through Powertools' SSMProvider.
    ['a parameter with a version selector', 'AmazonSSM.GetParameter', (prefix: string) => ({ parameters: { value: `${prefix}/table:1` } })],
    ['a Secrets Manager reference', 'AmazonSSM.GetParameter', (prefix: string) => ({ parameters: { value: { name: `/aws/reference/secretsmanager${prefix}/stripe`, decrypt: true } } })],
  ])('the request for %s is aborted once the engine gives up on its load, not left running', async (_what, operation, values) => {
    await expectAbortedOnGiveUp(operation, (clientConfig) => configCache({ ...values(`/${uniqueName('faults')}`), timeout: '50ms', prefetch: false, clientConfig }) as MiddlewareObj)
  })
})

describe('secretsCache when its source hangs', () => {
  test.each<[string, string, (name: string) => { readonly secrets: { readonly value: SecretSpec } }]>([
    // Read through Powertools' SecretsProvider.
    ['a Secrets Manager secret', 'secretsmanager.GetSecretValue', (name: string) => ({ secrets: { value: name } })],
    // Read alone with GetParameter, through Powertools' SSMProvider.
    ['a SecureString named by its ARN', 'AmazonSSM.GetParameter', (name: string) => ({ secrets: { value: { name: `arn:aws:ssm:us-east-1:123456789012:parameter/${name}`, source: 'ssm' } } })],
  ])('the request for %s is aborted once the engine gives up on its load, not left running', async (_what, operation, secrets) => {
    await expectAbortedOnGiveUp(operation, (clientConfig) =>
      secretsCache({ ...secrets(uniqueName('faults/stripe')), timeout: '50ms', prefetch: false, secretsManager: { clientConfig }, ssm: { clientConfig } }) as MiddlewareObj,
    )
  })
})
