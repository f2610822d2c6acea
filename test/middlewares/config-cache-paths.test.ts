import middy from '@middy/core'
import { SSMClient } from '@aws-sdk/client-ssm'
import { configCache } from '../../middlewares/config-cache.js'
import { putParameters, uniqueName } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { invoke } from '../support/invoke.js'
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
})
