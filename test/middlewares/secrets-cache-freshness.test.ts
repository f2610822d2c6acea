import middy from '@middy/core'
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import { configCache } from '../../middlewares/config-cache.js'
import { secretsCache, type SecretsCacheOptions } from '../../middlewares/secrets-cache.js'
import { createSecret, putParameters, startMoto, uniqueName, updateSecret, type MotoHandle } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { movableTime } from '../support/clock.js'
import { invoke } from '../support/invoke.js'
import { lastRegisteredCache } from '../support/registered-caches.js'
import { testClients } from '../support/sdk-clients.js'
import { countRequests } from '../support/sdk-requests.js'
import { flushPromises } from '../support/deferred.js'

const minuteMs = 60_000

/** A handler whose result is `secret` as it found it on `context.secrets.key`. */
const secretReader = (secret: string, options: Omit<SecretsCacheOptions<'secrets', unknown>, 'name' | 'secrets'>) =>
  middy()
    .use(secretsCache({ ...options, secrets: { key: secret } }))
    .handler((_event, context) => Promise.resolve(context.secrets.key))

const clients = testClients()

afterEach(() => {
  clients.destroyAll()
  jest.restoreAllMocks()
})

describe('secretsCache freshness against Secrets Manager on moto_server', () => {
  test('expiry leads to exactly one refetch, shared by concurrent invocations, which then see the updated secret', async () => {
    const name = uniqueName('shop/expiring')
    await createSecret(name, 'v1')
    const time = movableTime()
    const client = clients.made(new SecretsManagerClient(motoClientConfig()))
    const requests = countRequests(client)
    const handler = secretReader(name, { ttl: '1m', prefetch: false, secretsManager: { awsSdkV3Client: client } })
    for (let invocation = 0; invocation < 3; invocation++) expect(await invoke(handler)).toBe('v1')
    expect(requests.count('GetSecretValueCommand')).toBe(1)

    await updateSecret(name, 'v2')
    time.advance(minuteMs + 1_000)
    expect(await Promise.all(Array.from({ length: 5 }, () => invoke(handler)))).toEqual(['v2', 'v2', 'v2', 'v2', 'v2'])
    for (let invocation = 0; invocation < 3; invocation++) expect(await invoke(handler)).toBe('v2')
    expect(requests.count('GetSecretValueCommand')).toBe(2)
  })

  test('one secret under two properties with ttls of their own: each is refreshed on its own ttl', async () => {
    const name = uniqueName('shop/two-ttls')
    await createSecret(name, 'v1')
    const time = movableTime()
    const handler = middy()
      .use(secretsCache({ secrets: { often: { name, ttl: '1m' }, seldom: { name, ttl: '1h' } }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .handler((_event, context) => Promise.resolve([context.secrets.often, context.secrets.seldom]))
    expect(await invoke(handler)).toEqual(['v1', 'v1'])
    await updateSecret(name, 'v2')
    time.advance(minuteMs + 1_000)
    expect(await invoke(handler)).toEqual(['v2', 'v1'])
  })

  test('prefetch at construction: the first invocation makes no new GetSecretValue when the prefetch finished', async () => {
    const name = uniqueName('shop/prefetched')
    await createSecret(name, 'ready')
    const client = clients.made(new SecretsManagerClient(motoClientConfig()))
    const requests = countRequests(client)
    const handler = secretReader(name, { secretsManager: { awsSdkV3Client: client } })
    expect(await lastRegisteredCache().settle(5_000)).toEqual({ completed: 1, abandoned: 0 })
    expect(requests.count('GetSecretValueCommand')).toBe(1)
    expect(await invoke(handler)).toBe('ready')
    expect(requests.total()).toBe(1)
  })

  // An unhandled rejection fails the test that is running (Jest's own handler takes it).
  test('a prefetch that fails (GetSecretValue and DescribeSecret both unreachable, an SSM SecureString too) is swallowed, and the first invocation loads again', async () => {
    const unreachable = motoClientConfig('http://127.0.0.1:9')
    const secretsClient = clients.made(new SecretsManagerClient({ ...unreachable, maxAttempts: 1 }))
    const ssmClient = clients.made(new SSMClient({ ...unreachable, maxAttempts: 1 }))
    const requests = [countRequests(secretsClient), countRequests(ssmClient)]
    const middleware = secretsCache({
      secrets: { key: uniqueName('shop/unreachable'), signingKey: { name: `/${uniqueName('shop')}/signing-key`, source: 'ssm' } },
      capTtlAtRotation: true,
      secretsManager: { awsSdkV3Client: secretsClient },
      ssm: { awsSdkV3Client: ssmClient },
    })
    expect(await lastRegisteredCache().settle(5_000)).toEqual({ completed: 2, abandoned: 0 })
    await flushPromises()
    expect(requests.map((counted) => counted.total())).toEqual([2, 1])
    const handler = middy().use(middleware).handler((_event, context) => Promise.resolve(context.secrets.key))
    await expect(invoke(handler)).rejects.toThrow(/loading secret ".*" \(context.secrets.key\) for cache "secrets" failed/)
    expect(requests.map((counted) => counted.total())).toEqual([4, 2])
  })

  test("the default ttl (15 minutes) outlasts configCache's (5 minutes): in one chain the parameter reloads first", async () => {
    const secret = uniqueName('shop/default-ttl')
    const parameter = `/${uniqueName('shop')}/default-ttl`
    await createSecret(secret, 'v1')
    await putParameters({ [parameter]: 'p1' })
    const time = movableTime()
    const secretsClient = clients.made(new SecretsManagerClient(motoClientConfig()))
    const ssmClient = clients.made(new SSMClient(motoClientConfig()))
    const secretRequests = countRequests(secretsClient)
    const parameterRequests = countRequests(ssmClient)
    const handler = middy()
      .use(configCache({ parameters: { value: parameter }, prefetch: false, awsSdkV3Client: ssmClient }))
      .use(secretsCache({ secrets: { value: secret }, prefetch: false, secretsManager: { awsSdkV3Client: secretsClient } }))
      .handler((_event, context) => Promise.resolve(`${context.config.value}/${context.secrets.value}`))
    expect(await invoke(handler)).toBe('p1/v1')
    await updateSecret(secret, 'v2')
    await putParameters({ [parameter]: 'p2' })

    time.advance(5 * minuteMs + 1_000)
    expect(await invoke(handler)).toBe('p2/v1')
    expect(parameterRequests.count('GetParametersCommand')).toBe(2)
    expect(secretRequests.count('GetSecretValueCommand')).toBe(1)

    // 14.5 minutes in: the movable time runs on top of real time, so leave real time its margin.
    time.advance(9 * minuteMs + 29_000)
    expect(await invoke(handler)).toBe('p2/v1')
    expect(secretRequests.count('GetSecretValueCommand')).toBe(1)

    time.advance(minuteMs)
    expect(await invoke(handler)).toBe('p2/v2')
    expect(secretRequests.count('GetSecretValueCommand')).toBe(2)
  })

  test("transform: 'binary' hands over a SecretBinary as its bytes, not decoded to text", async () => {
    const name = uniqueName('shop/binary')
    // Not valid UTF-8: decoding it to a string would replace bytes and the comparison would show it.
    const bytes = new Uint8Array([0x00, 0xff, 0xfe, 0x80, 0x41, 0x0a])
    await createSecret(name, bytes)
    const handler = middy<unknown, string | Uint8Array>()
      .use(secretsCache({ secrets: { key: { name, transform: 'binary' } }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .handler((_event, context) => Promise.resolve(context.secrets.key))
    const value = await invoke(handler)
    expect(value).toBeInstanceOf(Uint8Array)
    expect([...(value as Uint8Array)]).toEqual([...bytes])
  })
})

describe('secretsCache when Secrets Manager is down (a private moto, stopped mid-test)', () => {
  let moto: MotoHandle

  beforeAll(async () => {
    moto = await startMoto()
  })

  afterAll(async () => {
    await moto.stop()
  })

  test('within staleIfError the last good value keeps invocations up; beyond it, a clear error naming the secret', async () => {
    const name = uniqueName('shop/outage')
    await createSecret(name, 'last-good', { endpoint: moto.endpoint })
    const time = movableTime()
    const client = clients.made(new SecretsManagerClient(motoClientConfig(moto.endpoint)))
    const requests = countRequests(client)
    const handler = secretReader(name, { ttl: '1m', staleIfError: '10m', prefetch: false, secretsManager: { awsSdkV3Client: client } })
    expect(await invoke(handler)).toBe('last-good')
    await moto.kill()

    time.advance(2 * minuteMs)
    for (let invocation = 0; invocation < 3; invocation++) expect(await invoke(handler)).toBe('last-good')
    // The first of them asked the stopped moto, and fell back to the last good value.
    expect(requests.count('GetSecretValueCommand')).toBeGreaterThanOrEqual(2)

    time.advance(10 * minuteMs)
    const beyond = invoke(handler)
    await expect(beyond).rejects.toThrow(`loading secret "${name}" (context.secrets.key) for cache "secrets" failed`)
  })
})
