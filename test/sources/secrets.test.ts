import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { createSecretsSource } from '../../src/sources/secrets.js'
import { createSecret, startHttpFaultProxy, uniqueName, type HttpFaultProxy } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { testClients } from '../support/sdk-clients.js'

const clients = testClients()
let proxy: HttpFaultProxy

beforeEach(async () => {
  proxy = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL! })
})

afterEach(async () => {
  clients.destroyAll()
  await proxy.close()
})

describe('Secrets Manager source: GetSecretValue, read through Powertools, on the caller\'s own client', () => {
  test('is sent by that client to its endpoint, with nothing but the SecretId in its body, and the client is left as it was', async () => {
    const name = uniqueName('sources/stripe')
    await createSecret(name, 'sk-1')
    const client = clients.made(new SecretsManagerClient(motoClientConfig(proxy.url)))
    const source = createSecretsSource({ awsSdkV3Client: client })
    expect(await source.getSecret(name, new AbortController().signal)).toBe('sk-1')
    const [call] = proxy.calls()
    expect(call?.target).toBe('secretsmanager.GetSecretValue')
    expect(JSON.parse(call?.body ?? '')).toEqual({ SecretId: name })
    expect(Object.hasOwn(client, 'send')).toBe(false)
  })

  test('is never sent when its signal has aborted: the read rejects with the SDK\'s AbortError', async () => {
    const name = uniqueName('sources/stripe')
    await createSecret(name, 'sk-1')
    const source = createSecretsSource({ awsSdkV3Client: clients.made(new SecretsManagerClient(motoClientConfig(proxy.url))) })
    const controller = new AbortController()
    controller.abort()
    await expect(source.getSecret(name, controller.signal)).rejects.toMatchObject({ name: 'AbortError' })
    expect(proxy.requests('secretsmanager.GetSecretValue')).toEqual({ seen: 0, answered: 0 })
  })
})
