import middy from '@middy/core'
import { DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { secretsCache } from '../../middlewares/secrets-cache.js'
import { CacheLoadError } from '../../src/index.js'
import { awsJsonError, createSecret, startHttpFaultProxy, uniqueName, type HttpFaultProxy } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { invoke } from '../support/invoke.js'
import { testClients } from '../support/sdk-clients.js'

/**
 * A secret scheduled for deletion (DeleteSecret with a recovery window) stays for 7 to 30 days, and
 * GetSecretValue answers it with an InvalidRequestException: an optional secret is then not found,
 * a required one fails with an error that says why.
 */

const clients = testClients()

afterEach(() => {
  clients.destroyAll()
})

/** A secret holding `value`, scheduled for deletion in a week, as a user's DeleteSecret leaves it. */
const secretScheduledForDeletion = async (value: string): Promise<string> => {
  const name = uniqueName('shop/retired')
  await createSecret(name, value)
  const client = clients.made(new SecretsManagerClient(motoClientConfig()))
  await client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }))
  return name
}

const reading = (secret: { readonly name: string; readonly optional: boolean }, endpoint?: string) =>
  middy()
    .use(secretsCache({ secrets: { key: secret }, prefetch: false, secretsManager: { clientConfig: motoClientConfig(endpoint) } }))
    .handler((_event, context) => Promise.resolve({ key: context.secrets.key, has: 'key' in context.secrets }))

describe('secretsCache with a secret scheduled for deletion, on moto_server', () => {
  test('an optional one is undefined on the context, as a missing one is', async () => {
    const name = await secretScheduledForDeletion('sk_retired')
    expect(await invoke(reading({ name, optional: true }))).toEqual({ key: undefined, has: true })
  })

  test('an optional one read before its deletion was scheduled is undefined once its ttl ends, not its old value', async () => {
    const name = uniqueName('shop/retiring')
    await createSecret(name, 'sk_old')
    const handler = middy()
      .use(secretsCache({ secrets: { key: { name, optional: true } }, ttl: '50ms', prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .handler((_event, context) => Promise.resolve(context.secrets.key))
    expect(await invoke(handler)).toBe('sk_old')
    await clients.made(new SecretsManagerClient(motoClientConfig())).send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }))
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect(await invoke(handler)).toBeUndefined()
  })

  test('a required one fails with an error naming it, where it lands, and that it is scheduled for deletion, caused by the SDK error', async () => {
    const name = await secretScheduledForDeletion('sk_retired')
    const failure = invoke(reading({ name, optional: false }))
    await expect(failure).rejects.toThrow(CacheLoadError)
    await expect(failure).rejects.toThrow(`secret "${name}" for context.secrets.key is scheduled for deletion in Secrets Manager`)
    const error: unknown = await failure.catch((caught: unknown) => caught)
    expect(((error as Error).cause as Error).cause).toMatchObject({ name: 'InvalidRequestException' })
    expect((error as Error).message).not.toContain('sk_retired')
  })
})

describe("secretsCache and Secrets Manager's own wording (answered through a fault proxy, as AWS sends it)", () => {
  let faults: HttpFaultProxy

  beforeEach(async () => {
    faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
  })

  afterEach(async () => {
    await faults.close()
  })

  test("AWS's \"marked for deletion\" makes an optional secret undefined", async () => {
    faults.inject({ target: 'secretsmanager.GetSecretValue', ...awsJsonError('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.") })
    const name = uniqueName('shop/retired')
    expect(await invoke(reading({ name, optional: true }, faults.url))).toEqual({ key: undefined, has: true })
    expect(faults.requests('secretsmanager.GetSecretValue')).toEqual({ seen: 1, answered: 1 })
  })

  test('another InvalidRequestException still fails an optional secret: only a deletion is "not found"', async () => {
    faults.inject({
      target: 'secretsmanager.GetSecretValue',
      ...awsJsonError('InvalidRequestException', 'You provided a parameter value that is not valid for the current state of the resource.'),
    })
    const name = uniqueName('shop/odd-state')
    const failure = invoke(reading({ name, optional: true }, faults.url))
    await expect(failure).rejects.toThrow(CacheLoadError)
    await expect(failure).rejects.toThrow('not valid for the current state of the resource')
    await expect(failure).rejects.not.toThrow('scheduled for deletion')
  })
})
