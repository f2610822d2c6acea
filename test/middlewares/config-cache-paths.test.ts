import middy from '@middy/core'
import { SSMClient } from '@aws-sdk/client-ssm'
import { configCache } from '../../middlewares/config-cache.js'
import { putParameters, uniqueName } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { invoke } from '../support/invoke.js'
import { anotherCopyOf } from '../support/sdk-copy.js'
import { testClients } from '../support/sdk-clients.js'
import { countRequests } from '../support/sdk-requests.js'

const clients = testClients()

afterEach(() => {
  clients.destroyAll()
})

describe('configCache paths against SSM on moto_server', () => {
  test('26 parameters under a path all arrive, read over more than one GetParametersByPath page', async () => {
    const path = `/${uniqueName('shop')}/limits/`
    // More than SSM's largest page (10 a call), so that the last pages are only reached by paging.
    const expected = Object.fromEntries(Array.from({ length: 26 }, (_, index) => [`limit-${String(index).padStart(2, '0')}`, `value ${index}`]))
    await putParameters(Object.fromEntries(Object.entries(expected).map(([name, value]) => [`${path}${name}`, value])))
    const client = clients.made(new SSMClient(motoClientConfig()))
    const requests = countRequests(client)
    const handler = middy()
      .use(configCache({ paths: { limits: path }, prefetch: false, awsSdkV3Client: client }))
      .handler((_event, context) => Promise.resolve(context.config.limits))
    expect(await invoke(handler)).toEqual(expected)
    expect(requests.count('GetParametersByPathCommand')).toBeGreaterThan(1)
  })

  test('recursive: false leaves nested parameters out; by default they are in, keyed by their path below', async () => {
    const path = `/${uniqueName('shop')}/features/`
    await putParameters({
      [`${path}checkout`]: 'on',
      [`${path}search`]: 'off',
      [`${path}beta/search`]: 'on',
      [`${path}beta/labs/voice`]: 'off',
    })
    const client = clients.made(new SSMClient(motoClientConfig()))
    const handler = middy<unknown, [Record<string, string>, Record<string, string>]>()
      // One path read both ways in one chain: two entries, each with its own answer.
      .use(configCache({ paths: { everything: path, topLevel: { path, recursive: false } }, prefetch: false, awsSdkV3Client: client }))
      .handler((_event, context) => Promise.resolve([context.config.everything, context.config.topLevel]))
    const [everything, topLevel] = await invoke(handler)
    expect(everything).toEqual({ checkout: 'on', search: 'off', 'beta/search': 'on', 'beta/labs/voice': 'off' })
    expect(topLevel).toEqual({ checkout: 'on', search: 'off' })
  })

  test('a path given with or without its trailing slash gives the same names; a path with nothing under it is an empty object', async () => {
    const path = `/${uniqueName('shop')}/limits`
    await putParameters({ [`${path}/max`]: '10', [`${path}/beta/max`]: '20', [`${path}-other/max`]: '30' })
    const client = clients.made(new SSMClient(motoClientConfig()))
    const handler = middy()
      .use(configCache({ paths: { bare: path, slashed: `${path}/`, flat: { path, recursive: false }, empty: `${path}/nothing/` }, prefetch: false, awsSdkV3Client: client }))
      .handler((_event, context) => Promise.resolve({ ...context.config }))
    expect(await invoke(handler)).toEqual({ bare: { max: '10', 'beta/max': '20' }, slashed: { max: '10', 'beta/max': '20' }, flat: { max: '10' }, empty: {} })
  })

  test('a parameter named __proto__ under a path arrives as an own value, parsed or not, and sets no prototype', async () => {
    const path = `/${uniqueName('shop')}/limits/`
    await putParameters({ [`${path}max`]: '10', [`${path}__proto__`]: '{"isAdmin":true}' })
    const client = clients.made(new SSMClient(motoClientConfig()))
    const handler = middy<unknown, [Record<string, string>, Record<string, unknown>]>()
      .use(configCache({ paths: { raw: path, parsed: { path, transform: 'json' } }, prefetch: false, awsSdkV3Client: client }))
      .handler((_event, context) => Promise.resolve([context.config.raw, context.config.parsed]))
    const [raw, parsed] = await invoke(handler)
    expect(Object.entries(raw).sort()).toEqual([['__proto__', '{"isAdmin":true}'], ['max', '10']])
    expect(Object.entries(parsed).sort()).toEqual([['__proto__', { isAdmin: true }], ['max', 10]])
    for (const values of [raw, parsed]) {
      expect(Object.getPrototypeOf(values)).toBe(Object.prototype)
      expect((values as { isAdmin?: unknown }).isAdmin).toBeUndefined()
    }
  })

  test('an SSMClient of another copy of the SDK (a second version in the bundle) reads a path, as it reads names', async () => {
    const path = `/${uniqueName('shop')}/limits/`
    await putParameters({ [`${path}max`]: '10', [`${path}table`]: 'orders' })
    const sdk = anotherCopyOf('@aws-sdk/client-ssm')
    const client = clients.made(new sdk.SSMClient(motoClientConfig()))
    expect(client).not.toBeInstanceOf(SSMClient)
    const handler = middy()
      .use(configCache({ parameters: { table: `${path}table` }, paths: { limits: path }, prefetch: false, awsSdkV3Client: client }))
      .handler((_event, context) => Promise.resolve([context.config.table, context.config.limits]))
    expect(await invoke(handler)).toEqual(['orders', { max: '10', table: 'orders' }])
  })
})
