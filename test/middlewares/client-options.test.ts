import middy from '@middy/core'
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import { configCache } from '../../middlewares/config-cache.js'
import { secretsCache } from '../../middlewares/secrets-cache.js'
import { CacheOptionsError } from '../../src/index.js'
import { putParameters, uniqueName } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { invoke } from '../support/invoke.js'

/**
 * DESIGN.md: "Invalid options throw at construction with a message that names the option". The
 * SDK client options of configCache and secretsCache were passed on unchecked: Powertools then
 * swaps a client that is no SDK client for a default one (a console.warn at the first load), and
 * a clientConfig beside a client is silently ignored.
 */
/** `client`'s send and config, without the rest of it: what a hand-made wrapper (tracing, say) often is. */
const sendingOnly = <C extends { send: (...args: never[]) => unknown; config: object }>(client: C): C => ({ send: client.send.bind(client), config: client.config }) as unknown as C

describe('configCache and secretsCache SDK client options are checked at construction', () => {
  test.each<[string, () => unknown, string]>([
    ['configCache awsSdkV3Client that is no client', () => configCache({ parameters: { a: '/a' }, prefetch: false, awsSdkV3Client: 'ssm' as never }), 'awsSdkV3Client'],
    ['configCache clientConfig that is no object', () => configCache({ parameters: { a: '/a' }, prefetch: false, clientConfig: 'eu-west-1' }), 'clientConfig'],
    ['configCache clientConfig beside awsSdkV3Client (ignored)', () => configCache({ parameters: { a: '/a' }, prefetch: false, awsSdkV3Client: new SSMClient({ region: 'us-east-1' }), clientConfig: { region: 'eu-west-1' } }), 'clientConfig'],
    ['secretsCache secretsManager.awsSdkV3Client that is no client', () => secretsCache({ secrets: { a: 'a' }, prefetch: false, secretsManager: { awsSdkV3Client: 'sm' as never } }), 'secretsManager.awsSdkV3Client'],
    ['secretsCache secretsManager.clientConfig that is no object', () => secretsCache({ secrets: { a: 'a' }, prefetch: false, secretsManager: { clientConfig: 5 } }), 'secretsManager.clientConfig'],
    ['secretsCache secretsManager both', () => secretsCache({ secrets: { a: 'a' }, prefetch: false, secretsManager: { awsSdkV3Client: new SecretsManagerClient({ region: 'us-east-1' }), clientConfig: { region: 'eu-west-1' } } }), 'secretsManager.clientConfig'],
    ['secretsCache ssm.awsSdkV3Client that is no client', () => secretsCache({ secrets: { a: { name: '/a', source: 'ssm' } }, prefetch: false, ssm: { awsSdkV3Client: {} as never } }), 'ssm.awsSdkV3Client'],
    // A client of another service would have every request refused by AWS, at the first load.
    ['configCache awsSdkV3Client of Secrets Manager', () => configCache({ parameters: { a: '/a' }, prefetch: false, awsSdkV3Client: new SecretsManagerClient({ region: 'us-east-1' }) as never }), 'awsSdkV3Client'],
    ['secretsCache secretsManager.awsSdkV3Client of SSM', () => secretsCache({ secrets: { a: 'a' }, prefetch: false, secretsManager: { awsSdkV3Client: new SSMClient({ region: 'us-east-1' }) as never } }), 'secretsManager.awsSdkV3Client'],
    ['secretsCache ssm.awsSdkV3Client of Secrets Manager', () => secretsCache({ secrets: { a: { name: '/a', source: 'ssm' } }, prefetch: false, ssm: { awsSdkV3Client: new SecretsManagerClient({ region: 'us-east-1' }) as never } }), 'ssm.awsSdkV3Client'],
    // A wrapper with the client's send and config but no middleware stack: Powertools takes it for no SDK client and reads
    // what goes through its provider (a name with a version, an ARN, a secret) with a default client of its own, elsewhere.
    ['configCache awsSdkV3Client without a middleware stack', () => configCache({ parameters: { a: '/a' }, prefetch: false, awsSdkV3Client: sendingOnly(new SSMClient({ region: 'us-east-1' })) }), 'awsSdkV3Client'],
    ['secretsCache secretsManager.awsSdkV3Client without a middleware stack', () => secretsCache({ secrets: { a: 'a' }, prefetch: false, secretsManager: { awsSdkV3Client: sendingOnly(new SecretsManagerClient({ region: 'us-east-1' })) } }), 'secretsManager.awsSdkV3Client'],
    ['secretsCache ssm.awsSdkV3Client without a middleware stack', () => secretsCache({ secrets: { a: { name: '/a', source: 'ssm' } }, prefetch: false, ssm: { awsSdkV3Client: sendingOnly(new SSMClient({ region: 'us-east-1' })) } }), 'ssm.awsSdkV3Client'],
  ])('%s', (_case, make, option) => {
    expect(make).toThrow(CacheOptionsError)
    expect(make).toThrow(`option "${option}"`)
  })

  test('valid clients and client options are accepted', () => {
    expect(() => configCache({ parameters: { a: '/a' }, prefetch: false, awsSdkV3Client: new SSMClient({ region: 'us-east-1' }) })).not.toThrow()
    expect(() => configCache({ parameters: { a: '/a' }, prefetch: false, clientConfig: { region: 'us-east-1' } })).not.toThrow()
    expect(() => secretsCache({ secrets: { a: 'a' }, prefetch: false, secretsManager: { awsSdkV3Client: new SecretsManagerClient({ region: 'us-east-1' }) }, ssm: { clientConfig: { region: 'us-east-1' } } })).not.toThrow()
  })
})

