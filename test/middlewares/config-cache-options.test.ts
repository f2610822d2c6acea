import middy from '@middy/core'
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { configCache } from '../../middlewares/config-cache.js'
import { secretsCache } from '../../middlewares/secrets-cache.js'
import { CacheKind, CacheOptionsError, registeredCaches } from '../../src/index.js'
import { invoke } from '../support/invoke.js'

const fakeClient = () => new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })

describe('configCache options', () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['nothing to cache', {}, /option "parameters" or 'paths' must name at least one value/],
    ['parameters not an object', { parameters: ['/a'] }, /option "parameters" must be an object/],
    ['bad parameter name', { parameters: { a: 'no spaces allowed' } }, /option "parameters.a" must be an SSM parameter name/],
    ['missing parameter name', { parameters: { a: { transform: 'json' } } }, /option "parameters.a.name" must be an SSM parameter name or ARN.*got undefined/],
    ['unknown parameter option', { parameters: { a: { name: '/a', decrypted: true } } }, /option "parameters.a.decrypted" is not an option \(did you mean "parameters.a.decrypt"\?\)/],
    ['bad transform', { parameters: { a: { name: '/a', transform: 'yaml' } } }, /option "parameters.a.transform" must be 'json' or 'binary'/],
    ['bad type', { parameters: { a: { name: '/a', type: 'SecureString' } } }, /option "parameters.a.type" must be 'StringList'/],
    ['StringList with a transform', { parameters: { a: { name: '/a', type: 'StringList', transform: 'json' } } }, /option "parameters.a.transform" cannot be combined with type: 'StringList'/],
    ['decrypt not a boolean', { parameters: { a: { name: '/a', decrypt: 'yes' } } }, /option "parameters.a.decrypt" must be true or false/],
    ['bad parameter ttl', { parameters: { a: { name: '/a', ttl: '1 hour' } } }, /option "parameters.a.ttl"/],
    // As the cache-wide ttl: at construction, not as a load error at every invocation.
    ['a parameter ttl of 0', { parameters: { a: { name: '/a', ttl: 0 } } }, /option "parameters.a.ttl" must be 1 ms or more; got 0/],
    ['a path ttl of 0', { paths: { flags: { path: '/f/', ttl: '0s' } } }, /option "paths.flags.ttl" must be 1 ms or more; got "0s"/],
    ['bad path', { paths: { flags: 'flags with spaces' } }, /option "paths.flags" must be an SSM parameter name/],
    ['unknown path option', { paths: { flags: { path: '/f/', recursively: false } } }, /option "paths.flags.recursively" is not an option/],
    ['one property in parameters and paths', { parameters: { flags: '/a' }, paths: { flags: '/f/' } }, /option "paths.flags" lands on the same context property as parameters.flags/],
    ['unknown option', { parameters: { a: '/a' }, parameter: {} }, /option "parameter" is not an option \(did you mean "parameters"\?\)/],
    ['bad ttl', { parameters: { a: '/a' }, ttl: -5 }, /option "ttl"/],
    // Only undefined takes the default: null is refused, as dataCache and the engine refuse it.
    ['a null ttl', { parameters: { a: '/a' }, ttl: null }, /option "ttl" must be a number of seconds or a string such as .*; got null/],
    ['a null negativeTtl', { parameters: { a: '/a' }, negativeTtl: null }, /option "negativeTtl" must be .*; got null/],
    // The options without a default of configCache's own are passed on when given, a null too.
    ['a null staleIfError', { parameters: { a: '/a' }, staleIfError: null }, /option "staleIfError" must be a number of seconds or a string such as .*; got null/],
    ['a null jitter', { parameters: { a: '/a' }, jitter: null }, /option "jitter" must be a fraction .*; got null/],
    ['a null name', { parameters: { a: '/a' }, name: null }, /option "name" must be 1 to 64 letters.*; got null/],
    ['bad jitter', { parameters: { a: '/a' }, jitter: 2 }, /option "jitter"/],
    ['bad name', { parameters: { a: '/a' }, name: 'has space' }, /option "name"/],
    ['bad prefetch', { parameters: { a: '/a' }, prefetch: 'no' }, /option "prefetch" must be true or false/],
    ['bad settleBudget', { parameters: { a: '/a' }, settleBudget: 'soon' }, /option "settleBudget"/],
    ['settleBudget longer than any invocation', { parameters: { a: '/a' }, settleBudget: '16m' }, /option "settleBudget" must be from 0 ms to 900000 ms; got "16m"/],
    ['bad retryAfterError', { parameters: { a: '/a' }, retryAfterError: 'soon' }, /option "retryAfterError"/],
    ['a logger, which configCache would never use', { parameters: { a: '/a' }, logger: console }, /option "logger" is not an option/],
    ['a name the context already has', { parameters: { a: '/a' }, name: 'functionName' }, /option "name" cannot be "functionName": the context already has a property of that name/],
    ['the tenant id the context has under tenant isolation', { parameters: { a: '/a' }, name: 'tenantId' }, /option "name" cannot be "tenantId": the context already has a property of that name/],
    ['l1, with why', { parameters: { a: '/a' }, l1: { maxEntries: 10 } }, /option "l1" is not an option of configCache: it holds only the values it names/],
    ['l2, with why', { parameters: { a: '/a' }, l2: {} }, /option "l2" is not an option of configCache: each environment reads its parameters from SSM/],
    ['a parameter named toJSON', { parameters: { key: { name: '/k', decrypt: true }, toJSON: '/a' } }, /option "parameters.toJSON" cannot be named "toJSON"/],
    ['a parameter named __proto__', { parameters: { key: { name: '/k', decrypt: true }, ['__proto__']: '/a' } }, /option "parameters.__proto__" cannot be named "__proto__"/],
    ['a path named __proto__', { paths: { ['__proto__']: '/f/' } }, /option "paths.__proto__" cannot be named "__proto__"/],
    ['a path not starting with a slash', { paths: { flags: 'shop/flags/' } }, /option "paths.flags" must be a hierarchy starting with '\/', as SSM's paths do; got "shop\/flags\/"/],
    ['a path given as an object, not starting with a slash', { paths: { flags: { path: 'shop/flags/', decrypt: true } } }, /option "paths.flags.path" must be a hierarchy starting with '\/'/],
    ['a Secrets Manager reference read without decryption', { parameters: { db: '/aws/reference/secretsmanager/shop/db' } }, /option "parameters.db.decrypt" must be true for a Secrets Manager secret read through SSM/],
    ['a Secrets Manager reference as a path', { paths: { db: { path: '/aws/reference/secretsmanager/shop/', decrypt: true } } }, /option "paths.db.path" must be a hierarchy of parameters: SSM reads Secrets Manager secrets one by name, never by path/],
    ['a name in a hierarchy without its leading slash', { parameters: { table: 'shop/table' } }, /option "parameters.table" must be a hierarchy starting with '\/', as SSM's paths do; got "shop\/table"/],
    // Object.entries skips symbol keys: the value would be typed on the context and never loaded.
    ['a parameter under a symbol', { parameters: { table: '/shop/table', [Symbol('flags')]: '/shop/flags' } }, /option "parameters\[Symbol\(flags\)\]" cannot be a symbol: each value lands on the context property its name gives/],
    ['a path under a symbol', { paths: { [Symbol('limits')]: '/shop/limits/' } }, /option "paths\[Symbol\(limits\)\]" cannot be a symbol/],
    // The Lambda context is a plain object: it inherits these, and every invocation would find one there.
    ...Object.getOwnPropertyNames(Object.prototype).map((name): [string, Record<string, unknown>, RegExp] => [
      `a name the context inherits (${name})`,
      { parameters: { a: '/a' }, name },
      new RegExp(`option "name" cannot be "${name}": the context already has a property of that name`),
    ]),
    // SSM's names and paths are levels of letters, digits, _ . - between slashes: these name nothing SSM can hold.
    ['a name with an empty level', { parameters: { table: '/shop//table' } }, /option "parameters.table" must be a hierarchy without an empty level \('\/\/', or a '\/' at the end\); got "\/shop\/\/table"/],
    ['a name ending with a slash', { parameters: { table: { name: '/shop/table/' } } }, /option "parameters.table.name" must be a hierarchy without an empty level .*; got "\/shop\/table\/"/],
    ['a path with an empty level', { paths: { flags: '/shop//flags/' } }, /option "paths.flags" must be a path of letters, digits, _ . - between single slashes, with no version or label selector; got "\/shop\/\/flags\/"/],
    ['a path with a version selector', { paths: { flags: { path: '/shop/flags:2' } } }, /option "paths.flags.path" must be a path of letters, digits, _ . - between single slashes/],
  ])('%s', (_case, options, message) => {
    const create = () => configCache({ prefetch: false, awsSdkV3Client: fakeClient(), ...options })
    expect(create).toThrow(CacheOptionsError)
    expect(create).toThrow(message)
  })

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['a name the context already has', { name: 'caches' }, /option "name" cannot be "caches": the context already has a property of that name/],
    ['l1, with why', { l1: { maxEntries: 10 } }, /option "l1" is not an option of secretsCache: it holds only the values it names/],
    ['l2, with why', { l2: {} }, /option "l2" is not an option of secretsCache: secrets stay in memory, never in a shared tier/],
    ['a secret ttl of 0', { secrets: { a: { name: 'a', ttl: '0ms' } } }, /option "secrets.a.ttl" must be 1 ms or more; got "0ms"/],
    ['settleBudget longer than any invocation', { settleBudget: 3_000_000 }, /option "settleBudget" must be from 0 ms to 900000 ms; got 3000000/],
    ['a null ttl', { ttl: null }, /option "ttl" must be a number of seconds or a string such as .*; got null/],
    ['a null name', { name: null }, /option "name" must be 1 to 64 letters.*; got null/],
    ['a null timeout', { timeout: null }, /option "timeout" must be a number of seconds or a string such as .*; got null/],
    ['a secret name with a space', { secrets: { a: 'shop stripe' } }, /option "secrets.a" must be a secret name or ARN \(printable characters, no spaces\); got "shop stripe"/],
    ['an SSM name SSM refuses', { secrets: { a: { name: 'has space', source: 'ssm' } } }, /option "secrets.a.name" must be an SSM parameter name or ARN.*got "has space"/],
    // The holder of the values could not keep either as its own: `toJSON` is its prototype's, and `__proto__` would
    // replace that prototype, and with it what keeps the other secrets out of JSON and util.inspect.
    ['a secret named toJSON', { secrets: { a: 'a', toJSON: 'b' } }, /option "secrets.toJSON" cannot be named "toJSON"/],
    ['a secret named __proto__', { secrets: { a: 'a', ['__proto__']: { name: 'b', transform: 'json' } } }, /option "secrets.__proto__" cannot be named "__proto__"/],
    ['an SSM name in a hierarchy without its leading slash', { secrets: { a: { name: 'shop/signing-key', source: 'ssm' } } }, /option "secrets.a.name" must be a hierarchy starting with '\/'/],
    ['a secret under a symbol', { secrets: { a: 'a', [Symbol('db')]: 'shop/db' } }, /option "secrets\[Symbol\(db\)\]" cannot be a symbol/],
    ['a name the context inherits', { name: 'toString' }, /option "name" cannot be "toString": the context already has a property of that name/],
    ['an SSM name with an empty level', { secrets: { a: { name: '/shop//signing-key', source: 'ssm' } } }, /option "secrets.a.name" must be a hierarchy without an empty level/],
  ])('secretsCache: %s', (_case, options, message) => {
    const create = () => secretsCache({ secrets: { a: 'a' }, prefetch: false, ...options })
    expect(create).toThrow(CacheOptionsError)
    expect(create).toThrow(message)
  })

  test('names AWS gives secrets it makes for other services, ARNs and SSM reference paths are accepted', () => {
    const rdsSecret = 'rds!db-0123abcd-4567-89ef-0123-456789abcdef'
    const secretNames = [rdsSecret, 'events!connection/orders/0123abcd', `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${rdsSecret}-AbCdEf`, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/stripe', 'shop/db+ro=1@eu']
    for (const name of secretNames) expect(() => secretsCache({ secrets: { a: name }, prefetch: false })).not.toThrow()
    const referencePath = `/aws/reference/secretsmanager/${rdsSecret}`
    expect(() => secretsCache({ secrets: { a: { name: referencePath, source: 'ssm' } }, prefetch: false })).not.toThrow()
    expect(() => configCache({ parameters: { a: { name: referencePath, decrypt: true } }, prefetch: false, awsSdkV3Client: fakeClient() })).not.toThrow()
    expect(() => configCache({ parameters: { a: '/shop/rds!db' }, prefetch: false, awsSdkV3Client: fakeClient() })).toThrow(/option "parameters.a" must be an SSM parameter name/)
  })

  test('the paths SSM answers for are accepted: the root, with or without a trailing slash, and public parameters under /aws', () => {
    for (const path of ['/', '/shop', '/shop/flags/', '/aws/service/global-infrastructure/regions/', '/a.b/c_d/e-f']) {
      expect(() => configCache({ paths: { p: path }, prefetch: false, awsSdkV3Client: fakeClient() })).not.toThrow()
    }
    for (const name of ['table', '/table', '/shop/table:3', '/shop/table:prod', 'arn:aws:ssm:eu-west-1:123456789012:parameter/shop/table']) {
      expect(() => configCache({ parameters: { p: name }, prefetch: false, awsSdkV3Client: fakeClient() })).not.toThrow()
    }
    // A secret's name may hold '//', or end with '/': read through SSM's reference path, it is the secret's.
    expect(() => configCache({ parameters: { p: { name: '/aws/reference/secretsmanager/shop//db/', decrypt: true } }, prefetch: false, awsSdkV3Client: fakeClient() })).not.toThrow()
  })

  test.each<[string, Record<string, unknown>]>([
    ['prefetch', { prefetch: 'no' }],
    ['settleBudget', { settleBudget: 'soon' }],
    ['logger', { logger: {} }],
  ])('a construction refused for its %s registers no cache, which warm-up pings would refresh and snapshots hold', (_option, bad) => {
    const before = registeredCaches().length
    expect(() => configCache({ name: 'refused-config', parameters: { a: '/a' }, awsSdkV3Client: fakeClient(), ...bad })).toThrow(CacheOptionsError)
    expect(() => secretsCache({ name: 'refused-secrets', secrets: { a: 'a' }, ...bad })).toThrow(CacheOptionsError)
    expect(registeredCaches().slice(before).map(({ cache }) => cache.name)).toEqual([])
  })

  test("secretsCache takes a logger (console, Powertools' Logger: anything with warn(message)) and refuses one without warn", () => {
    expect(() => secretsCache({ secrets: { a: 'a' }, prefetch: false, logger: { warn: () => undefined } })).not.toThrow()
    expect(() => secretsCache({ secrets: { a: 'a' }, prefetch: false, logger: { log: () => undefined } } as never)).toThrow(
      /option "logger" must be an object with a warn\(message\) method, such as console; got an object/,
    )
  })

  test('both middlewares register their caches, secrets marked as secret', () => {
    const before = registeredCaches().length
    configCache({ name: 'registered-config', parameters: { a: '/a' }, prefetch: false, awsSdkV3Client: fakeClient() })
    secretsCache({ name: 'registered-secrets', secrets: { a: 'a' }, prefetch: false })
    const added = registeredCaches().slice(before)
    expect(added.map(({ cache, kind, secret }) => [cache.name, kind, secret])).toEqual([
      ['registered-config', CacheKind.Config, false],
      ['registered-secrets', CacheKind.Secrets, true],
    ])
  })
})

