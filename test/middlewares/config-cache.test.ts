import middy, { type MiddlewareObj } from '@middy/core'
import { GetParameterCommand, LabelParameterVersionCommand, SSMClient } from '@aws-sdk/client-ssm'
import { setTimeout as sleep } from 'node:timers/promises'
import { inspect } from 'node:util'
import { configCache, json } from '../../middlewares/config-cache.js'
import { invocationOf } from '../../middlewares/shared/invocation.js'
import { holderHiding } from '../../middlewares/shared/redacted.js'
import type { CacheScope } from '../../src/cache/scope.js'
import { createSecret, putParameters, seedClients, startHttpFaultProxy, startMoto, startTcpProxy, uniqueName, type MotoHandle, type TcpProxy } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { movableTime } from '../support/clock.js'
import { holdRefreshes } from '../support/held-sdk-refresh.js'
import { flushPromises } from '../support/deferred.js'
import { invoke } from '../support/invoke.js'
import { lambdaContext } from '../support/lambda-context.js'
import { forgetProcessWideState } from '../support/process-state.js'
import { lastRegisteredCache } from '../support/registered-caches.js'
import { testClients } from '../support/sdk-clients.js'
import { countRequests } from '../support/sdk-requests.js'

interface Flags {
  checkout: boolean
  limit: number
}

const clients = testClients()
/** A client of the harness's moto (or of `endpoint`), destroyed after the test. */
const ssmClient = (endpoint?: string) => clients.made(new SSMClient(motoClientConfig(endpoint)))

afterEach(() => {
  clients.destroyAll()
  jest.restoreAllMocks()
})

