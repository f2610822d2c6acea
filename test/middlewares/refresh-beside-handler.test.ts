import middy, { type MiddlewareObj } from '@middy/core'
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import type { Context } from 'aws-lambda'
import { configCache } from '../../middlewares/config-cache.js'
import { secretsCache } from '../../middlewares/secrets-cache.js'
import { createSecret, destroySeedClients, putParameters, uniqueName, updateSecret } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { movableTime } from '../support/clock.js'
import { holdRefreshes } from '../support/held-sdk-refresh.js'
import { invoke } from '../support/invoke.js'
import { testClients } from '../support/sdk-clients.js'
import { countRequests } from '../support/sdk-requests.js'

/**
 * Issue 4: "a refresh inside staleWhileRevalidate does not delay the invocation", against moto.
 * The refresh request is held until the handler has run: were the invocation to wait for it, the
 * handler would run only after its answer (once the hold gives up), and the records would show it.
 */

const freshness = { ttl: '1m', staleWhileRevalidate: '1h', settleBudget: '10s', prefetch: false } as const

/** A middleware putting one value from its AWS source on the context, and where the value lands. */
interface Source {
  readonly middleware: string
  /** The command that loads the value, as the SDK names it. */
  readonly command: string
  client(): SSMClient | SecretsManagerClient
  /** Stores `value` under a new name, and returns the name. */
  create(value: string): Promise<string>
  update(name: string, value: string): Promise<void>
  cached(name: string, client: SSMClient | SecretsManagerClient): MiddlewareObj
  read(context: Context): string
}

const sources: readonly Source[] = [
  {
    middleware: 'configCache',
    command: 'GetParametersCommand',
    client: () => new SSMClient(motoClientConfig()),
    create: async (value) => {
      const name = `/${uniqueName('revalidated')}/value`
      await putParameters({ [name]: value })
      return name
    },
    update: (name, value) => putParameters({ [name]: value }),
    cached: (name, client) => configCache({ parameters: { value: name }, ...freshness, awsSdkV3Client: client as SSMClient }) as MiddlewareObj,
    read: (context) => (context as unknown as { readonly config: { readonly value: string } }).config.value,
  },
  {
    middleware: 'secretsCache',
    command: 'GetSecretValueCommand',
    client: () => new SecretsManagerClient(motoClientConfig()),
    create: async (value) => {
      const name = uniqueName('shop/revalidated')
      await createSecret(name, value)
      return name
    },
    update: (name, value) => updateSecret(name, value),
    cached: (name, client) => secretsCache({ secrets: { value: name }, ...freshness, secretsManager: { awsSdkV3Client: client as SecretsManagerClient } }) as MiddlewareObj,
    read: (context) => (context as unknown as { readonly secrets: { readonly value: string } }).secrets.value,
  },
]

const clients = testClients()

afterEach(() => {
  clients.destroyAll()
  jest.restoreAllMocks()
})

afterAll(() => {
  destroySeedClients()
})

describe.each(sources)('$middleware inside staleWhileRevalidate, against moto_server', (source) => {
  test('the stale value is served at once, and the refresh it starts is answered only after the handler saw that value', async () => {
    const name = await source.create('v1')
    const time = movableTime()
    const client = clients.made(source.client())
    const requests = countRequests(client)
    const events: string[] = []
    const refreshes = holdRefreshes(client, source.command, () => events.push('refresh answered'))
    const handler = middy()
      .use(source.cached(name, client))
      .handler((_event: unknown, context: Context) => {
        events.push(`handler saw ${source.read(context)}`)
        refreshes.release()
        return Promise.resolve(source.read(context))
      })
    expect(await invoke(handler)).toBe('v1')
    events.length = 0
    refreshes.holdNext()

    await source.update(name, 'v2')
    time.advance(61_000)
    expect(await invoke(handler)).toBe('v1')
    // The refresh ran beside the handler and was settled in `after`, within settleBudget.
    expect(events).toEqual(['handler saw v1', 'refresh answered'])
    expect(await invoke(handler)).toBe('v2')
    expect(requests.count(source.command)).toBe(2)
  })
})