describe('configCache with SSM errors injected (rare errors, mocked)', () => {
  test('access denied is a clear error naming the parameter, with the cause kept', async () => {
    const client = fakeClient()
    const mock = mockClient(client)
    mock.on(GetParametersCommand).rejects(Object.assign(new Error('User is not authorized to perform: ssm:GetParameters'), { name: 'AccessDeniedException' }))
    const handler = middy()
      .use(configCache({ parameters: { table: '/shop/table' }, prefetch: false, awsSdkV3Client: client }))
      .handler(() => Promise.resolve('unreachable'))
    const error: unknown = await invoke(handler).catch((thrown: unknown) => thrown)
    expect((error as Error).message).toMatch(/loading parameter "\/shop\/table" \(context.config.table\) for cache "config" failed: .*not authorized/)
    expect(error).toHaveProperty('cause')
    mock.restore()
  })

  test('throttling that outlasts the SDK retries falls back to the last good value within staleIfError', async () => {
    const client = fakeClient()
    const mock = mockClient(client)
    mock
      .on(GetParametersCommand)
      .resolvesOnce({ Parameters: [{ Name: '/shop/table', Value: 'products', Type: 'String' }], InvalidParameters: [] })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
    const handler = middy()
      .use(configCache({ parameters: { table: '/shop/table' }, ttl: '100ms', staleIfError: '1h', prefetch: false, awsSdkV3Client: client }))
      .handler((_event, context) => Promise.resolve(context.config.table))
    expect(await invoke(handler)).toBe('products')
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(await invoke(handler)).toBe('products')
    expect(mock.commandCalls(GetParametersCommand)).toHaveLength(2)
    mock.restore()
  })
})
