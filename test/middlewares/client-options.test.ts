import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import { configCache } from '../../middlewares/config-cache.js'
import { secretsCache } from '../../middlewares/secrets-cache.js'
import { CacheOptionsError } from '../../src/index.js'

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
