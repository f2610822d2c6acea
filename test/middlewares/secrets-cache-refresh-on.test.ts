import middy, { type MiddlewareObj } from '@middy/core'
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { secretsCache } from '../../middlewares/secrets-cache.js'
import { CacheOptionsError } from '../../src/index.js'
import { createSecret, uniqueName, updateSecret } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { invoke } from '../support/invoke.js'
import { testClients } from '../support/sdk-clients.js'
import { countRequests } from '../support/sdk-requests.js'

/**
 * When `refreshOn` is asked, and what its answer does: only a synchronous true (or truthy) answer
 * about an error the invocation's secrets may have caused drops them.
 */

class AuthenticationError extends Error {}

const clients = testClients()

afterEach(() => {
  clients.destroyAll()
})

/** A middleware whose `before` throws an AuthenticationError saying `message` while `refuses()`. */
const refusing = (refuses: () => boolean, message: string): MiddlewareObj => ({
  before: () => {
    if (refuses()) throw new AuthenticationError(message)
  },
})

/** A predicate typed as the option is: what plain JavaScript, or code compiled from `async`, may hand over. */
type RefreshOn = (error: unknown) => boolean

describe('secretsCache refreshOn answering with a promise', () => {
  test('an async function is refused at construction, naming the option', () => {
    const create = () => secretsCache({ secrets: { key: 'shop/stripe' }, refreshOn: (async (error: unknown) => Promise.resolve(error instanceof AuthenticationError)) as unknown as RefreshOn, prefetch: false })
    expect(create).toThrow(CacheOptionsError)
    expect(create).toThrow(/option "refreshOn" must answer at once, \(error\) => boolean; got an async function/)
  })

  // Each answers every call with something truthy (an iterator), or cannot be called without new.
  test.each<[string, unknown, string]>([
    ['a generator function', function* refreshOn() { yield true }, 'a generator function'],
    ['an async generator function', async function* refreshOn() { yield await Promise.resolve(true) }, 'an async generator function'],
    ['a class', class RefreshOn { readonly drops = true }, 'a class'],
  ])('%s is refused at construction, naming the option', (_what, refreshOn, described) => {
    const create = () => secretsCache({ secrets: { key: 'shop/stripe' }, refreshOn: refreshOn as RefreshOn, prefetch: false })
    expect(create).toThrow(CacheOptionsError)
    expect(create).toThrow(`option "refreshOn" must answer at once, (error) => boolean; got ${described}`)
  })

  test('a method named class, whose source starts as a class does, is a function like any other: accepted', () => {
    const method: { readonly class: RefreshOn } = { class(error) { return error instanceof AuthenticationError } }
    expect(() => secretsCache({ secrets: { key: 'shop/stripe' }, refreshOn: method.class, prefetch: false })).not.toThrow()
  })

  // An unhandled rejection fails the test that is running (Jest's own handler takes it).
  test('a promise answered at run time keeps the secrets, whatever it settles to, with a warning; its rejection is handled', async () => {
    const name = uniqueName('shop/promised')
    await createSecret(name, 'v1')
    const warnings: string[] = []
    // Made when asked: a rejected promise made earlier would be unhandled before refreshOn hands it over.
    const answers = [() => Promise.resolve(false), () => Promise.reject(new Error('the lookup failed'))]
    let fail = true
    const handler = middy()
      .use(
        secretsCache({
          secrets: { value: name },
          refreshOn: (() => answers.shift()?.()) as unknown as RefreshOn,
          logger: { warn: (message) => { warnings.push(message) } },
          prefetch: false,
          secretsManager: { clientConfig: motoClientConfig() },
        }),
      )
      .handler((_event, context) => (fail ? Promise.reject(new Error('unrelated')) : Promise.resolve(context.secrets.value)))
    await expect(invoke(handler)).rejects.toThrow('unrelated')
    await expect(invoke(handler)).rejects.toThrow('unrelated')
    await updateSecret(name, 'v2')
    fail = false
    expect(await invoke(handler)).toBe('v1')
    expect(warnings).toEqual([
      'middy-cache: secretsCache refreshOn answered with a promise, so the cached secrets are kept: it must answer at once, true to drop them',
      'middy-cache: secretsCache refreshOn answered with a promise, so the cached secrets are kept: it must answer at once, true to drop them',
    ])
  })
})

describe('secretsCache refreshOn and errors its secrets took no part in', () => {
  test('an error a middleware raised before secretsCache ran (a token refused) is not asked about: the secrets stay, with no new GetSecretValue', async () => {
    const name = uniqueName('shop/not-yet-served')
    await createSecret(name, 'v1')
    const client = clients.made(new SecretsManagerClient(motoClientConfig()))
    const requests = countRequests(client)
    const refreshOn = jest.fn((error: unknown) => error instanceof AuthenticationError)
    let tokenRefused = false
    const handler = middy()
      .use(refusing(() => tokenRefused, 'the caller\'s token was refused'))
      .use(secretsCache({ secrets: { value: name }, refreshOn, prefetch: false, secretsManager: { awsSdkV3Client: client } }))
      .handler((_event, context) => Promise.resolve(context.secrets.value))
    expect(await invoke(handler)).toBe('v1')
    await updateSecret(name, 'v2')
    tokenRefused = true
    await expect(invoke(handler)).rejects.toThrow('token was refused')
    tokenRefused = false
    expect(await invoke(handler)).toBe('v1')
    expect(refreshOn).not.toHaveBeenCalled()
    expect(requests.count('GetSecretValueCommand')).toBe(1)
  })

  test('an error raised after secretsCache put the secrets on the context, in a later middleware or the handler, is asked about and drops them', async () => {
    const name = uniqueName('shop/served')
    await createSecret(name, 'v1')
    let failIn: 'middleware' | 'handler' | undefined
    const handler = middy()
      .use(secretsCache({ secrets: { value: name }, refreshOn: (error) => error instanceof AuthenticationError, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .use(refusing(() => failIn === 'middleware', 'the database refused the password'))
      .handler((_event, context) => (failIn === 'handler' ? Promise.reject(new AuthenticationError('the API refused the key')) : Promise.resolve(context.secrets.value)))
    expect(await invoke(handler)).toBe('v1')
    for (const [where, value] of [['middleware', 'v2'], ['handler', 'v3']] as const) {
      await updateSecret(name, value)
      failIn = where
      await expect(invoke(handler)).rejects.toThrow(AuthenticationError)
      failIn = undefined
      expect(await invoke(handler)).toBe(value)
    }
  })
})
