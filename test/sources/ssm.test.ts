import { SSMClient, type GetParametersCommandInput } from '@aws-sdk/client-ssm'
import { CacheError } from '../../src/cache/errors.js'
import { createSsmSource } from '../../src/sources/ssm.js'
import { awsJsonAnswer, putParameters, startHttpFaultProxy, uniqueName, type HttpFaultProxy } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { deferred, type Deferred } from '../support/deferred.js'
import { testClients } from '../support/sdk-clients.js'
import { countRequests } from '../support/sdk-requests.js'

const clients = testClients()

/** The signal of a load nobody abandons. */
const signal = new AbortController().signal

afterEach(() => {
  clients.destroyAll()
})

const microtasks = async (count: number): Promise<void> => {
  for (let passed = 0; passed < count; passed++) await Promise.resolve()
}

/** Holds, once armed, the answer of the next GetParameters call that decrypts as `decrypt` says, between SSM's answer and the caller. */
const holdAnswer = (client: SSMClient, decrypt: boolean) => {
  let armed: { readonly answered: Deferred<undefined>; readonly release: Deferred<undefined> } | undefined
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const answer = await next(args)
      const held = armed
      if (held !== undefined && context.commandName === 'GetParametersCommand' && ((args.input as GetParametersCommandInput).WithDecryption === true) === decrypt) {
        armed = undefined
        held.answered.resolve(undefined)
        await held.release.promise
      }
      return answer
    },
    { step: 'initialize', name: 'middyCacheTestHoldAnswer' },
  )
  return {
    arm: () => {
      armed = { answered: deferred(), release: deferred() }
      return armed
    },
  }
}

describe('SSM source: one parameter read with and without decryption', () => {
  // Powertools keys its cache by name, not decryption, and getParametersByName keeps a read for 5 s
  // even with maxAge 0: the read started while the other stores its answer must not be given it.
  test.each([
    ['a plain read never gets the decrypted value', true],
    ['a decrypted read never gets the ciphertext', false],
  ])('%s, at whichever microtask it starts while the other read stores its answer', async (_title, firstDecrypts) => {
    const name = `/${uniqueName('shop')}/api-key`
    await putParameters({ [name]: { value: 'k-123', type: 'SecureString' } })
    const client = clients.made(new SSMClient(motoClientConfig()))
    const held = holdAnswer(client, firstDecrypts)
    const source = createSsmSource({ awsSdkV3Client: client })
    const alone = async (decrypt: boolean) => (await source.getByNames([name], decrypt, signal)).values.get(name)
    const expected = { first: await alone(firstDecrypts), second: await alone(!firstDecrypts) }
    expect([expected.first, expected.second].sort()).toEqual(['k-123', 'kms:alias/aws/ssm:k-123'])

    const seen = []
    for (let delay = 0; delay < 20; delay++) {
      const hold = held.arm()
      const first = source.getByNames([name], firstDecrypts, signal)
      await hold.answered.promise
      hold.release.resolve(undefined)
      await microtasks(delay)
      const second = await source.getByNames([name], !firstDecrypts, signal)
      seen.push({ delay, first: (await first).values.get(name), second: second.values.get(name) })
    }
    expect(seen).toEqual(seen.map(({ delay }) => ({ delay, ...expected })))
  })
})

const parameter = (name: string, value: string) => ({ Name: name, Value: value, Type: 'String', Version: 1 })

