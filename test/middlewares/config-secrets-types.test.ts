import middy from '@middy/core'
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm'
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { mockClient } from 'aws-sdk-client-mock'
import type { Context } from 'aws-lambda'
import { CacheOptionsError, configCache, json, jsonSecret, secretsCache, type JsonParameterArguments, type JsonSecretArguments, type ParameterOptions, type ParameterSpec, type PathOptions, type SecretOptions } from 'middy-cache'
import type { ReservedContextName } from '../../middlewares/shared/cache-options.js'
import { putParameters, uniqueName } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { invoke } from '../support/invoke.js'

// Compile-time checks, enforced by `npm run typecheck` (which includes test/): what configCache and
// secretsCache put on the context is typed as README.md's configCache and secretsCache section says.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the standard exact type-equality idiom
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const typeIs = <T extends true>(value: T): T => value

interface Flags {
  newCheckout: boolean
}
interface DbCredentials {
  username: string
  password: string
}
interface Rollout {
  regions: string[]
  stages: { name: string; share: number }[]
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

describe('types of what configCache and secretsCache add to the context', () => {
  test("README's example: each parameter, path and secret is typed as its comment says, and read-only", () => {
    const handler = middy()
      .use(configCache({
        parameters: {
          table: '/shop/table',
          flags: json<Flags>('/shop/flags', { ttl: '1m' }),
          regions: { name: '/shop/regions', type: 'StringList' },
          apiKey: { name: '/shop/api-key', decrypt: true },
          banner: { name: '/shop/banner', optional: true },
        },
        paths: { limits: '/shop/limits/' },
        ttl: '5m',
        prefetch: false,
      }))
      .use(secretsCache({ secrets: { stripeKey: 'shop/stripe', db: jsonSecret<DbCredentials>('shop/db'), cert: { name: 'shop/cert' } }, prefetch: false }))
      .handler((_event, context) => {
        typeIs<Equal<typeof context.config.table, string>>(true)
        typeIs<Equal<typeof context.config.flags, Readonly<Flags>>>(true)
        typeIs<Equal<typeof context.config.regions, readonly string[]>>(true)
        typeIs<Equal<typeof context.config.apiKey, string>>(true)
        typeIs<Equal<typeof context.config.banner, string | undefined>>(true)
        typeIs<Equal<typeof context.config.limits, Readonly<Record<string, string>>>>(true)
        typeIs<Equal<typeof context.secrets.stripeKey, string>>(true)
        typeIs<Equal<typeof context.secrets.db, Readonly<DbCredentials>>>(true)
        typeIs<Equal<typeof context.secrets.cert, string | Uint8Array>>(true)
        // @ts-expect-error context.config is read-only
        context.config.table = 'other'
        // @ts-expect-error context.secrets is read-only
        context.secrets.stripeKey = 'other'
        return Promise.resolve()
      })
    expect(typeof handler).toBe('function')
  })

  test('json<T>() and jsonSecret<T>() with optional: true type the value T | undefined, which is what a missing one gives', async () => {
    const ssm = new SSMClient({ region: 'us-east-1', credentials })
    const secretsManager = new SecretsManagerClient({ region: 'us-east-1', credentials })
    const ssmMock = mockClient(ssm)
    const secretsMock = mockClient(secretsManager)
    try {
      ssmMock.on(GetParametersCommand).resolves({ Parameters: [], InvalidParameters: ['/shop/flags'] })
      secretsMock.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: 'no such secret', $metadata: {} }))
      const handler = middy()
        .use(configCache({ name: 'optionalJson', parameters: { flags: json<Flags>('/shop/flags', { optional: true }) }, prefetch: false, awsSdkV3Client: ssm }))
        .use(secretsCache({ name: 'optionalSecrets', secrets: { db: jsonSecret<DbCredentials>('shop/db', { optional: true }) }, prefetch: false, secretsManager: { awsSdkV3Client: secretsManager } }))
        .handler((_event, context) => {
          typeIs<Equal<typeof context.optionalJson.flags, Readonly<Flags> | undefined>>(true)
          typeIs<Equal<typeof context.optionalSecrets.db, Readonly<DbCredentials> | undefined>>(true)
          return Promise.resolve([context.optionalJson.flags, context.optionalSecrets.db])
        })
      expect(await invoke(handler)).toEqual([undefined, undefined])
    } finally {
      ssmMock.restore()
      secretsMock.restore()
    }
  })

  test('an optional known only at run time types the value T | undefined, which is what a missing one gives (moto)', async () => {
    const optionalOutsideProduction: boolean = process.env.STAGE !== 'production'
    const missing = uniqueName('missing')
    const ssm = new SSMClient(motoClientConfig())
    try {
      const handler = middy()
        .use(configCache({
          name: 'stageConfig',
          parameters: { banner: { name: `/${missing}/banner`, optional: optionalOutsideProduction }, flags: json<Flags>(`/${missing}/flags`, { optional: optionalOutsideProduction }) },
          prefetch: false,
          awsSdkV3Client: ssm,
        }))
        .use(secretsCache({
          name: 'stageSecrets',
          secrets: { stripeKey: { name: missing, source: 'ssm', optional: optionalOutsideProduction }, db: jsonSecret<DbCredentials>(missing, { optional: optionalOutsideProduction }) },
          prefetch: false,
          ssm: { awsSdkV3Client: ssm },
          secretsManager: { clientConfig: motoClientConfig() },
        }))
        .handler((_event, context) => {
          typeIs<Equal<typeof context.stageConfig.banner, string | undefined>>(true)
          typeIs<Equal<typeof context.stageConfig.flags, Readonly<Flags> | undefined>>(true)
          typeIs<Equal<typeof context.stageSecrets.stripeKey, string | undefined>>(true)
          typeIs<Equal<typeof context.stageSecrets.db, Readonly<DbCredentials> | undefined>>(true)
          return Promise.resolve([context.stageConfig.banner, context.stageConfig.flags, context.stageSecrets.stripeKey, context.stageSecrets.db])
        })
      expect(await invoke(handler)).toEqual([undefined, undefined, undefined, undefined])
    } finally {
      ssm.destroy()
    }
  })

  test('options typed wider than a literal (ParameterOptions, a record of ParameterSpec) type the value as anything they allow, undefined included where optional may be true', async () => {
    const missing = uniqueName('missing')
    // As a helper that builds specs returns them: typed by their interfaces, not by their literals.
    const optionalBanner: ParameterOptions = { name: `/${missing}/banner`, optional: true }
    const optionalFlags: JsonParameterArguments = { optional: true }
    const optionalSecret: SecretOptions = { name: missing, optional: true }
    const optionalDb: JsonSecretArguments = { optional: true }
    const fromConfiguration: Record<string, ParameterSpec> = { regions: { name: `/${missing}/regions`, type: 'StringList', optional: true } }
    const anyPath: PathOptions = { path: `/${missing}/limits/`, transform: 'json' }
    const ssm = new SSMClient(motoClientConfig())
    try {
      const handler = middy()
        .use(configCache({ name: 'widerConfig', parameters: { banner: optionalBanner, flags: json<Flags>(`/${missing}/flags`, optionalFlags) }, paths: { limits: anyPath }, prefetch: false, awsSdkV3Client: ssm }))
        .use(configCache({ name: 'recordConfig', parameters: fromConfiguration, prefetch: false, awsSdkV3Client: ssm }))
        .use(secretsCache({ name: 'widerSecrets', secrets: { stripeKey: optionalSecret, db: jsonSecret<DbCredentials>(missing, optionalDb) }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
        .handler((_event, context) => {
          typeIs<Equal<typeof context.widerConfig.banner, unknown>>(true)
          typeIs<Equal<typeof context.widerConfig.flags, Readonly<Flags> | undefined>>(true)
          typeIs<Equal<typeof context.widerConfig.limits, Readonly<Record<string, unknown>>>>(true)
          typeIs<Equal<(typeof context.recordConfig)[string], unknown>>(true)
          typeIs<Equal<typeof context.widerSecrets.stripeKey, unknown>>(true)
          typeIs<Equal<typeof context.widerSecrets.db, Readonly<DbCredentials> | undefined>>(true)
          return Promise.resolve([context.widerConfig.banner, context.widerConfig.flags, context.recordConfig.regions, context.widerSecrets.stripeKey, context.widerSecrets.db])
        })
      expect(await invoke(handler)).toEqual([undefined, undefined, undefined, undefined, undefined])
    } finally {
      ssm.destroy()
    }
  })

  test('literal options keep their precise types: a StringList, a binary value, a path of each kind, a secret of each source', () => {
    const handler = middy()
      .use(configCache({
        name: 'literalConfig',
        parameters: {
          regions: { name: '/shop/regions', type: 'StringList', optional: true },
          banner: { name: '/shop/banner', transform: 'binary' },
          required: { name: '/shop/table', optional: false },
          anyJson: { name: '/shop/any', transform: 'json' },
        },
        paths: { flat: { path: '/shop/limits', recursive: false }, parsed: { path: '/shop/flags/', transform: 'json' }, decoded: { path: '/shop/banners/', transform: 'binary' } },
        prefetch: false,
      }))
      .use(secretsCache({
        name: 'literalSecrets',
        secrets: { signing: { name: '/shop/signing', source: 'ssm', transform: 'binary' }, certificate: { name: 'shop/certificate', transform: 'binary' }, db: jsonSecret<DbCredentials>('/shop/db', { source: 'ssm' }) },
        prefetch: false,
      }))
      .handler((_event, context) => {
        typeIs<Equal<typeof context.literalConfig.regions, readonly string[] | undefined>>(true)
        typeIs<Equal<typeof context.literalConfig.banner, string>>(true)
        typeIs<Equal<typeof context.literalConfig.required, string>>(true)
        typeIs<Equal<typeof context.literalConfig.anyJson, unknown>>(true)
        typeIs<Equal<typeof context.literalConfig.flat, Readonly<Record<string, string>>>>(true)
        typeIs<Equal<typeof context.literalConfig.parsed, Readonly<Record<string, unknown>>>>(true)
        typeIs<Equal<typeof context.literalConfig.decoded, Readonly<Record<string, string>>>>(true)
        typeIs<Equal<typeof context.literalSecrets.signing, string>>(true)
        typeIs<Equal<typeof context.literalSecrets.certificate, string | Uint8Array>>(true)
        typeIs<Equal<typeof context.literalSecrets.db, Readonly<DbCredentials>>>(true)
        return Promise.resolve(context.literalConfig.banner)
      })
    expect(typeof handler).toBe('function')
  })

  test('a literal name the Lambda context already has, or inherits, fails to compile, as it fails construction; a name typed string compiles, and is checked at construction', () => {
    const refused = /option "name" cannot be "(functionName|caches|toString|tenantId)": the context already has a property of that name/
    // @ts-expect-error the context's own property
    expect(() => configCache({ name: 'functionName', parameters: { table: '/shop/table' }, prefetch: false })).toThrow(refused)
    // @ts-expect-error where dataCache puts its handles
    expect(() => configCache({ name: 'caches', paths: { limits: '/shop/limits/' }, prefetch: false })).toThrow(refused)
    // @ts-expect-error inherited by the context, a plain object
    expect(() => secretsCache({ name: 'toString', secrets: { stripeKey: 'shop/stripe' }, prefetch: false })).toThrow(refused)
    // @ts-expect-error the context's own under tenant isolation
    expect(() => secretsCache({ name: 'tenantId', secrets: { stripeKey: 'shop/stripe' }, prefetch: false })).toThrow(refused)
    const fromEnvironment: string = process.env.UNSET_CONFIG_NAME ?? 'functionName'
    expect(() => configCache({ name: fromEnvironment, parameters: { table: '/shop/table' }, prefetch: false })).toThrow(CacheOptionsError)
    expect(() => secretsCache({ name: fromEnvironment, secrets: { stripeKey: 'shop/stripe' }, prefetch: false })).toThrow(CacheOptionsError)
    // Every property the Lambda context types is refused as a literal.
    typeIs<Equal<Exclude<keyof Context, ReservedContextName>, never>>(true)
  })

  test('a name typed string puts the values under any property, as the types cannot tell which', () => {
    const name: string = 'settings'
    const handler = middy()
      .use(configCache({ name, parameters: { table: '/shop/table' }, prefetch: false }))
      .use(secretsCache({ name: 'vault', secrets: { stripeKey: 'shop/stripe' }, prefetch: false }))
      .handler((_event, context) => {
        // Under any property: one the values may not be under.
        typeIs<Equal<NonNullable<typeof context.settings>['table'], string>>(true)
        typeIs<Equal<Extract<typeof context.settings, undefined>, undefined>>(true)
        typeIs<Equal<typeof context.vault.stripeKey, string>>(true)
        return Promise.resolve(context.vault.stripeKey)
      })
    expect(typeof handler).toBe('function')
  })

  test('json<T>() and jsonSecret<T>() without optional keep T, read-only', () => {
    const handler = middy()
      .use(configCache({ name: 'requiredJson', parameters: { flags: json<Flags>('/shop/flags', { optional: false }) }, prefetch: false }))
      .use(secretsCache({ name: 'requiredSecrets', secrets: { db: jsonSecret<DbCredentials>('shop/db', { ttl: '1h' }) }, prefetch: false }))
      .handler((_event, context) => {
        typeIs<Equal<typeof context.requiredJson.flags, Readonly<Flags>>>(true)
        typeIs<Equal<typeof context.requiredSecrets.db, Readonly<DbCredentials>>>(true)
        return Promise.resolve([context.requiredJson.flags.newCheckout, context.requiredSecrets.db.username])
      })
    expect(typeof handler).toBe('function')
  })

  test('values the engine freezes are typed read-only, however deep, so changing one in place is a compile error rather than a failure at run time', async () => {
    const prefix = `/${uniqueName('frozen')}`
    await putParameters({
      [`${prefix}/regions`]: ['eu-west-1', 'us-east-1'],
      [`${prefix}/flags`]: JSON.stringify({ newCheckout: true }),
      [`${prefix}/rollout`]: JSON.stringify({ regions: ['eu-west-1'], stages: [{ name: 'canary', share: 5 }] }),
      [`${prefix}/limits/max-items`]: '10',
    })
    const ssm = new SSMClient(motoClientConfig())
    try {
      const attempts: (() => unknown)[] = []
      const handler = middy()
        .use(configCache({
          name: 'frozenConfig',
          parameters: { regions: { name: `${prefix}/regions`, type: 'StringList' }, flags: json<Flags>(`${prefix}/flags`), rollout: json<Rollout>(`${prefix}/rollout`) },
          paths: { limits: `${prefix}/limits/`, parsedLimits: { path: `${prefix}/limits/`, transform: 'json' } },
          prefetch: false,
          awsSdkV3Client: ssm,
        }))
        .handler((_event, context) => {
          const { regions, flags, rollout, limits, parsedLimits } = context.frozenConfig
          typeIs<Equal<typeof rollout.regions, readonly string[]>>(true)
          typeIs<Equal<(typeof rollout.stages)[number], { readonly name: string; readonly share: number }>>(true)
          // What reads a value still takes it: readonly properties are assignable to mutable ones.
          const read: Flags = flags
          attempts.push(
            // @ts-expect-error a StringList is read-only
            () => regions.push('ap-south-1'), // eslint-disable-line @typescript-eslint/no-unsafe-call -- the call the types refuse, made to see it change nothing at run time
            // @ts-expect-error a path's object is read-only
            () => (limits['max-items'] = '20'),
            // @ts-expect-error a JSON path's object is read-only
            () => delete parsedLimits['max-items'],
            // @ts-expect-error a JSON value's properties are read-only
            () => (flags.newCheckout = !read.newCheckout),
            // @ts-expect-error so are the arrays it holds
            () => rollout.regions.push('ap-south-1'), // eslint-disable-line @typescript-eslint/no-unsafe-call -- as above
            // @ts-expect-error and the objects within them
            () => (rollout.stages[0]!.share = 100),
          )
          return Promise.resolve({ regions, flags, rollout, limits, parsedLimits })
        })
      const served = {
        regions: ['eu-west-1', 'us-east-1'],
        flags: { newCheckout: true },
        rollout: { regions: ['eu-west-1'], stages: [{ name: 'canary', share: 5 }] },
        limits: { 'max-items': '10' },
        parsedLimits: { 'max-items': 10 },
      }
      expect(await invoke(handler)).toEqual(served)
      // Each attempt the types refuse changes nothing at run time either: it throws in strict code
      // (ES modules), and does nothing in sloppy code, which this file is once compiled to CommonJS.
      for (const attempt of attempts) {
        try {
          attempt()
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError)
        }
      }
      expect(await invoke(handler)).toEqual(served)
    } finally {
      ssm.destroy()
    }
  })
})
