import { SSMClient } from '@aws-sdk/client-ssm'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { CacheOptionsError } from '../../src/cache/errors.js'
import { resolveWarmupOptions } from '../../src/lambda/warmup-options.js'

const optionError = (options: unknown): CacheOptionsError => {
  try {
    resolveWarmupOptions(options)
  } catch (error) {
    if (error instanceof CacheOptionsError) return error
    throw error
  }
  throw new Error(`accepted ${JSON.stringify(options)}`)
}

describe('warmup options', () => {
  test('defaults: a 5 minute interval, the plugin source, no schedules, 50 environments at most, 75 ms child hold, 10 s per ping', () => {
    const resolved = resolveWarmupOptions(undefined)
    expect(resolved).toMatchObject({ intervalMs: 300_000, childDelayMs: 75, maxConcurrency: 50, maxDurationMs: 10_000, logger: undefined })
    expect(resolved.rules).toMatchObject({ pluginSource: 'serverless-plugin-warmup', schedules: new Set(), isPing: undefined })
  })

  test('accepts every option', () => {
    const client = new LambdaClient({ region: 'eu-west-1' })
    const isPing = (): boolean => false
    const resolved = resolveWarmupOptions({
      interval: '15m', source: 'my-warmer', schedules: ['warm', 'arn:aws:events:eu-west-1:123456789012:rule/warm-too'], isPing,
      maxConcurrency: 10, childDelay: '100ms', maxDuration: 30, awsSdkV3Client: client, logger: console,
    })
    expect(resolved).toMatchObject({ intervalMs: 900_000, childDelayMs: 100, maxConcurrency: 10, maxDurationMs: 30_000, logger: { info: expect.any(Function) as unknown, warn: expect.any(Function) as unknown } })
    expect(resolved.rules).toMatchObject({ pluginSource: 'my-warmer', schedules: new Set(['warm', 'arn:aws:events:eu-west-1:123456789012:rule/warm-too']), isPing })
    client.destroy()
  })

  test('a logger that throws never fails what it reports on', () => {
    const closed = (): never => {
      throw new Error('transport closed')
    }
    const { logger } = resolveWarmupOptions({ logger: { info: closed, warn: closed } })
    expect(() => logger?.info('middy-cache: warm-up ping answered', {})).not.toThrow()
    expect(() => logger?.warn('middy-cache: warmup isPing threw', {})).not.toThrow()
  })

  test.each<[string, unknown, string, RegExp]>([
    ['options that are not an object', 'fast', 'options', /must be an object/],
    ['options that are an array', [], 'options', /must be an object/],
    ['a misspelt option', { intervall: '5m' }, 'intervall', /did you mean "interval"/],
    ['a zero interval', { interval: 0 }, 'interval', /must be from 1 ms/],
    ['an interval that is no duration', { interval: 'soon' }, 'interval', /must be a number of seconds or a string/],
    ['an empty source', { source: '' }, 'source', /non-empty string/],
    ['a source of the wrong type', { source: 7 }, 'source', /non-empty string/],
    ['schedules that are not an array', { schedules: 'warm' }, 'schedules', /must be an array/],
    ['a schedule that is no rule', { schedules: ['warm', 'arn:aws:sns:us-east-1:123456789012:topic'] }, 'schedules[1]', /EventBridge rule ARN/],
    ['a schedule that is no string', { schedules: [{ name: 'warm' }] }, 'schedules[0]', /EventBridge rule ARN/],
    ['an isPing that is no function', { isPing: true }, 'isPing', /must be a function/],
    ['an async isPing', { isPing: async () => Promise.resolve(true) }, 'isPing', /must answer at once, \(event, context\) => boolean; got an async function/],
    ['a generator isPing', { isPing: function* isPing() { yield true } }, 'isPing', /must answer at once, \(event, context\) => boolean; got a generator function/],
    ['a class as isPing', { isPing: class Ping { readonly ping = true } }, 'isPing', /must answer at once, \(event, context\) => boolean; got a class/],
    ['maxConcurrency 0', { maxConcurrency: 0 }, 'maxConcurrency', /whole number from 1 to 1000/],
    ['maxConcurrency above Lambda quota', { maxConcurrency: 1001 }, 'maxConcurrency', /whole number from 1 to 1000/],
    ['a fractional maxConcurrency', { maxConcurrency: 2.5 }, 'maxConcurrency', /whole number/],
    ['a maxConcurrency string', { maxConcurrency: '5' }, 'maxConcurrency', /whole number/],
    ['a childDelay given in seconds by mistake', { childDelay: 75 }, 'childDelay', /must be from 0 ms to 5000 ms; got 75 \(a number is seconds\)/],
    ['a negative childDelay', { childDelay: -1 }, 'childDelay', /zero or more/],
    ['a zero maxDuration', { maxDuration: 0 }, 'maxDuration', /must be from 1 ms/],
    ['a maxDuration above Lambda timeout', { maxDuration: '16m' }, 'maxDuration', /to 900000 ms/],
    ['a null maxDuration', { maxDuration: null }, 'maxDuration', /got null/],
    ['an awsSdkV3Client that is no client', { awsSdkV3Client: {} }, 'awsSdkV3Client', /LambdaClient/],
    ['a clientConfig that is no object', { clientConfig: 'eu-west-1' }, 'clientConfig', /must be an object/],
    ['a logger without warn', { logger: { info: () => undefined } }, 'logger', /info and warn/],
  ])('%s is refused at construction, naming the option', (_, options, option, message) => {
    const error = optionError(options)
    expect(error.option).toBe(option)
    expect(error.message).toMatch(message)
  })

  test('a client of another AWS service is refused: Lambda would never see its Invoke', () => {
    const ssm = new SSMClient({ region: 'eu-west-1' })
    expect(optionError({ awsSdkV3Client: ssm }).message).toMatch(/option "awsSdkV3Client" must be a LambdaClient/)
    ssm.destroy()
  })

  test('a client and a client configuration together are refused', () => {
    const client = new LambdaClient({ region: 'eu-west-1' })
    expect(optionError({ awsSdkV3Client: client, clientConfig: { region: 'eu-west-1' } }).option).toBe('clientConfig')
    client.destroy()
  })
})
