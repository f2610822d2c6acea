import middy from '@middy/core'
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { inspect } from 'node:util'
import { secretsCache } from '../../middlewares/secrets-cache.js'
import { awsJsonError, createSecret, putParameters, startHttpFaultProxy, uniqueName, type HttpFaultProxy } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { movableTime } from '../support/clock.js'
import { invoke } from '../support/invoke.js'
import { testClients } from '../support/sdk-clients.js'
import { countRequests } from '../support/sdk-requests.js'

/**
 * secretsCache's SSM SecureStrings are read as configCache reads its parameters: GetParameters
 * calls of at most 10 names, decrypted, sent at once; each entry still fresh, optional and named in
 * errors on its own. Requests are counted where they reach moto, through the fault proxy.
 */

const clients = testClients()
const minuteMs = 60_000

afterEach(() => {
  clients.destroyAll()
  jest.restoreAllMocks()
})

/** The names asked, and WithDecryption, of each GetParameters request the proxy saw. */
const getParametersCalls = (proxy: HttpFaultProxy): { Names: string[]; WithDecryption?: boolean }[] =>
  proxy
    .calls()
    .filter(({ target }) => target === 'AmazonSSM.GetParameters')
    .map(({ body }) => JSON.parse(body) as { Names: string[]; WithDecryption?: boolean })

/** `count` SecureStrings under a fresh prefix, each valued `value of <name>`: their names. */
const putSecureStrings = async (count: number): Promise<string[]> => {
  const prefix = `/${uniqueName('shop')}`
  const names = Array.from({ length: count }, (_, index) => `${prefix}/key${index}`)
  await putParameters(Object.fromEntries(names.map((name) => [name, { value: `value of ${name}`, type: 'SecureString' as const }])))
  return names
}