describe('SSM source: an answer that holds a parameter under another name than the one asked', () => {
  let proxy: HttpFaultProxy

  beforeEach(async () => {
    proxy = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL! })
  })

  afterEach(async () => {
    await proxy.close()
  })

  const throughProxy = () => createSsmSource({ awsSdkV3Client: clients.made(new SSMClient(motoClientConfig(proxy.url))) })

  test.each([
    ['holds it under a name not asked for (a proxy that rewrites names)', (key: string) => [parameter(`${key}-v2`, 'k-2')], (key: string) => `, but holds "${key}-v2", which was not asked for;`],
    ['neither holds it nor lists it as not found', () => [], () => 'nor lists it as not found; no value is served for it'],
  ])('a GetParameters answer that %s fails that name with an error naming it, and serves the rest of the call', async (_title, extra, saying) => {
    const prefix = `/${uniqueName('renamed')}`
    const [table, key, missing] = [`${prefix}/table`, `${prefix}/key`, `${prefix}/missing`]
    proxy.inject({ target: 'AmazonSSM.GetParameters', ...awsJsonAnswer({ Parameters: [parameter(table, 'products'), ...extra(key)], InvalidParameters: [missing] }) })
    const { values, failures } = await throughProxy().getByNames([table, key, missing], false, signal)
    expect(proxy.requests('AmazonSSM.GetParameters')).toEqual({ seen: 1, answered: 1 })
    expect(values).toEqual(new Map([[table, 'products'], [missing, undefined]]))
    expect([...failures.keys()]).toEqual([key])
    const failure = failures.get(key)
    expect(failure).toBeInstanceOf(CacheError)
    expect((failure as Error).message).toContain(`SSM's answer to GetParameters neither holds parameter "${key}" nor lists it as not found`)
    expect((failure as Error).message).toContain(saying(key))
  })

  test('a one-level name asked without the leading slash it is answered with is matched to that answer too: SSM takes the two for one parameter', async () => {
    const oneLevel = uniqueName('shop-region')
    proxy.inject({ target: 'AmazonSSM.GetParameters', ...awsJsonAnswer({ Parameters: [parameter(`/${oneLevel}`, 'eu-west-1')], InvalidParameters: [] }) })
    expect(await throughProxy().getByNames([oneLevel], false, signal)).toEqual({ values: new Map([[oneLevel, 'eu-west-1']]), failures: new Map() })
  })

  test('a GetParametersByPath answer that holds a parameter outside the path fails the path with an error naming both, serving none of it under a name made up', async () => {
    const path = `/${uniqueName('renamed')}/limits/`
    proxy.inject({ target: 'AmazonSSM.GetParametersByPath', ...awsJsonAnswer({ Parameters: [parameter(`${path}max`, '10'), parameter('/elsewhere/max', '99')] }) })
    const read = throughProxy().getByPath(path, { decrypt: false, recursive: true, signal })
    await expect(read).rejects.toThrow(CacheError)
    await expect(read).rejects.toThrow(`SSM's answer to GetParametersByPath for path "${path}" holds parameter "/elsewhere/max", which is not under it`)
  })
})

describe('SSM source: names SSM answers under another spelling, against moto_server', () => {
  test('a one-level name asked with its leading slash, answered under the bare name, is matched back within its GetParameters batch', async () => {
    const oneLevel = uniqueName('shop-region')
    const table = `/${uniqueName('shop')}/table`
    await putParameters({ [oneLevel]: 'eu-west-1', [table]: 'products' })
    const client = clients.made(new SSMClient(motoClientConfig()))
    const requests = countRequests(client)
    const { values, failures } = await createSsmSource({ awsSdkV3Client: client }).getByNames([`/${oneLevel}`, table, oneLevel], false, signal)
    expect(failures).toEqual(new Map())
    expect(values).toEqual(new Map([[`/${oneLevel}`, 'eu-west-1'], [table, 'products'], [oneLevel, 'eu-west-1']]))
    expect([requests.count('GetParametersCommand'), requests.count('GetParameterCommand')]).toEqual([1, 0])
  })

  test('the root path holds one-level parameters, which SSM names without a slash', async () => {
    const oneLevel = uniqueName('shop-region')
    await putParameters({ [oneLevel]: 'eu-west-1' })
    const found = await createSsmSource({ awsSdkV3Client: clients.made(new SSMClient(motoClientConfig())) }).getByPath('/', { decrypt: false, recursive: false, signal })
    expect(found[oneLevel]).toBe('eu-west-1')
  })
})

describe('SSM source: a name read alone with GetParameter, through Powertools, on the caller\'s own client', () => {
  let proxy: HttpFaultProxy

  beforeEach(async () => {
    proxy = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL! })
  })

  afterEach(async () => {
    await proxy.close()
  })

  test('is sent by that client to its endpoint, with nothing but the name and decryption in its body, and the client is left as it was', async () => {
    const name = `/${uniqueName('shop')}/table`
    await putParameters({ [name]: 'products' })
    const client = clients.made(new SSMClient(motoClientConfig(proxy.url)))
    const { values } = await createSsmSource({ awsSdkV3Client: client }).getByNames([`${name}:1`], false, signal)
    expect(values).toEqual(new Map([[`${name}:1`, 'products']]))
    const [call] = proxy.calls()
    expect(call?.target).toBe('AmazonSSM.GetParameter')
    expect(JSON.parse(call?.body ?? '')).toEqual({ Name: `${name}:1`, WithDecryption: false })
    expect(Object.hasOwn(client, 'send')).toBe(false)
  })

  test("is never sent when its signal has aborted: the name fails with the SDK's AbortError", async () => {
    const name = `/${uniqueName('shop')}/table`
    await putParameters({ [name]: 'products' })
    const controller = new AbortController()
    controller.abort()
    const { values, failures } = await createSsmSource({ awsSdkV3Client: clients.made(new SSMClient(motoClientConfig(proxy.url))) }).getByNames([`${name}:1`], false, controller.signal)
    expect(values).toEqual(new Map())
    expect(failures.get(`${name}:1`)).toMatchObject({ name: 'AbortError' })
    expect(proxy.requests('AmazonSSM.GetParameter')).toEqual({ seen: 0, answered: 0 })
  })
})
