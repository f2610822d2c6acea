import middy from '@middy/core'
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { inspect } from 'node:util'
import { configCache } from '../../middlewares/config-cache.js'
import { secretsCache, jsonSecret } from '../../middlewares/secrets-cache.js'
import { CacheOptionsError, type Duration } from '../../src/index.js'
import { registeredCaches } from '../../src/cache/registry.js'
import { awsJsonError, createSecret, putParameters, startHttpFaultProxy, uniqueName, updateSecret } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { movableTime } from '../support/clock.js'
import { invoke } from '../support/invoke.js'
import { testClients } from '../support/sdk-clients.js'
import { countRequests } from '../support/sdk-requests.js'

interface DbCredentials {
  user: string
  password: string
}


class AuthenticationError extends Error {}

const clients = testClients()

afterEach(() => {
  clients.destroyAll()
})

describe('secretsCache against Secrets Manager and SSM on moto_server', () => {
  const names = {
    stripe: uniqueName('shop/stripe'),
    db: uniqueName('shop/db'),
    certificate: uniqueName('shop/certificate'),
    ssmKey: `/${uniqueName('shop')}/signing-key`,
  }

  beforeAll(async () => {
    await createSecret(names.stripe, 'sk_live_123')
    await createSecret(names.db, { user: 'app', password: 'hunter2' })
    await createSecret(names.certificate, new Uint8Array([1, 2, 3]))
    await putParameters({ [names.ssmKey]: { value: 'ssm-secret', type: 'SecureString' } })
  })

  test('secrets arrive on context.secrets with the declared types, one GetSecretValue per secret over 100 warm invocations, counted where they reach moto', async () => {
    const proxy = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    const client = clients.made(new SecretsManagerClient(motoClientConfig(proxy.url)))
    const requests = countRequests(client)
    try {
      type Received = [string, DbCredentials, string | Uint8Array, string, string | Uint8Array | undefined]
      const handler = middy<unknown, Received>()
        .use(
          secretsCache({
            secrets: {
              stripeKey: names.stripe,
              db: jsonSecret<DbCredentials>(names.db),
              certificate: { name: names.certificate },
              signingKey: { name: names.ssmKey, source: 'ssm' },
              absent: { name: uniqueName('shop/absent'), optional: true },
            },
            prefetch: false,
            secretsManager: { awsSdkV3Client: client },
            ssm: { clientConfig: motoClientConfig(proxy.url) },
          }),
        )
        .handler((_event, context) => {
          const { stripeKey, db, certificate, signingKey, absent } = context.secrets
          const typed: Received = [stripeKey, db, certificate, signingKey, absent]
          return Promise.resolve(typed)
        })

      let result = await invoke(handler)
      for (let invocation = 1; invocation < 100; invocation++) result = await invoke(handler)
      const [stripeKey, db, certificate, signingKey, absent] = result
      expect(stripeKey).toBe('sk_live_123')
      expect(db).toEqual({ user: 'app', password: 'hunter2' })
      expect(Buffer.from(certificate as Uint8Array)).toEqual(Buffer.from([1, 2, 3]))
      expect(signingKey).toBe('ssm-secret')
      expect(absent).toBeUndefined()
      expect(requests.count('GetSecretValueCommand')).toBe(4)
      expect(proxy.requests('secretsmanager.GetSecretValue')).toEqual({ seen: 4, answered: 0 })
      expect(proxy.requests('AmazonSSM.GetParameters')).toEqual({ seen: 1, answered: 0 })
      expect(proxy.requests()).toEqual({ seen: 5, answered: 0 })
    } finally {
      await proxy.close()
    }
  })

  test('JSON.stringify and util.inspect of the context show the names, redacted; property access gives the values', async () => {
    let context: unknown
    const handler = middy()
      .use(secretsCache({ secrets: { stripeKey: names.stripe, db: jsonSecret<DbCredentials>(names.db) }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .handler((_event, lambda) => {
        context = lambda
        return Promise.resolve(lambda.secrets.stripeKey)
      })
    expect(await invoke(handler)).toBe('sk_live_123')

    const json = JSON.stringify(context)
    const inspected = inspect(context, { depth: 5 })
    for (const shown of [json, inspected]) {
      expect(shown).toContain('stripeKey')
      expect(shown).toContain('[redacted]')
      expect(shown).not.toContain('sk_live_123')
      expect(shown).not.toContain('hunter2')
    }
    expect(JSON.parse(json)).toMatchObject({ secrets: { stripeKey: '[redacted]', db: '[redacted]' } })
  })

  test('a configCache sharing the context name keeps the secrets redacted, whichever of the two runs first', async () => {
    const table = `/${uniqueName('shop')}/table`
    await putParameters({ [table]: 'orders' })
    const shared = { name: 'settings', prefetch: false } as const
    const secrets = secretsCache({ ...shared, secrets: { stripeKey: names.stripe }, secretsManager: { clientConfig: motoClientConfig() } })
    const config = configCache({ ...shared, parameters: { table }, clientConfig: motoClientConfig() })
    for (const chain of [middy().use(secrets).use(config), middy().use(config).use(secrets)]) {
      let context: unknown
      const handler = chain.handler((_event, lambda) => {
        context = lambda
        const settings = (lambda as unknown as { settings: Record<string, string> }).settings
        return Promise.resolve(`${String(settings.table)}/${String(settings.stripeKey)}`)
      })
      expect(await invoke(handler)).toBe('orders/sk_live_123')
      for (const shown of [JSON.stringify(context), inspect(context, { depth: 5 })]) {
        expect(shown).toContain('stripeKey')
        expect(shown).not.toContain('sk_live_123')
      }
    }
  })

  test('a configCache sharing the context name and a property: an error naming the parameter, the secret and the property, whichever runs first', async () => {
    const parameter = `/${uniqueName('shop')}/stripe-key`
    await putParameters({ [parameter]: 'pk_live_123' })
    const shared = { name: 'settings', prefetch: false } as const
    const secrets = secretsCache({ ...shared, secrets: { stripeKey: names.stripe }, secretsManager: { clientConfig: motoClientConfig() } })
    const config = configCache({ ...shared, parameters: { stripeKey: parameter }, clientConfig: motoClientConfig() })
    const [fromConfig, fromSecrets] = [`configCache "settings" (parameter "${parameter}")`, `secretsCache "settings" (secret "${names.stripe}")`]
    const body = jest.fn(() => Promise.resolve('ran'))
    await expect(invoke(middy().use(secrets).use(config).handler(body))).rejects.toThrow(
      `middy-cache: ${fromSecrets} and ${fromConfig} both put a value on context.settings.stripeKey: give one of the two properties another name`,
    )
    await expect(invoke(middy().use(config).use(secrets).handler(body))).rejects.toThrow(
      `middy-cache: ${fromConfig} and ${fromSecrets} both put a value on context.settings.stripeKey: give one of the two properties another name`,
    )
    expect(body).not.toHaveBeenCalled()
  })

  test('two instances sharing the default name merge their secrets into one object, all redacted, on every invocation', async () => {
    const handler = middy()
      .use(secretsCache({ secrets: { stripeKey: names.stripe }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .use(secretsCache({ secrets: { db: jsonSecret<DbCredentials>(names.db) }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .handler((_event, context) => Promise.resolve([context.secrets.stripeKey, context.secrets.db.password, JSON.stringify(context.secrets), inspect(context.secrets)]))
    for (let invocation = 0; invocation < 3; invocation++) {
      expect(await invoke(handler)).toEqual(['sk_live_123', 'hunter2', JSON.stringify({ stripeKey: '[redacted]', db: '[redacted]' }), inspect({ stripeKey: '[redacted]', db: '[redacted]' })])
    }
  })

  test('refreshOn drops the cached secrets when the handler fails with a matching error, so the next invocation fetches again', async () => {
    const name = uniqueName('shop/rotating')
    await createSecret(name, 'old-password')
    let fail = true
    const handler = middy()
      .use(
        secretsCache({
          secrets: { password: name },
          refreshOn: (error) => error instanceof AuthenticationError,
          prefetch: false,
          secretsManager: { clientConfig: motoClientConfig() },
        }),
      )
      .handler((_event, context) => {
        if (fail) return Promise.reject(new AuthenticationError(`rejected ${context.secrets.password}`))
        return Promise.resolve(context.secrets.password)
      })
    await expect(invoke(handler)).rejects.toThrow('rejected old-password')
    await updateSecret(name, 'new-password')
    fail = false
    expect(await invoke(handler)).toBe('new-password')
  })

  test('a refreshOn written in JavaScript that answers a truthy value other than true drops the secrets, as an if would read it', async () => {
    const name = uniqueName('shop/truthy')
    await createSecret(name, 'old-password')
    let fail = true
    // What a JavaScript predicate may answer: the matching status code, say, rather than a boolean.
    const refreshOn = ((error: unknown) => (error instanceof AuthenticationError ? 401 : 0)) as unknown as (error: unknown) => boolean
    const handler = middy()
      .use(secretsCache({ secrets: { password: name }, refreshOn, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .handler((_event, context) => (fail ? Promise.reject(new AuthenticationError(`rejected ${context.secrets.password}`)) : Promise.resolve(context.secrets.password)))
    await expect(invoke(handler)).rejects.toThrow('rejected old-password')
    await updateSecret(name, 'new-password')
    fail = false
    expect(await invoke(handler)).toBe('new-password')
  })

  test('an error refreshOn does not accept keeps the cached secrets', async () => {
    const name = uniqueName('shop/kept')
    await createSecret(name, 'v1')
    let fail = true
    const handler = middy()
      .use(secretsCache({ secrets: { value: name }, refreshOn: (error) => error instanceof AuthenticationError, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .handler((_event, context) => (fail ? Promise.reject(new Error('unrelated')) : Promise.resolve(context.secrets.value)))
    await expect(invoke(handler)).rejects.toThrow('unrelated')
    await updateSecret(name, 'v2')
    fail = false
    expect(await invoke(handler)).toBe('v1')
  })

  test('a refreshOn that throws keeps the secrets, and says so to the logger given, not the console', async () => {
    const name = uniqueName('shop/kept-by-logger')
    await createSecret(name, 'v1')
    const consoleWarn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    const warnings: string[] = []
    let fail = true
    try {
      const handler = middy()
        .use(
          secretsCache({
            secrets: { value: name },
            refreshOn: (error) => (error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode === 401,
            logger: { warn: (message) => { warnings.push(message) } },
            prefetch: false,
            secretsManager: { clientConfig: motoClientConfig() },
          }),
        )
        .handler((_event, context) => (fail ? Promise.reject(new Error('boom')) : Promise.resolve(context.secrets.value)))
      await expect(invoke(handler)).rejects.toThrow('boom')
      await updateSecret(name, 'v2')
      fail = false
      expect(await invoke(handler)).toBe('v1')
      expect(warnings).toEqual([expect.stringMatching(/^middy-cache: secretsCache refreshOn threw, so the cached secrets are kept: TypeError: /)])
      expect(consoleWarn).not.toHaveBeenCalled()
    } finally {
      consoleWarn.mockRestore()
    }
  })

  test('a secret that is not valid JSON is an error naming it, and neither the error nor its causes quote the value', async () => {
    const short = uniqueName('shop/plain-key')
    const long = uniqueName('shop/long-key')
    await createSecret(short, 'sk_live_4eC39HqLy')
    await createSecret(long, 'sk_live_4eC39HqLyjWDarjtT1zdp7dc{')
    for (const [name, value] of [
      [short, 'sk_live_4eC39HqLy'],
      [long, 'sk_live_4eC39HqLyjWDarjtT1zdp7dc{'],
    ] as const) {
      const handler = middy()
        .use(secretsCache({ secrets: { key: { name, transform: 'json' } }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
        .handler(() => Promise.resolve('unreachable'))
      const error = await invoke(handler).then(
        () => undefined,
        (thrown: unknown) => thrown,
      )
      expect((error as Error).message).toContain(`secret "${name}" is not valid JSON`)
      const shown = inspect(error, { depth: 10 })
      expect(shown).not.toContain(value.slice(0, 8))
      expect(shown).not.toContain(value.slice(-8))
    }
  })

  test("a SecretBinary under transform: 'json' whose bytes are not UTF-8 text is an error, not JSON with replacement characters in it", async () => {
    const name = uniqueName('shop/binary-db')
    await createSecret(name, Buffer.concat([Buffer.from('{"user":"app","password":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]))
    const handler = middy()
      .use(secretsCache({ secrets: { db: jsonSecret<DbCredentials>(name) }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .handler((_event, context) => Promise.resolve(context.secrets.db.password))
    await expect(invoke(handler)).rejects.toThrow(`secret "${name}" is not valid JSON: its bytes are not UTF-8 text`)
  })

  test('a binary secret named by its name alone, typed string, is an error saying how to receive its bytes', async () => {
    const handler = middy()
      .use(secretsCache({ secrets: { certificate: names.certificate }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .handler((_event, context) => Promise.resolve(context.secrets.certificate.length))
    await expect(invoke(handler)).rejects.toThrow(`middy-cache: secret "${names.certificate}" for context.secrets.certificate is binary (SecretBinary): declare it as { name: '${names.certificate}' } to receive its bytes`)
  })

  test("a handler that writes into a SecretBinary's bytes (zeroing a key after use) changes nothing the invocations after it, or those running at once, are handed", async () => {
    const name = uniqueName('shop/signing-key-bytes')
    await createSecret(name, new Uint8Array([1, 2, 3, 4]))
    const client = clients.made(new SecretsManagerClient(motoClientConfig()))
    const requests = countRequests(client)
    const handler = middy<unknown, number[][]>()
      .use(secretsCache({ secrets: { key: { name }, decoded: { name, transform: 'binary' } }, prefetch: false, secretsManager: { awsSdkV3Client: client } }))
      .handler(async (_event, context) => {
        const held = [context.secrets.key, context.secrets.decoded] as Uint8Array[]
        const seen = held.map((bytes) => [...bytes])
        // Done with the key: zeroed, while another invocation running at once may be using its own.
        for (const bytes of held) bytes.fill(0)
        await new Promise((resolve) => setTimeout(resolve, 10))
        return seen
      })
    const results = [await invoke(handler), ...(await Promise.all([invoke(handler), invoke(handler)])), await invoke(handler)]
    expect(results).toEqual(results.map(() => [[1, 2, 3, 4], [1, 2, 3, 4]]))
    // Read once per property (each is an entry of its own), then served from memory: the copies are not reloads.
    expect(requests.count('GetSecretValueCommand')).toBe(2)
  })

  test("secrets whose names differ by what reads as an option ('shop/db#json' beside 'shop/db' with transform: 'json') each arrive with their own value", async () => {
    const name = uniqueName('shop/db')
    await createSecret(name, { user: 'app', password: 'hunter2' })
    await createSecret(`${name}#json`, 'another secret')
    const handler = middy()
      .use(secretsCache({ secrets: { db: jsonSecret<DbCredentials>(name), other: { name: `${name}#json` } }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .handler((_event, context) => Promise.resolve({ ...context.secrets }))
    expect(await invoke(handler)).toEqual({ db: { user: 'app', password: 'hunter2' }, other: 'another secret' })
  })

  test('a secret named by its ARN or partial ARN arrives; during a rotation, the AWSCURRENT version is served, not AWSPENDING', async () => {
    const name = uniqueName('shop/rotating')
    const arn = await createSecret(name, 'current')
    await clients.made(new SecretsManagerClient(motoClientConfig())).send(new PutSecretValueCommand({ SecretId: name, SecretString: 'pending', VersionStages: ['AWSPENDING'] }))
    // A partial ARN leaves out the six random characters Secrets Manager appends to the name.
    const partialArn = arn.replace(/-[A-Za-z0-9]{6}$/, '')
    expect(partialArn).not.toBe(arn)
    const handler = middy()
      .use(secretsCache({ secrets: { byName: name, byArn: arn, byPartialArn: partialArn }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .handler((_event, context) => Promise.resolve({ ...context.secrets }))
    expect(await invoke(handler)).toEqual({ byName: 'current', byArn: 'current', byPartialArn: 'current' })
  })

  test('a missing secret is a clear error naming it', async () => {
    const name = uniqueName('shop/nope')
    const handler = middy()
      .use(secretsCache({ secrets: { key: name }, prefetch: false, secretsManager: { clientConfig: motoClientConfig() } }))
      .handler(() => Promise.resolve('unreachable'))
    await expect(invoke(handler)).rejects.toThrow(`middy-cache: secret "${name}" for context.secrets.key was not found`)
  })
})

describe('secretsCache rotation cap on moto', () => {
  test("a rotation scheduled a day away (DescribeSecret's NextRotationDate) caps a two-day ttl at that rotation", async () => {
    const name = uniqueName('shop/rotating')
    await createSecret(name, 'v1')
    const client = clients.made(new SecretsManagerClient(motoClientConfig()))
    await client.send(new RotateSecretCommand({ SecretId: name, RotationRules: { AutomaticallyAfterDays: 1 }, RotateImmediately: false }))
    const rotatesAt = (await client.send(new DescribeSecretCommand({ SecretId: name }))).NextRotationDate?.getTime() ?? Number.NaN
    const cacheName = uniqueName('rotationCapped').replace(/[^A-Za-z0-9]/g, '')
    const handler = middy()
      .use(secretsCache({ name: cacheName, secrets: { key: name }, ttl: '2d', capTtlAtRotation: true, prefetch: false, secretsManager: { awsSdkV3Client: client } }))
      .handler((_event, context) => Promise.resolve((context as unknown as Record<string, Record<string, string>>)[cacheName]?.key))
    const before = { wall: Date.now(), monotonic: performance.now() }
    expect(await invoke(handler)).toBe('v1')
    const after = { wall: Date.now(), monotonic: performance.now() }

    // Within the two-day ttl, so that the cap has something to cut.
    expect(rotatesAt - before.wall).toBeGreaterThan(0)
    expect(rotatesAt - before.wall).toBeLessThan(2 * 86_400_000)
    const cache = registeredCaches().find((registration) => registration.cache.name === cacheName)?.cache
    const [[, entry] = []] = [...(cache?.peekEntries() ?? [])]
    // The entry, made between the two readings of each clock, stays fresh until the rotation: its ttl
    // is the time from the load (by the wall clock) to NextRotationDate, in whole milliseconds.
    expect(entry?.freshUntil).toBeGreaterThanOrEqual(before.monotonic + (rotatesAt - after.wall) - 1)
    expect(entry?.freshUntil).toBeLessThanOrEqual(after.monotonic + (rotatesAt - before.wall))
  })
})

describe('secretsCache rotation cap when DescribeSecret is denied (answered through a fault proxy, as AWS sends it)', () => {
  test('each secret loads, uncapped, and a warning naming it and the reason is logged once per secret', async () => {
    const names = [uniqueName('shop/uncapped-a'), uniqueName('shop/uncapped-b')]
    await Promise.all(names.map((name, index) => createSecret(name, `v${index}`)))
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    try {
      faults.inject({
        target: 'secretsmanager.DescribeSecret',
        ...awsJsonError('AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/shop/fn is not authorized to perform: secretsmanager:DescribeSecret'),
      })
      const handler = middy()
        .use(secretsCache({ secrets: { a: names[0] ?? '', b: names[1] ?? '' }, ttl: '30ms', capTtlAtRotation: true, prefetch: false, secretsManager: { clientConfig: motoClientConfig(faults.url) } }))
        .handler((_event, context) => Promise.resolve([context.secrets.a, context.secrets.b]))
      expect(await invoke(handler)).toEqual(['v0', 'v1'])
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(await invoke(handler)).toEqual(['v0', 'v1'])
      expect(faults.requests('secretsmanager.DescribeSecret')).toEqual({ seen: 4, answered: 4 })
      // The two loads run concurrently: their warnings may come in either order.
      const warnings = warn.mock.calls.map(([message]) => String(message))
      expect(warnings).toHaveLength(2)
      for (const [property, name] of [['a', names[0]], ['b', names[1]]] as const) {
        const about = warnings.filter((message) => message.includes(`DescribeSecret of secret "${name ?? ''}" (context.secrets.${property}) failed, so its ttl is not capped at its next rotation`))
        expect(about).toHaveLength(1)
        expect(about[0]).toContain('AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/shop/fn is not authorized')
      }
    } finally {
      warn.mockRestore()
      await faults.close()
    }
  })
})

describe('secretsCache rotation cap when DescribeSecret is denied, with a logger', () => {
  test('the warning goes to the logger given, not the console; a logger that throws fails no load', async () => {
    const name = uniqueName('shop/uncapped-logged')
    await createSecret(name, 'v0')
    const faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    const consoleWarn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
    const warnings: string[] = []
    try {
      faults.inject({ target: 'secretsmanager.DescribeSecret', ...awsJsonError('AccessDeniedException', 'User is not authorized to perform: secretsmanager:DescribeSecret') })
      const logger = {
        warn: (message: string) => {
          warnings.push(message)
          throw new Error('the log transport is closed')
        },
      }
      const handler = middy()
        .use(secretsCache({ secrets: { key: name }, capTtlAtRotation: true, logger, prefetch: false, secretsManager: { clientConfig: motoClientConfig(faults.url) } }))
        .handler((_event, context) => Promise.resolve(context.secrets.key))
      expect(await invoke(handler)).toBe('v0')
      expect(warnings).toEqual([expect.stringContaining(`DescribeSecret of secret "${name}" (context.secrets.key) failed, so its ttl is not capped at its next rotation: AccessDeniedException`)])
      expect(consoleWarn).not.toHaveBeenCalled()
    } finally {
      consoleWarn.mockRestore()
      await faults.close()
    }
  })
})

describe('secretsCache rotation cap, on a clock the test moves (DescribeSecret mocked: a rotation moto schedules is a day away or more)', () => {
  afterEach(() => {
    jest.restoreAllMocks()
  })

  /** A handler reading secret `key`, which loads as v1, v2, ... and rotates next in `untilRotationMs`. */
  const rotatingSecret = (untilRotationMs: number, ttl?: Duration) => {
    const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
    const mock = mockClient(client)
    let version = 0
    mock.on(GetSecretValueCommand).callsFake(() => ({ SecretString: `v${++version}` }))
    mock.on(DescribeSecretCommand).resolves({ RotationEnabled: true, NextRotationDate: new Date(Date.now() + untilRotationMs) })
    const handler = middy()
      .use(secretsCache({ secrets: { key: 'rotating' }, ...(ttl === undefined ? {} : { ttl }), capTtlAtRotation: true, prefetch: false, secretsManager: { awsSdkV3Client: client } }))
      .handler((_event, context) => Promise.resolve(context.secrets.key))
    return {
      handler,
      restore: () => {
        mock.restore()
      },
    }
  }

  test("NextRotationDate caps a secret's ttl", async () => {
    const time = movableTime()
    const { handler, restore } = rotatingSecret(10 * 60_000, '1h')
    expect(await invoke(handler)).toBe('v1')
    time.advance(5 * 60_000)
    expect(await invoke(handler)).toBe('v1')
    // Past the rotation, well within the hour of the ttl.
    time.advance(6 * 60_000)
    expect(await invoke(handler)).toBe('v2')
    restore()
  })

  test("a rotation further off than the cache's ttl leaves that ttl as it is, never lengthens it", async () => {
    const time = movableTime()
    const { handler, restore } = rotatingSecret(30 * 86_400_000, '1m')
    expect(await invoke(handler)).toBe('v1')
    time.advance(61_000)
    expect(await invoke(handler)).toBe('v2')
    restore()
  })

  test('a rotation further off than an entry may live (a year) caps nothing, and the secret loads', async () => {
    const { handler, restore } = rotatingSecret(400 * 86_400_000)
    expect(await invoke(handler)).toBe('v1')
    restore()
  })
})

describe('secretsCache options', () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['no secrets', { secrets: {} }, /option "secrets" must name at least one secret/],
    ['secrets not an object', { secrets: 'shop/stripe' }, /option "secrets" must be an object/],
    ['unknown option', { secrets: { a: 'x' }, ttls: '1m' }, /option "ttls" is not an option \(did you mean "ttl"\?\)/],
    ['bad source', { secrets: { a: { name: 'x', source: 'vault' } } }, /option "secrets.a.source" must be 'secretsmanager' or 'ssm'/],
    ['bad transform', { secrets: { a: { name: 'x', transform: 'yaml' } } }, /option "secrets.a.transform" must be 'json' or 'binary'/],
    ['empty name', { secrets: { a: '' } }, /option "secrets.a" must be a secret name/],
    ['bad ttl', { secrets: { a: { name: 'x', ttl: '-1m' } } }, /option "secrets.a.ttl"/],
    ['ttl past a year', { secrets: { a: { name: 'x', ttl: '400d' } } }, /option "secrets.a.ttl" must be a duration of at most one year/],
    ['refreshOn not a function', { secrets: { a: 'x' }, refreshOn: 'AuthError' }, /option "refreshOn" must be a function/],
    ['unknown client option', { secrets: { a: 'x' }, secretsManager: { region: 'eu-west-1' } }, /option "secretsManager.region" is not an option/],
    ['bad cache ttl', { secrets: { a: 'x' }, ttl: 'forever' }, /option "ttl"/],
    ['a logger without warn', { secrets: { a: 'x' }, logger: { info: () => undefined } }, /option "logger" must be an object with a warn\(message\) method, such as console; got an object/],
    ['capTtlAtRotation with SSM SecureStrings alone', { secrets: { a: { name: '/x', source: 'ssm' } }, capTtlAtRotation: true }, /option "capTtlAtRotation" applies only to Secrets Manager secrets/],
  ])('%s', (_case, options, message) => {
    const create = () => secretsCache({ prefetch: false, ...options } as unknown as Parameters<typeof secretsCache>[0])
    expect(create).toThrow(CacheOptionsError)
    expect(create).toThrow(message)
  })

  test('capTtlAtRotation: false beside SSM SecureStrings alone is accepted: it asks for nothing', () => {
    expect(() => secretsCache({ secrets: { a: { name: '/x', source: 'ssm' } }, capTtlAtRotation: false, prefetch: false })).not.toThrow()
  })

  test('an SSM client for SecureStrings can be passed in', async () => {
    const name = `/${uniqueName('shop')}/passed-client`
    await putParameters({ [name]: { value: 'from-passed-client', type: 'SecureString' } })
    const client = clients.made(new SSMClient(motoClientConfig()))
    const requests = countRequests(client)
    const handler = middy()
      .use(secretsCache({ secrets: { key: { name, source: 'ssm' } }, prefetch: false, ssm: { awsSdkV3Client: client } }))
      .handler((_event, context) => Promise.resolve(context.secrets.key))
    expect(await invoke(handler)).toBe('from-passed-client')
    expect(requests.total()).toBe(1)
  })
})

describe('secretsCache capTtlAtRotation with a NextRotationDate in the past (a rotation that failed)', () => {
  test('the secret is not reloaded on every invocation', async () => {
    const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
    const mock = mockClient(client)
    let version = 0
    mock.on(GetSecretValueCommand).callsFake(() => ({ SecretString: `v${++version}` }))
    // AWS: "If rotation is unsuccessful, this date may be in the past."
    mock.on(DescribeSecretCommand).resolves({ RotationEnabled: true, NextRotationDate: new Date(Date.now() - 3_600_000) })
    const handler = middy()
      .use(secretsCache({ secrets: { key: 'rotating' }, ttl: '15m', capTtlAtRotation: true, prefetch: false, secretsManager: { awsSdkV3Client: client } }))
      .handler((_event, context) => Promise.resolve(context.secrets.key))
    expect(await invoke(handler)).toBe('v1')
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await invoke(handler)).toBe('v1')
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await invoke(handler)).toBe('v1')
    expect(mock.commandCalls(GetSecretValueCommand)).toHaveLength(1)
    mock.restore()
  })
})