describe('secretsCache SecureStrings in GetParameters batches, counted where they reach moto', () => {
  let proxy: HttpFaultProxy

  beforeEach(async () => {
    proxy = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
  })

  afterEach(async () => {
    await proxy.close()
  })

  test.each([1, 10, 11, 25])('%i SecureStrings beside a Secrets Manager secret: ceil(n/10) GetParameters calls, decrypted, sent at once, on a cold invocation; none on 100 warm ones', async (count) => {
    const names = await putSecureStrings(count)
    const stripe = uniqueName('shop/stripe')
    await createSecret(stripe, 'sk_live_123')
    const ssm = clients.made(new SSMClient(motoClientConfig(proxy.url)))
    const requests = countRequests(ssm)
    const handler = middy<unknown, [Record<string, unknown>, string]>()
      .use(
        secretsCache({
          secrets: { stripe, ...Object.fromEntries(names.map((name, index) => [`key${index}`, { name, source: 'ssm' as const }])) },
          prefetch: false,
          secretsManager: { clientConfig: motoClientConfig(proxy.url) },
          ssm: { awsSdkV3Client: ssm },
        }),
      )
      .handler((_event, context) => Promise.resolve([{ ...context.secrets }, JSON.stringify(context.secrets)]))

    const [received, shown] = await invoke(handler)
    for (let invocation = 0; invocation < 100; invocation++) await invoke(handler)

    expect(received).toEqual({ stripe: 'sk_live_123', ...Object.fromEntries(names.map((name, index) => [`key${index}`, `value of ${name}`])) })
    expect(JSON.parse(shown)).toEqual(Object.fromEntries(Object.keys(received).map((property) => [property, '[redacted]'])))
    const batches = Math.ceil(count / 10)
    expect(proxy.requests('AmazonSSM.GetParameters')).toEqual({ seen: batches, answered: 0 })
    expect(proxy.requests('AmazonSSM.GetParameter')).toEqual({ seen: 0, answered: 0 })
    expect(proxy.requests('secretsmanager.GetSecretValue')).toEqual({ seen: 1, answered: 0 })
    expect(proxy.requests()).toEqual({ seen: batches + 1, answered: 0 })
    const calls = getParametersCalls(proxy)
    expect(calls.every(({ Names, WithDecryption }) => Names.length <= 10 && WithDecryption === true)).toBe(true)
    expect(calls.flatMap(({ Names }) => Names).sort()).toEqual([...names].sort())
    // One call after another, a cold start would wait for each answer in turn.
    expect(requests.mostAtOnce('GetParametersCommand')).toBe(batches)
  })

  test('a missing optional SecureString is undefined and a missing required one an error naming it and its property, each within the one batch', async () => {
    const [stored = ''] = await putSecureStrings(1)
    const [absent, required] = [`/${uniqueName('shop')}/absent`, `/${uniqueName('shop')}/required`]
    const ssm = { clientConfig: motoClientConfig(proxy.url) }
    const optionalOnly = middy()
      .use(secretsCache({ secrets: { stored: { name: stored, source: 'ssm' }, absent: { name: absent, source: 'ssm', optional: true } }, prefetch: false, ssm }))
      .handler((_event, context) => Promise.resolve({ ...context.secrets }))
    expect(await invoke(optionalOnly)).toEqual({ stored: `value of ${stored}`, absent: undefined })

    const withRequired = middy()
      .use(secretsCache({ secrets: { stored: { name: stored, source: 'ssm' }, key: { name: required, source: 'ssm' } }, prefetch: false, ssm }))
      .handler(() => Promise.resolve('unreachable'))
    await expect(invoke(withRequired)).rejects.toThrow(`middy-cache: SecureString "${required}" for context.secrets.key was not found`)
    expect(proxy.requests('AmazonSSM.GetParameters')).toEqual({ seen: 2, answered: 0 })
  })

  test('a GetParameters call SSM refuses fails the SecureStrings it asked for, each named, without their values in the error', async () => {
    const names = await putSecureStrings(2)
    proxy.inject({ target: 'AmazonSSM.GetParameters', ...awsJsonError('AccessDeniedException', 'User is not authorized to perform: ssm:GetParameters') })
    const handler = middy()
      .use(secretsCache({ secrets: { a: { name: names[0] ?? '', source: 'ssm' }, b: { name: names[1] ?? '', source: 'ssm' } }, prefetch: false, ssm: { clientConfig: motoClientConfig(proxy.url) } }))
      .handler(() => Promise.resolve('unreachable'))
    const error = await invoke(handler).then(
      () => undefined,
      (thrown: unknown) => thrown,
    )
    const message = (error as Error).message
    expect(message).toMatch(/AccessDeniedException|not authorized to perform: ssm:GetParameters/)
    for (const [property, name] of [['a', names[0]], ['b', names[1]]] as const) expect(message).toContain(`SecureString "${name ?? ''}" (context.secrets.${property})`)
    expect(inspect(error, { depth: 10 })).not.toContain('value of')
    expect(proxy.requests('AmazonSSM.GetParameters')).toEqual({ seen: 1, answered: 1 })
  })

  test('each SecureString keeps its own freshness: one with a ttl of its own is read again alone once it expires', async () => {
    const [often = '', seldom = ''] = await putSecureStrings(2)
    const time = movableTime()
    const handler = middy()
      .use(secretsCache({ secrets: { often: { name: often, source: 'ssm', ttl: '1m' }, seldom: { name: seldom, source: 'ssm' } }, prefetch: false, ssm: { clientConfig: motoClientConfig(proxy.url) } }))
      .handler((_event, context) => Promise.resolve([context.secrets.often, context.secrets.seldom]))
    expect(await invoke(handler)).toEqual([`value of ${often}`, `value of ${seldom}`])
    await putParameters({ [often]: { value: 'often v2', type: 'SecureString' }, [seldom]: { value: 'seldom v2', type: 'SecureString' } })
    time.advance(minuteMs + 1_000)
    expect(await invoke(handler)).toEqual(['often v2', `value of ${seldom}`])
    expect(getParametersCalls(proxy).map(({ Names }) => [...Names].sort())).toEqual([[often, seldom].sort(), [often]])
  })

  test('a SecureString that stops decoding keeps its last good value (staleIfError) and does not hold back the others of its batch', async () => {
    const [plain = '', flags = ''] = await putSecureStrings(2)
    await putParameters({ [flags]: { value: JSON.stringify({ limit: 1 }), type: 'SecureString' } })
    const time = movableTime()
    const handler = middy()
      .use(
        secretsCache({
          secrets: { plain: { name: plain, source: 'ssm' }, flags: { name: flags, source: 'ssm', transform: 'json' } },
          ttl: '1m',
          staleIfError: '1h',
          prefetch: false,
          ssm: { clientConfig: motoClientConfig(proxy.url) },
        }),
      )
      .handler((_event, context) => Promise.resolve([context.secrets.plain, context.secrets.flags]))
    expect(await invoke(handler)).toEqual([`value of ${plain}`, { limit: 1 }])
    await putParameters({ [plain]: { value: 'plain v2', type: 'SecureString' }, [flags]: { value: '{broken', type: 'SecureString' } })
    time.advance(minuteMs + 1_000)
    expect(await invoke(handler)).toEqual(['plain v2', { limit: 1 }])
    expect(proxy.requests('AmazonSSM.GetParameters')).toEqual({ seen: 2, answered: 0 })
  })

  test('a missing Secrets Manager secret loaded with SecureStrings fails alone: they are kept, and not read again', async () => {
    const names = await putSecureStrings(2)
    const missing = uniqueName('shop/missing')
    const handler = middy()
      .use(
        secretsCache({
          secrets: { a: { name: names[0] ?? '', source: 'ssm' }, b: { name: names[1] ?? '', source: 'ssm' }, key: missing },
          prefetch: false,
          secretsManager: { clientConfig: motoClientConfig(proxy.url) },
          ssm: { clientConfig: motoClientConfig(proxy.url) },
        }),
      )
      .handler(() => Promise.resolve('unreachable'))
    for (let invocation = 0; invocation < 3; invocation++) await expect(invoke(handler)).rejects.toThrow(`middy-cache: secret "${missing}" for context.secrets.key was not found`)
    expect(proxy.requests('AmazonSSM.GetParameters')).toEqual({ seen: 1, answered: 0 })
    expect(proxy.requests('secretsmanager.GetSecretValue')).toEqual({ seen: 1, answered: 0 })
  })
})

