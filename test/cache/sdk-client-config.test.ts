import { coldStartSnapshot } from '../../entrypoints/snapshot.js'
import { dynamoItem, dynamoStore } from '../../entrypoints/dynamodb.js'
import { s3Object } from '../../entrypoints/s3.js'
import { CacheOptionsError, warmup } from '../../entrypoints/index.js'
import { setEnv } from '../support/env.js'

/**
 * configCache and secretsCache are not alone in making SDK clients from a `clientConfig`: every
 * factory that does meets the same check (see client-options.test.ts for what it refuses), so that
 * an endpoint or a region the SDK fails on at every call throws at construction.
 */
type Factory = (clientConfig: Record<string, unknown>) => unknown

const factories: [string, Factory][] = [
  ['dynamoStore', (clientConfig) => dynamoStore({ table: 'cache', clientConfig })],
  ['dynamoItem', (clientConfig) => dynamoItem({ table: 'items', key: 'id', clientConfig })],
  ['s3Object', (clientConfig) => s3Object({ bucket: 'catalog', clientConfig })],
  ['coldStartSnapshot', (clientConfig) => coldStartSnapshot({ bucket: 'snapshots', caches: ['products'], clientConfig })],
  ['warmup', (clientConfig) => warmup({ clientConfig })],
]

let restoreEnv: () => void
beforeEach(() => {
  // Off Lambda: a snapshot middleware made with valid options reads nothing.
  restoreEnv = setEnv({ AWS_LAMBDA_FUNCTION_NAME: undefined, AWS_LAMBDA_FUNCTION_VERSION: undefined })
})
afterEach(() => {
  restoreEnv()
})

describe.each(factories)('%s checks the endpoint and region of its clientConfig at construction', (_factory, make) => {
  test.each<[string, Record<string, unknown>, string]>([
    ['an endpoint that is no URL', { endpoint: 'not a url' }, 'clientConfig.endpoint'],
    ['an endpoint of another scheme', { endpoint: 'tcp://127.0.0.1:4566' }, 'clientConfig.endpoint'],
    ['an empty region', { region: '' }, 'clientConfig.region'],
  ])('%s', (_case, clientConfig, option) => {
    expect(() => make(clientConfig)).toThrow(CacheOptionsError)
    expect(() => make(clientConfig)).toThrow(`option "${option}"`)
  })

  test('a URL and a region are accepted, as are providers of either', () => {
    expect(() => make({ endpoint: 'http://127.0.0.1:4566', region: 'us-east-1' })).not.toThrow()
    expect(() => make({ endpoint: () => Promise.resolve({ url: new URL('http://127.0.0.1:4566') }), region: () => Promise.resolve('us-east-1') })).not.toThrow()
  })
})
