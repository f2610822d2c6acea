import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { createCache, createScope, Outcome, Tier } from '../../src/index.js'
import { putParameters, startMoto, uniqueName, type MotoHandle } from '../harness/index.js'
import { manualClock } from '../support/clock.js'

/** The loader the configCache issue wraps: GetParameter over HTTP, "not found" as undefined. */
const parameterLoader = (ssm: SSMClient) => async (name: string, { signal }: { signal: AbortSignal }): Promise<string | undefined> => {
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }), { abortSignal: signal })
    return Parameter?.Value
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return undefined
    throw error
  }
}

const clientFor = (endpoint: string): SSMClient =>
  new SSMClient({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })

describe('the engine in front of SSM on moto_server', () => {
  test('loads a parameter over HTTP once, then serves it from memory; a missing one is "not found"', async () => {
    const name = `/${uniqueName('shop')}/table`
    await putParameters({ [name]: 'products-table', [`${name}-secret`]: { value: 's3cr3t', type: 'SecureString' } })
    const ssm = clientFor(process.env.AWS_ENDPOINT_URL ?? '')
    const load = jest.fn(parameterLoader(ssm))
    const config = createCache({ name: 'config', load, ttl: '5m', negativeTtl: '30s' })
    const scope = createScope()

    expect(await config.lookup(name, { scope })).toEqual({ value: 'products-table', outcome: Outcome.Miss, tier: Tier.Source })
    expect(await config.lookup(name, { scope })).toEqual({ value: 'products-table', outcome: Outcome.Hit, tier: Tier.L1 })
    expect(await config.get(`${name}-secret`)).toBe('s3cr3t')
    expect(await config.get(`${name}-missing`)).toBeUndefined()
    expect(await config.get(`${name}-missing`)).toBeUndefined()
    expect(load).toHaveBeenCalledTimes(3)
    expect(scope.countersFor('config')).toMatchObject({ hits: 1, misses: 1, loads: 1 })
    ssm.destroy()
  })

  describe('during an SSM outage', () => {
    let moto: MotoHandle
    let ssm: SSMClient

    beforeAll(async () => {
      moto = await startMoto()
      ssm = clientFor(moto.endpoint)
    })

    afterAll(async () => {
      ssm.destroy()
      await moto.stop()
    })

    test('the last good value stands in within staleIfError, and the cache refreshes once SSM is back', async () => {
      const clock = manualClock()
      const name = '/shop/flags'
      await putParameters({ [name]: 'v1' }, { endpoint: moto.endpoint })
      const config = createCache({ name: 'config', load: parameterLoader(ssm), ttl: '5m', staleIfError: '1h', now: clock.now })
      expect(await config.get(name)).toBe('v1')

      await moto.kill()
      clock.advance(10 * 60_000)
      const scope = createScope()
      expect(await config.lookup(name, { scope })).toMatchObject({ value: 'v1', outcome: Outcome.StaleOnError })
      expect(scope.countersFor('config')).toMatchObject({ loadErrors: 1, staleOnError: 1 })
      clock.advance(2 * 3_600_000)
      await expect(config.get(name)).rejects.toThrow(/loading "\/shop\/flags" for cache "config" failed/)

      await moto.start()
      await putParameters({ [name]: 'v2' }, { endpoint: moto.endpoint })
      expect(await config.lookup(name)).toMatchObject({ value: 'v2', outcome: Outcome.Miss })
    })
  })
})