/**
 * A clientConfig the SDK takes without a word and fails on at every call: a string endpoint is
 * parsed per request, and an empty region is refused only when the client is made, at the first
 * load. Endpoint objects and providers, and region providers, are the SDK's to call.
 */
describe("the endpoint and region of a clientConfig are checked at construction, each error naming the option's path", () => {
  test.each<[string, () => unknown, string, RegExp]>([
    ['configCache: an endpoint that is no URL', () => configCache({ parameters: { a: '/a' }, prefetch: false, clientConfig: { endpoint: 'not a url' } }), 'clientConfig.endpoint', /must be an http:\/\/ or https:\/\/ URL.*; got a string that is no URL/],
    ['configCache: an endpoint without its scheme', () => configCache({ parameters: { a: '/a' }, prefetch: false, clientConfig: { endpoint: 'localhost:4566' } }), 'clientConfig.endpoint', /got a URL of scheme "localhost"/],
    ['secretsCache: a secretsManager endpoint of another scheme', () => secretsCache({ secrets: { a: 'a' }, prefetch: false, secretsManager: { clientConfig: { endpoint: 'ftp://127.0.0.1:4566' } } }), 'secretsManager.clientConfig.endpoint', /got a URL of scheme "ftp"/],
    ['secretsCache: an empty ssm endpoint', () => secretsCache({ secrets: { a: { name: '/a', source: 'ssm' } }, prefetch: false, ssm: { clientConfig: { endpoint: '' } } }), 'ssm.clientConfig.endpoint', /got a string that is no URL/],
    ['configCache: an endpoint that is a number', () => configCache({ parameters: { a: '/a' }, prefetch: false, clientConfig: { endpoint: 4566 as never } }), 'clientConfig.endpoint', /must be an http:\/\/ or https:\/\/ URL, an endpoint object or a function that gives one; got 4566/],
    ['configCache: an empty region', () => configCache({ parameters: { a: '/a' }, prefetch: false, clientConfig: { region: '' } }), 'clientConfig.region', /must be a region such as 'eu-west-1', or a function that gives one; got ""/],
    ['secretsCache: a secretsManager region that is a number', () => secretsCache({ secrets: { a: 'a' }, prefetch: false, secretsManager: { clientConfig: { region: 1 as never } } }), 'secretsManager.clientConfig.region', /got 1/],
    ['secretsCache: an ssm region that is null', () => secretsCache({ secrets: { a: { name: '/a', source: 'ssm' } }, prefetch: false, ssm: { clientConfig: { region: null as never } } }), 'ssm.clientConfig.region', /got null/],
  ])('%s', (_case, make, option, message) => {
    expect(make).toThrow(CacheOptionsError)
    expect(make).toThrow(`option "${option}"`)
    expect(make).toThrow(message)
  })

  test('the refused endpoint is not shown: a URL may carry a password', () => {
    const make = () => configCache({ parameters: { a: '/a' }, prefetch: false, clientConfig: { endpoint: 'https://proxy:s3cret@[proxy.internal' } })
    expect(make).toThrow('option "clientConfig.endpoint"')
    expect(make).not.toThrow(/s3cret/)
  })

  test('URLs, endpoint objects and providers, and region providers, are accepted: the SDK calls them itself', () => {
    const endpoint = 'https://ssm.eu-west-1.amazonaws.com'
    const region = (): Promise<string> => Promise.resolve('eu-west-1')
    for (const clientConfig of [
      { endpoint: 'http://127.0.0.1:4566', region: 'us-east-1' },
      { endpoint, region },
      { endpoint: { url: new URL(endpoint) } },
      { endpoint: { protocol: 'https:', hostname: 'ssm.eu-west-1.amazonaws.com', path: '/' } },
      { endpoint: () => Promise.resolve({ url: new URL(endpoint) }) },
    ]) {
      expect(() => configCache({ parameters: { a: '/a' }, prefetch: false, clientConfig })).not.toThrow()
      expect(() => secretsCache({ secrets: { a: 'a', b: { name: '/b', source: 'ssm' } }, prefetch: false, secretsManager: { clientConfig }, ssm: { clientConfig } })).not.toThrow()
    }
  })

  test('an endpoint and a region given as providers reach the service: moto serves the parameter', async () => {
    const name = `/${uniqueName('providers')}/table`
    await putParameters({ [name]: 'orders' })
    const { endpoint, region, ...rest } = motoClientConfig()
    const handler = middy()
      .use(configCache({ name: 'provided', parameters: { table: name }, prefetch: false, clientConfig: { ...rest, endpoint: () => Promise.resolve({ url: new URL(endpoint) }), region: () => Promise.resolve(region) } }))
      .handler((_event, context) => Promise.resolve(context.provided.table))
    expect(await invoke(handler)).toBe('orders')
  })
})