describe('secretsCache rotation cap in a batch with a SecureString (DescribeSecret mocked, on a clock the test moves)', () => {
  test("NextRotationDate caps the Secrets Manager secret's ttl alone: the SecureString read with it keeps the cache's ttl", async () => {
    const [signing = ''] = await putSecureStrings(1)
    const secretsClient = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
    const mock = mockClient(secretsClient)
    let version = 0
    mock.on(GetSecretValueCommand).callsFake(() => ({ SecretString: `v${++version}` }))
    mock.on(DescribeSecretCommand).resolves({ RotationEnabled: true, NextRotationDate: new Date(Date.now() + 10 * minuteMs) })
    const ssm = clients.made(new SSMClient(motoClientConfig()))
    const requests = countRequests(ssm)
    const time = movableTime()
    try {
      const handler = middy()
        .use(secretsCache({ secrets: { key: 'rotating', signing: { name: signing, source: 'ssm' } }, ttl: '1h', capTtlAtRotation: true, prefetch: false, secretsManager: { awsSdkV3Client: secretsClient }, ssm: { awsSdkV3Client: ssm } }))
        .handler((_event, context) => Promise.resolve([context.secrets.key, context.secrets.signing]))
      expect(await invoke(handler)).toEqual(['v1', `value of ${signing}`])
      time.advance(11 * minuteMs)
      expect(await invoke(handler)).toEqual(['v2', `value of ${signing}`])
      expect(requests.count('GetParametersCommand')).toBe(1)
    } finally {
      mock.restore()
    }
  })
})