describe('configCache against SSM on moto_server', () => {
  const prefix = `/${uniqueName('shop')}`
  const names = {
    table: `${prefix}/table`,
    flags: `${prefix}/flags`,
    regions: `${prefix}/regions`,
    banner: `${prefix}/banner`,
    apiKey: `${prefix}/api-key`,
    feature: `${prefix}/features/checkout`,
    nested: `${prefix}/features/beta/search`,
  }

  beforeAll(async () => {
    await putParameters({
      [names.table]: 'products',
      [names.flags]: JSON.stringify({ checkout: true, limit: 5 }),
      [names.regions]: ['eu-west-1', 'us-east-1'],
      [names.banner]: Buffer.from('Welcome!').toString('base64'),
      [names.apiKey]: { value: 'k-123', type: 'SecureString' },
      [names.feature]: 'on',
      [names.nested]: 'off',
    })
  })

  test('values arrive on context.config with the declared types, in one batch per decryption mode', async () => {
    const client = ssmClient()
    const requests = countRequests(client)
    type Received = [string, Readonly<Flags>, readonly string[], string, string, string | undefined, Readonly<Record<string, string>>]
    const handler = middy<unknown, Received>()
      .use(
        configCache({
          parameters: {
            table: names.table,
            flags: json<Flags>(names.flags),
            regions: { name: names.regions, type: 'StringList' },
            banner: { name: names.banner, transform: 'binary' },
            apiKey: { name: names.apiKey, decrypt: true },
            missing: { name: `${prefix}/missing`, optional: true },
          },
          paths: { features: `${prefix}/features/` },
          prefetch: false,
          awsSdkV3Client: client,
        }),
      )
      .handler((_event, context) => {
        const { table, flags, regions, banner, apiKey, missing, features } = context.config
        // Compile-time: each property has the type its options declare.
        const typed: Received = [table, flags, regions, banner, apiKey, missing, features]
        return Promise.resolve(typed)
      })

    const [table, flags, regions, banner, apiKey, missing, features] = await invoke(handler)
    expect(table).toBe('products')
    expect(flags).toEqual({ checkout: true, limit: 5 })
    expect(regions).toEqual(['eu-west-1', 'us-east-1'])
    expect(banner).toBe('Welcome!')
    expect(apiKey).toBe('k-123')
    expect(missing).toBeUndefined()
    expect(features).toEqual({ checkout: 'on', 'beta/search': 'off' })
    expect(requests.count('GetParametersCommand')).toBe(2)
    expect(requests.count('GetParametersByPathCommand')).toBe(1)
    expect(requests.count('GetParameterCommand')).toBe(0)
  })

  test('25 names, a fourth of them missing: GetParameters calls of at most 10 names, all sent at once; the missing ones undefined', async () => {
    const many = Array.from({ length: 25 }, (_, index) => `${prefix}/many/p${index}`)
    // Every fourth is missing, so that each call answers some names under InvalidParameters.
    const isStored = (index: number): boolean => index % 4 !== 0
    await putParameters(Object.fromEntries(many.filter((_, index) => isStored(index)).map((name) => [name, `value of ${name}`])))
    const client = ssmClient()
    const requests = countRequests(client)
    const handler = middy<unknown, Record<string, unknown>>()
      .use(configCache({ parameters: Object.fromEntries(many.map((name, index) => [`p${index}`, { name, optional: true }])), prefetch: false, awsSdkV3Client: client }))
      .handler((_event, context) => Promise.resolve({ ...context.config }))
    const received = await invoke(handler)
    expect(Object.keys(received)).toHaveLength(25)
    many.forEach((name, index) => {
      expect(received[`p${index}`]).toBe(isStored(index) ? `value of ${name}` : undefined)
    })
    // One call after another, a cold start would wait for three answers in turn.
    expect([requests.count('GetParametersCommand'), requests.mostAtOnce('GetParametersCommand')]).toEqual([3, 3])
  })

  test('decrypted values show as redacted in JSON and util.inspect, the others as they are; property access gives every value', async () => {
    let context: unknown
    const handler = middy()
      .use(
        configCache({
          parameters: { table: names.table, apiKey: { name: names.apiKey, decrypt: true } },
          paths: { features: { path: `${prefix}/features/`, decrypt: true } },
          prefetch: false,
          awsSdkV3Client: ssmClient(),
        }),
      )
      .handler((_event, lambda) => {
        context = lambda
        return Promise.resolve([lambda.config.apiKey, lambda.config.features.checkout])
      })
    expect(await invoke(handler)).toEqual(['k-123', 'on'])
    for (const shown of [JSON.stringify(context), inspect(context, { depth: 5 })]) {
      expect(shown).toContain('products')
      expect(shown).toContain('apiKey')
      expect(shown).not.toContain('k-123')
      expect(shown).not.toContain('beta/search')
    }
    expect(JSON.parse(JSON.stringify(context))).toMatchObject({ config: { table: 'products', apiKey: '[redacted]', features: '[redacted]' } })
  })

  test('100 warm invocations make exactly one SSM call per batch, counted where it reaches moto', async () => {
    const proxy = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
    const client = ssmClient(proxy.url)
    const requests = countRequests(client)
    try {
      const handler = middy()
        .use(configCache({ parameters: { table: names.table, flags: json<Flags>(names.flags) }, ttl: '5m', prefetch: false, awsSdkV3Client: client }))
        .handler((_event, context) => Promise.resolve(context.config.flags.limit))
      for (let invocation = 0; invocation < 100; invocation++) expect(await invoke(handler)).toBe(5)
      expect(requests.total()).toBe(1)
      expect(proxy.requests()).toEqual({ seen: 1, answered: 0 })
      expect(proxy.requests('AmazonSSM.GetParameters')).toEqual({ seen: 1, answered: 0 })
    } finally {
      client.destroy()
      await proxy.close()
    }
  })

  test('a handler that tries to change the values it was handed (parsed JSON, a StringList, a path, the object holding them) changes nothing it or the next invocation reads', async () => {
    const handler = middy()
      .use(
        configCache({
          parameters: { flags: json<Flags>(names.flags), regions: { name: names.regions, type: 'StringList' } },
          paths: { features: `${prefix}/features/` },
          prefetch: false,
          awsSdkV3Client: ssmClient(),
        }),
      )
      .handler((_event, context) => {
        const changes: (() => unknown)[] = [
          () => Reflect.set(context.config.flags, 'limit', 1_000),
          // Typed read-only: a handler gets past that with a cast.
          () => (context.config.regions as string[]).push('ap-south-1'),
          () => Reflect.set(context.config.features, 'checkout', 'off'),
          () => Reflect.set(context.config, 'flags', {}),
        ]
        for (const change of changes) {
          try {
            change()
          } catch {
            // Refused loudly (a push onto a frozen array) or, by Reflect.set, quietly: either way unchanged.
          }
        }
        return Promise.resolve(structuredClone({ ...context.config }))
      })
    const expected = { flags: { checkout: true, limit: 5 }, regions: ['eu-west-1', 'us-east-1'], features: { checkout: 'on', 'beta/search': 'off' } }
    expect(await Promise.all([invoke(handler), invoke(handler)])).toEqual([expected, expected])
    expect(await invoke(handler)).toEqual(expected)
  })

  test('prefetch at INIT: the first invocation makes no new SSM call when the prefetch finished', async () => {
    const client = ssmClient()
    const requests = countRequests(client)
    const middleware = configCache({ parameters: { table: names.table }, awsSdkV3Client: client })
    await lastRegisteredCache().settle(5_000)
    expect(requests.total()).toBe(1)
    const handler = middy().use(middleware).handler((_event, context) => Promise.resolve(context.config.table))
    expect(await invoke(handler)).toBe('products')
    expect(requests.total()).toBe(1)
  })

  // An unhandled rejection fails the test that is running: Jest's own handler takes it (a listener
  // added here to `process` never hears of one, since the test's `process` is Jest's copy).
  test('a prefetch that fails is swallowed (no unhandled rejection) and the first invocation loads again', async () => {
    const client = ssmClient('http://127.0.0.1:9')
    const requests = countRequests(client)
    const middleware = configCache({ parameters: { table: names.table }, awsSdkV3Client: client })
    expect(await lastRegisteredCache().settle(5_000)).toEqual({ completed: 1, abandoned: 0 })
    // Node reports a rejection left unhandled once the microtasks of the turn that made it have run.
    await flushPromises()
    expect(requests.total()).toBe(1)
    const handler = middy().use(middleware).handler((_event, context) => Promise.resolve(context.config.table))
    await expect(invoke(handler)).rejects.toThrow(/loading parameter "\/.*\/table" \(context.config.table\) for cache "config" failed/)
    expect(requests.total()).toBe(2)
  })

  test('expiry leads to exactly one refetch; inside staleWhileRevalidate the invocation is served at once', async () => {
    const client = ssmClient()
    const requests = countRequests(client)
    const seen: string[] = []
    const handler = middy()
      .use(configCache({ parameters: { table: names.table }, ttl: '300ms', staleWhileRevalidate: '1m', prefetch: false, awsSdkV3Client: client }))
      .before((request) => {
        seen.push(String(invocationOf(request).scope.countersFor('config').staleServed))
      })
      .handler((_event, context) => Promise.resolve(context.config.table))
    await invoke(handler)
    await sleep(350)
    await Promise.all(Array.from({ length: 5 }, () => invoke(handler)))
    expect(requests.total()).toBe(2)
    expect(seen.slice(1)).toEqual(['1', '1', '1', '1', '1'])
  })

  test('a missing parameter is a clear error naming it and the context property', async () => {
    const handler = middy()
      .use(configCache({ parameters: { gone: `${prefix}/does-not-exist` }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .handler(() => Promise.resolve('unreachable'))
    await expect(invoke(handler)).rejects.toThrow(`middy-cache: parameter "${prefix}/does-not-exist" for context.config.gone was not found`)
  })

  test('invalid JSON is a clear error naming the parameter', async () => {
    await putParameters({ [`${prefix}/broken`]: '{not json' })
    const handler = middy()
      .use(configCache({ parameters: { broken: { name: `${prefix}/broken`, transform: 'json' } }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .handler(() => Promise.resolve('unreachable'))
    await expect(invoke(handler)).rejects.toThrow(/parameter ".*\/broken" is not valid JSON/)
  })

  test("a value that is not base64 under transform: 'binary' is a clear error naming the parameter, not text decoded from noise", async () => {
    const name = `${prefix}/plain-banner`
    await putParameters({ [name]: 'Welcome to the shop!' })
    const handler = middy()
      .use(configCache({ parameters: { banner: { name, transform: 'binary' } }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .handler((_event, context) => Promise.resolve(context.config.banner))
    const error: unknown = await invoke(handler).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/parameter ".*\/plain-banner" is not valid base64/)
    expect((error as Error).message).not.toContain('Welcome')
  })

  test("base64 of bytes that are not UTF-8 text (a DER key, say) under transform: 'binary' is an error saying how to read it, not text with replacement characters", async () => {
    const name = `${prefix}/der-key`
    await putParameters({ [name]: Buffer.from([0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0xff, 0xfe]).toString('base64') })
    const handler = middy()
      .use(configCache({ parameters: { key: { name, transform: 'binary' } }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .handler((_event, context) => Promise.resolve(context.config.key))
    await expect(invoke(handler)).rejects.toThrow(`parameter "${name}" decodes from base64 to bytes that are not UTF-8 text: give it no transform and decode it yourself (Buffer.from(value, 'base64'))`)
  })

  test("base64 wrapped at 76 characters, as the base64 tool writes it, still decodes under transform: 'binary'", async () => {
    const name = `${prefix}/wrapped-banner`
    const text = 'Welcome to the shop! '.repeat(8)
    await putParameters({ [name]: Buffer.from(text).toString('base64').replace(/.{76}/g, '$&\n') })
    const handler = middy()
      .use(configCache({ parameters: { banner: { name, transform: 'binary' } }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .handler((_event, context) => Promise.resolve(context.config.banner))
    expect(await invoke(handler)).toBe(text)
  })

  test('a path given without its trailing slash names the parameter under it in errors as SSM does', async () => {
    const path = `${prefix}/broken-limits`
    await putParameters({ [`${path}/max`]: '{not json' })
    const handler = middy()
      .use(configCache({ paths: { limits: { path, transform: 'json' } }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .handler(() => Promise.resolve('unreachable'))
    await expect(invoke(handler)).rejects.toThrow(`parameter "${path}/max" is not valid JSON`)
  })

  test('parameters named by ARN, by version or label selector, and "_errors" arrive beside batched ones', async () => {
    const name = `${prefix}/versioned`
    await putParameters({ [name]: 'first' })
    await seedClients().ssm.send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 1, Labels: ['launch'] }))
    await putParameters({ [name]: 'second', _errors: 'a parameter Powertools reserves a key for' })
    const client = ssmClient()
    const requests = countRequests(client)
    const handler = middy()
      .use(
        configCache({
          parameters: {
            table: names.table,
            byArn: `arn:aws:ssm:us-east-1:123456789012:parameter${name}`,
            version: `${name}:1`,
            label: { name: `${name}:launch`, decrypt: true },
            missingVersion: { name: `${name}:9`, optional: true },
            errors: '_errors',
          },
          prefetch: false,
          awsSdkV3Client: client,
        }),
      )
      .handler((_event, context) => Promise.resolve({ ...context.config }))
    expect(await invoke(handler)).toEqual({
      table: 'products',
      byArn: 'second',
      version: 'first',
      label: 'first',
      missingVersion: undefined,
      errors: 'a parameter Powertools reserves a key for',
    })
    expect(requests.count('GetParametersCommand')).toBe(1)
  })

  test("a Secrets Manager secret read through SSM's reference path, a one-level name asked with the leading slash SSM drops, and \"__proto__\" arrive, the last two within their batch", async () => {
    const secret = uniqueName('shop-reference')
    await createSecret(secret, 'from-secrets-manager')
    const oneLevel = uniqueName('shop-region')
    await putParameters({ [oneLevel]: 'eu-west-1', ['__proto__']: 'a name plain objects cannot hold as a key' })
    const client = ssmClient()
    const requests = countRequests(client)
    const handler = middy()
      .use(
        configCache({
          parameters: {
            table: names.table,
            region: `/${oneLevel}`,
            apiKey: { name: names.apiKey, decrypt: true },
            referenced: { name: `/aws/reference/secretsmanager/${secret}`, decrypt: true },
            proto: '__proto__',
          },
          prefetch: false,
          awsSdkV3Client: client,
        }),
      )
      .handler((_event, context) => Promise.resolve({ ...context.config }))
    expect(await invoke(handler)).toEqual({ table: 'products', region: 'eu-west-1', apiKey: 'k-123', referenced: 'from-secrets-manager', proto: 'a name plain objects cannot hold as a key' })
    // One GetParameters call per decryption mode (the one-level name matched to SSM's answer without
    // the slash); the reference, which moto answers under the secret's own name, by GetParameter.
    expect([requests.count('GetParametersCommand'), requests.count('GetParameterCommand')]).toEqual([2, 1])
  })

  test("secrets read through SSM's reference path whose names differ by what reads as an option ('db#json' beside 'db' with transform: 'json') each arrive with their own value", async () => {
    const secret = uniqueName('shop-db')
    await createSecret(secret, { user: 'app' })
    await createSecret(`${secret}#json`, 'another secret')
    const reference = `/aws/reference/secretsmanager/${secret}`
    const handler = middy()
      .use(configCache({ parameters: { db: json<{ user: string }>(reference, { decrypt: true }), other: { name: `${reference}#json`, decrypt: true } }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .handler((_event, context) => Promise.resolve({ ...context.config }))
    expect(await invoke(handler)).toEqual({ db: { user: 'app' }, other: 'another secret' })
  })

  test('the property name is an option, and two instances in one chain never collide', async () => {
    const handler = middy()
      .use(configCache({ name: 'settings', parameters: { table: names.table }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .use(configCache({ parameters: { table: names.feature }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .handler((_event, context) => Promise.resolve([context.settings.table, context.config.table]))
    expect(await invoke(handler)).toEqual(['products', 'on'])
  })

  test('two instances sharing a name merge their values into one object, decrypted ones redacted, on every invocation and on a context handed in again', async () => {
    const handler = middy()
      .use(configCache({ parameters: { table: names.table }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .use(configCache({ parameters: { feature: names.feature, apiKey: { name: names.apiKey, decrypt: true } }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .handler((_event, context) => Promise.resolve([{ ...context.config }, JSON.stringify(context.config)]))
    const expected = [{ table: 'products', feature: 'on', apiKey: 'k-123' }, JSON.stringify({ table: 'products', feature: 'on', apiKey: '[redacted]' })]
    for (let invocation = 0; invocation < 3; invocation++) expect(await invoke(handler)).toEqual(expected)
    const reused = lambdaContext()
    for (let invocation = 0; invocation < 3; invocation++) expect(await invoke(handler, {}, reused)).toEqual(expected)
  })

  test('two instances sharing a name and a property: an error naming both parameters and the property, on every invocation; the handler never runs', async () => {
    const body = jest.fn(() => Promise.resolve('ran'))
    const handler = middy()
      .use(configCache({ parameters: { table: names.table }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .use(configCache({ parameters: { region: names.regions, table: names.feature }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .handler(body)
    for (let invocation = 0; invocation < 2; invocation++) {
      await expect(invoke(handler)).rejects.toThrow(
        `middy-cache: configCache "config" (parameter "${names.table}") and configCache "config" (parameter "${names.feature}") both put a value on context.config.table: give one of the two properties another name`,
      )
    }
    expect(body).not.toHaveBeenCalled()
  })

  const elsewhere = "something other than this suite's caches (another middleware, or the context the function was invoked with)"
  /** A middleware of the user's that puts `value` on context.config before configCache runs. */
  const puttingConfig = (value: unknown): MiddlewareObj => ({
    before: (request) => {
      ;(request.context as unknown as Record<string, unknown>).config = value
    },
  })

  test.each([
    ['a string', 'eu-west-1'],
    ['a number', 42],
    ['null', null],
    ['an array', ['eu-west-1']],
    ['a function', () => 'eu-west-1'],
    ['an instance of a class', new Map([['region', 'eu-west-1']])],
  ])('%s another middleware put under its name: an error naming the cache and the property, not a value dropped', async (kind, value) => {
    const handler = middy()
      .use(puttingConfig(value))
      .use(configCache({ parameters: { table: names.table }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .handler(() => Promise.resolve('ran'))
    await expect(invoke(handler)).rejects.toThrow(
      `middy-cache: configCache "config" cannot use context.config: it already holds ${kind} from ${elsewhere}, which holds no properties its values could be merged with; give the cache another name`,
    )
  })

  test('an object another middleware put under its name keeps its properties beside the values (a redacted holder keeps its redaction); one of the same property is an error', async () => {
    const config = configCache({ parameters: { table: names.table }, prefetch: false, awsSdkV3Client: ssmClient() })
    const readConfig = (_event: unknown, context: { config: object }) => Promise.resolve([{ ...context.config }, JSON.stringify(context.config)])
    const withRegion = middy().use(puttingConfig({ region: 'eu-west-1' })).use(config).handler(readConfig)
    expect(await invoke(withRegion)).toEqual([{ region: 'eu-west-1', table: 'products' }, JSON.stringify({ region: 'eu-west-1', table: 'products' })])
    const withoutPrototype = middy().use(puttingConfig(Object.assign(Object.create(null) as object, { region: 'eu-west-1' }))).use(config).handler(readConfig)
    const [values] = (await invoke(withoutPrototype)) as [object, string]
    expect(values).toEqual({ region: 'eu-west-1', table: 'products' })
    // As a copy of the package that records nothing of its holders would put one there.
    const redacted = middy().use(puttingConfig(holderHiding({ token: 't-1' }, 'all'))).use(config).handler(readConfig)
    expect(await invoke(redacted)).toEqual([{ token: 't-1', table: 'products' }, JSON.stringify({ token: '[redacted]', table: 'products' })])

    const withTable = middy().use(puttingConfig({ table: 'orders' })).use(config).handler(readConfig)
    await expect(invoke(withTable)).rejects.toThrow(
      `middy-cache: ${elsewhere} and configCache "config" (parameter "${names.table}") both put a value on context.config.table: give one of the two properties another name`,
    )
  })

  // configCache takes no `l1`: it holds only the values it names, so memory must hold every one, past the engine's
  // default bounds too (10,000 entries, 64 MiB). One parameter under 10,001 properties, each with a ttl of its own, makes
  // 10,001 entries (80 MB as the engine counts 4,000 UTF-16 characters each) from one GetParameters call.
  test('more values than the engine keeps by default are all kept: warm invocations make no SSM call', async () => {
    const name = `${prefix}/large`
    await putParameters({ [name]: 'x'.repeat(4_000) })
    const client = ssmClient()
    const requests = countRequests(client)
    const parameters = Object.fromEntries(Array.from({ length: 10_001 }, (_, index) => [`p${index}`, { name, ttl: 3_600 + index }]))
    const handler = middy()
      .use(configCache({ parameters, prefetch: false, awsSdkV3Client: client }))
      .handler((_event, context) => Promise.resolve(Object.keys(context.config).length))
    expect(await invoke(handler)).toBe(10_001)
    expect(requests.total()).toBe(1)
    for (let invocation = 0; invocation < 3; invocation++) expect(await invoke(handler)).toBe(10_001)
    expect(requests.total()).toBe(1)
    expect(lastRegisteredCache().stats()).toMatchObject({ entries: 10_001, evictions: 0 })
  })

  test('a per-parameter ttl overrides the cache ttl', async () => {
    const client = ssmClient()
    const requests = countRequests(client)
    const handler = middy()
      .use(configCache({ parameters: { table: names.table, short: { name: names.feature, ttl: '200ms' } }, ttl: '1h', prefetch: false, awsSdkV3Client: client }))
      .handler((_event, context) => Promise.resolve(context.config.short))
    await invoke(handler)
    await sleep(250)
    await invoke(handler)
    expect(requests.count('GetParametersCommand')).toBe(2)
  })

  test('one parameter under two properties with ttls of their own: each is refreshed on its own ttl', async () => {
    const name = `${prefix}/two-ttls`
    await putParameters({ [name]: 'v1' })
    const time = movableTime()
    const handler = middy()
      .use(configCache({ parameters: { often: { name, ttl: '1m' }, seldom: { name, ttl: '1h' } }, prefetch: false, awsSdkV3Client: ssmClient() }))
      .handler((_event, context) => Promise.resolve([context.config.often, context.config.seldom]))
    expect(await invoke(handler)).toEqual(['v1', 'v1'])
    await putParameters({ [name]: 'v2' })
    time.advance(61_000)
    expect(await invoke(handler)).toEqual(['v2', 'v1'])
  })

  test('one SecureString read with and without decrypt, by two properties or by two instances at once: only the decrypting ones hold its value', async () => {
    const client = ssmClient()
    const requests = countRequests(client)
    const ciphertext = (await seedClients().ssm.send(new GetParameterCommand({ Name: names.apiKey }))).Parameter?.Value
    expect(ciphertext).not.toBe('k-123')
    const time = movableTime()
    const handler = middy<unknown, unknown[]>()
      .use(configCache({ parameters: { sealed: names.apiKey, key: { name: names.apiKey, decrypt: true } }, ttl: '1m', prefetch: false, awsSdkV3Client: client }))
      .use(configCache({ name: 'plainCopy', parameters: { sealed: names.apiKey }, prefetch: false, awsSdkV3Client: client }))
      .use(configCache({ name: 'secretCopy', parameters: { key: { name: names.apiKey, decrypt: true } }, prefetch: false, awsSdkV3Client: client }))
      .handler((_event, context) => Promise.resolve([context.config.sealed, context.config.key, context.plainCopy.sealed, context.secretCopy.key, JSON.stringify(context.config)]))
    const expected = [ciphertext, 'k-123', ciphertext, 'k-123', JSON.stringify({ sealed: ciphertext, key: '[redacted]' })]
    expect(await Promise.all([invoke(handler), invoke(handler)])).toEqual([expected, expected])
    time.advance(61_000)
    expect(await invoke(handler)).toEqual(expected)
    // One call per instance and decryption mode, shared by the two invocations at once; then the first instance's two again, past its ttl.
    expect(requests.count('GetParametersCommand')).toBe(6)
  })

  test('a parameter that stops decoding keeps its last good value (staleIfError) and does not hold back the others of its batch', async () => {
    const [plain, flags] = [`${prefix}/batch-plain`, `${prefix}/batch-flags`]
    await putParameters({ [plain]: 'v1', [flags]: JSON.stringify({ checkout: true, limit: 1 }) })
    const time = movableTime()
    const client = ssmClient()
    const requests = countRequests(client)
    const handler = middy()
      .use(configCache({ parameters: { plain, flags: json<Flags>(flags) }, ttl: '1m', staleIfError: '1h', prefetch: false, awsSdkV3Client: client }))
      .handler((_event, context) => Promise.resolve([context.config.plain, context.config.flags.limit]))
    expect(await invoke(handler)).toEqual(['v1', 1])
    await putParameters({ [plain]: 'v2', [flags]: '{broken' })
    time.advance(61_000)
    expect(await invoke(handler)).toEqual(['v2', 1])
    expect(requests.count('GetParametersCommand')).toBe(2)
  })

  test('a warm-up ping refreshes the parameters in GetParameters batches, as a request loads them: 12 parameters, 2 calls', async () => {
    let modules: { configCache: typeof configCache; warmup: typeof import('../../middlewares/warmup.js').warmup } | undefined
    forgetProcessWideState()
    jest.isolateModules(() => {
      // A fresh registry: the ping refreshes this test's cache alone, not those of the tests before.
      /* eslint-disable @typescript-eslint/no-require-imports */
      modules = {
        configCache: (require('../../middlewares/config-cache.js') as typeof import('../../middlewares/config-cache.js')).configCache,
        warmup: (require('../../middlewares/warmup.js') as typeof import('../../middlewares/warmup.js')).warmup,
      }
      /* eslint-enable @typescript-eslint/no-require-imports */
    })
    if (modules === undefined) throw new Error('isolateModules did not run')
    const parameters = Object.fromEntries(Array.from({ length: 12 }, (_, index) => [`p${index}`, `${prefix}/batch/p${index}`]))
    await putParameters(Object.fromEntries(Object.values(parameters).map((name) => [name, `value of ${name}`])))
    const client = ssmClient()
    const requests = countRequests(client)
    const handler = middy()
      .use(modules.warmup())
      .use(modules.configCache({ parameters, ttl: '1m', prefetch: false, awsSdkV3Client: client }))
      .handler((_event, context) => Promise.resolve(context.config))
    expect(await invoke(handler)).toMatchObject({ p11: `value of ${prefix}/batch/p11` })
    expect(requests.count('GetParametersCommand')).toBe(2)
    requests.counts.clear()

    // Every entry stops being fresh before the next ping (ttl 1m, interval 5m): all 12 reload.
    expect(await invoke(handler, { warmer: true })).toMatchObject({ warmed: true, refreshed: 12, refreshFailed: 0 })
    expect(requests.count('GetParametersCommand')).toBe(2)
    expect(requests.total()).toBe(2)
  })
})

describe('configCache when SSM fails or is slow', () => {
  let moto: MotoHandle
  let proxy: TcpProxy
  let client: SSMClient

  beforeAll(async () => {
    moto = await startMoto()
    proxy = await startTcpProxy({ target: { host: moto.host, port: moto.port } })
    client = ssmClient(proxy.url('http'))
  })

  afterAll(async () => {
    client.destroy()
    await proxy.close()
    await moto.stop()
  })

  test('slow SSM (its answer held past timeout) with a stale value: the stale value is served once the refresh times out, before SSM answers; the late answer is kept', async () => {
    await putParameters({ '/slow/table': 'v1' }, { endpoint: moto.endpoint })
    const time = movableTime()
    const slow = ssmClient(moto.endpoint)
    const events: string[] = []
    const refreshes = holdRefreshes(slow, 'GetParametersCommand', () => events.push('SSM answered'))
    const scopes: CacheScope[] = []
    const handler = middy()
      // settleBudget: the refresh, released by the handler, is waited for in `after`, so that the next invocation finds its value.
      // The timeout is one the first load, which SSM answers, does not meet on a busy machine.
      .use(configCache({ parameters: { table: '/slow/table' }, ttl: '1m', staleIfError: '1h', timeout: '1s', settleBudget: '10s', prefetch: false, awsSdkV3Client: slow }))
      .before((request) => {
        scopes.push(invocationOf(request).scope)
      })
      .handler((_event, context) => {
        events.push(`handler saw ${context.config.table}`)
        refreshes.release()
        return Promise.resolve(context.config.table)
      })
    expect(await invoke(handler)).toBe('v1')
    events.length = 0
    refreshes.holdNext()

    await putParameters({ '/slow/table': 'v2' }, { endpoint: moto.endpoint })
    time.advance(61_000)
    expect(await invoke(handler)).toBe('v1')
    // SSM had not answered when the handler ran: the refresh is answered only once the handler let it go.
    expect(events).toEqual(['handler saw v1', 'SSM answered'])
    // Served because the refresh outlived its timeout, not as a stale value served at once (staleServed).
    expect(scopes[1]?.countersFor('config')).toMatchObject({ loadTimeouts: 1, staleOnError: 1, staleServed: 0 })
    expect(await invoke(handler)).toBe('v2')
  })

  test('moto stopped: after one failed refresh, invocations within retryAfterError get the stale value without an SSM call', async () => {
    await putParameters({ '/backoff/table': 'last-good' }, { endpoint: moto.endpoint })
    const counted = ssmClient(proxy.url('http'))
    let sends = 0
    counted.middlewareStack.add((next) => (args) => {
      sends++
      return next(args)
    }, { step: 'initialize' })
    const handler = middy()
      .use(configCache({ parameters: { table: '/backoff/table' }, ttl: '200ms', staleIfError: '1h', retryAfterError: '1h', prefetch: false, awsSdkV3Client: counted }))
      .handler((_event, context) => Promise.resolve(context.config.table))
    try {
      expect(await invoke(handler)).toBe('last-good')
      await moto.kill()
      try {
        await sleep(250)
        for (let invocation = 0; invocation < 5; invocation++) expect(await invoke(handler)).toBe('last-good')
        expect(sends).toBe(2)
      } finally {
        await moto.start()
      }
    } finally {
      counted.destroy()
    }
  })

  test('moto stopped: within staleIfError stale values keep invocations up; beyond it, a clear error', async () => {
    await putParameters({ '/outage/table': 'last-good' }, { endpoint: moto.endpoint })
    const time = movableTime()
    const handler = middy()
      .use(configCache({ parameters: { table: '/outage/table' }, ttl: '1m', staleIfError: '1h', prefetch: false, awsSdkV3Client: client }))
      .handler((_event, context) => Promise.resolve(context.config.table))
    expect(await invoke(handler)).toBe('last-good')
    await moto.kill()
    try {
      time.advance(61_000)
      expect(await invoke(handler)).toBe('last-good')
      time.advance(60 * 60_000)
      await expect(invoke(handler)).rejects.toThrow(/loading parameter "\/outage\/table" \(context.config.table\) for cache "config" failed/)
    } finally {
      await moto.start()
    }
  })
})

describe('configCache: the prefetch at INIT, through a proxy to moto_server', () => {
  const table = `/${uniqueName('prefetch')}/table`
  let proxy: TcpProxy

  beforeAll(async () => {
    await putParameters({ [table]: 'orders' })
  })

  beforeEach(async () => {
    const moto = new URL(process.env.AWS_ENDPOINT_URL ?? '')
    proxy = await startTcpProxy({ target: { host: moto.hostname, port: Number(moto.port) } })
  })

  afterEach(async () => {
    await proxy.close()
  })

  /** Makes the middleware with `make`; its prefetch then waits on a connection whose bytes the proxy holds. */
  const withPrefetchHeld = async <M>(make: () => M): Promise<M> => {
    proxy.setBlackhole(true)
    const middleware = make()
    while (proxy.connections === 0) await sleep(5)
    return middleware
  }

  test('provisioned concurrency: a prefetch left on a connection that died while INIT was frozen does not hold up the invocations after the thaw', async () => {
    const client = ssmClient(proxy.url('http'))
    const requests = countRequests(client)
    const time = movableTime()
    const middleware = await withPrefetchHeld(() => configCache({ parameters: { table }, ttl: '1h', awsSdkV3Client: client }))
    // Frozen for an hour with the request on the wire: at the thaw, its connection is dead (a NAT
    // mapping lost, say), and the SDK's request, which has no timeout, is never answered.
    proxy.silenceOpenConnections()
    proxy.setBlackhole(false)
    time.advance(60 * 60_000)

    const handler = middy<unknown, string>()
      .use(middleware)
      .handler((_event, context) => Promise.resolve(context.config.table))
    expect(await invoke(handler)).toBe('orders')
    expect(await invoke(handler)).toBe('orders')
    expect(requests.total()).toBe(2)
  })

  test('on demand: the first invocation joins the prefetch still running, rather than loading again', async () => {
    const client = ssmClient(proxy.url('http'))
    const requests = countRequests(client)
    const time = movableTime()
    const middleware = await withPrefetchHeld(() => configCache({ parameters: { table }, ttl: '1h', awsSdkV3Client: client }))
    // A slow INIT (the rest of the module took 5 s); SSM has not answered yet when the invocation starts.
    time.advance(5_000)

    const handler = middy<unknown, string>()
      .use(middleware)
      .handler((_event, context) => Promise.resolve(context.config.table))
    let answered = false
    const invocation = invoke(handler).then((value) => {
      answered = true
      return value
    })
    await sleep(50)
    expect(answered).toBe(false)
    proxy.setBlackhole(false)
    expect(await invocation).toBe('orders')
    expect(requests.total()).toBe(1)
  })
})
