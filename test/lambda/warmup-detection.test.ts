import { childPing, detectPing, PingSource, type Ping, type PingRules } from '../../src/lambda/warmup-detection.js'
import { flushPromises } from '../support/deferred.js'

const ruleArn = 'arn:aws:events:us-east-1:123456789012:rule/warm-every-5-minutes'
const rules: PingRules<unknown> = {
  pluginSource: 'serverless-plugin-warmup',
  schedules: new Set(['warm-by-name', ruleArn]),
  isPing: undefined,
  onPredicateError: () => undefined,
}

const scheduled = (resources: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-11-23T12:00:00Z',
  region: 'us-east-1',
  resources,
  detail: {},
  ...overrides,
})

const single: Ping = { source: PingSource.Warmer, concurrency: 1 }
const invalidConcurrency = (got: string): Ping => ({
  source: PingSource.Warmer,
  concurrency: 1,
  concurrencyProblem: `concurrency must be a whole number of 1 or more; got ${got}`,
})

describe('detectPing', () => {
  test.each<[string, unknown, Ping]>([
    ['serverless-plugin-warmup', { source: 'serverless-plugin-warmup' }, { source: PingSource.ServerlessPluginWarmup, concurrency: 1 }],
    ['serverless-plugin-warmup with more fields', { source: 'serverless-plugin-warmup', other: 20 }, { source: PingSource.ServerlessPluginWarmup, concurrency: 1 }],
    ['a warmer ping', { warmer: true }, single],
    ['a warmer ping asking for 3 environments', { warmer: true, concurrency: 3 }, { source: PingSource.Warmer, concurrency: 3 }],
    ['a warmer ping asking for a huge concurrency (capped at fan-out)', { warmer: true, concurrency: 1e9 }, { source: PingSource.Warmer, concurrency: 1e9 }],
    ['concurrency 1', { warmer: true, concurrency: 1 }, single],
    ['negative concurrency', { warmer: true, concurrency: -3 }, invalidConcurrency('-3')],
    ['zero concurrency', { warmer: true, concurrency: 0 }, invalidConcurrency('0')],
    ['NaN concurrency', { warmer: true, concurrency: Number.NaN }, invalidConcurrency('NaN')],
    ['infinite concurrency', { warmer: true, concurrency: Number.POSITIVE_INFINITY }, invalidConcurrency('Infinity')],
    ['fractional concurrency', { warmer: true, concurrency: 2.5 }, invalidConcurrency('2.5')],
    ['unsafe integer concurrency', { warmer: true, concurrency: 2 ** 60 }, invalidConcurrency(String(2 ** 60))],
    ['string concurrency', { warmer: true, concurrency: '3' }, invalidConcurrency('"3"')],
    ['null concurrency', { warmer: true, concurrency: null }, invalidConcurrency('null')],
    ['array concurrency', { warmer: true, concurrency: [3] }, invalidConcurrency('an array')],
    ['object concurrency', { warmer: true, concurrency: { n: 3 } }, invalidConcurrency('an object')],
    ['a fan-out child', childPing(2, 3, 'req-1'), { source: PingSource.Warmer, concurrency: 1, child: { invocation: 2, of: 3, correlationId: 'req-1' } }],
    ['a child that also asks for concurrency never fans out', { ...childPing(3, 3, 'req-1'), concurrency: 10 }, { source: PingSource.Warmer, concurrency: 1, child: { invocation: 3, of: 3, correlationId: 'req-1' } }],
    ['a child with malformed markers is still a child', { warmer: true, __WARMER_INVOCATION__: 'x', __WARMER_CONCURRENCY__: -1, __WARMER_CORRELATIONID__: 7, concurrency: 5 }, { source: PingSource.Warmer, concurrency: 1, child: {} }],
    ['a scheduled event of a rule listed by name', scheduled(['arn:aws:events:us-east-1:123456789012:rule/warm-by-name']), { source: PingSource.Schedule, concurrency: 1 }],
    ['a scheduled event of a rule listed by ARN', scheduled([ruleArn]), { source: PingSource.Schedule, concurrency: 1 }],
    ['a scheduled event of a listed rule on a named bus', scheduled(['arn:aws:events:us-east-1:123456789012:rule/my-bus/warm-by-name']), { source: PingSource.Schedule, concurrency: 1 }],
    ['a scheduled event naming a listed rule among others', scheduled(['arn:aws:events:us-east-1:123456789012:rule/other', ruleArn]), { source: PingSource.Schedule, concurrency: 1 }],
  ])('%s is a ping', (_, event, ping) => {
    expect(detectPing(event, {}, rules)).toEqual(ping)
  })

  test.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['an array', [{ warmer: true }]],
    ['an empty array', []],
    ['a string', 'serverless-plugin-warmup'],
    ['a JSON string of a ping', '{"warmer":true}'],
    ['a number', 42],
    ['NaN', Number.NaN],
    ['true', true],
    ['a function', () => ({ warmer: true })],
    ["warmer: 'yes'", { warmer: 'yes' }],
    ["warmer: 'true'", { warmer: 'true' }],
    ['warmer: 1', { warmer: 1 }],
    ['warmer: false with a concurrency', { warmer: false, concurrency: 3 }],
    ['warmer: null', { warmer: null }],
    ['only a concurrency', { concurrency: 3 }],
    ['only a child marker', { __WARMER_INVOCATION__: 2, __WARMER_CONCURRENCY__: 3 }],
    ['another source', { source: 'my-app' }],
    ['a source of the wrong type', { source: ['serverless-plugin-warmup'] }],
    ['a nested plugin payload', { body: { source: 'serverless-plugin-warmup' } }],
    ['an API Gateway event whose body says warmer', { httpMethod: 'POST', path: '/', body: '{"warmer":true,"concurrency":5}' }],
    ['a scheduled event of an unlisted rule', scheduled(['arn:aws:events:us-east-1:123456789012:rule/someone-elses'])],
    ['a scheduled event of a listed rule name in another service ARN', scheduled(['arn:aws:sns:us-east-1:123456789012:rule/warm-by-name'])],
    ['a scheduled event without resources', scheduled(undefined)],
    ['a scheduled event whose resources is a string', scheduled(ruleArn)],
    ['a scheduled event whose resources hold no strings', scheduled([null, 5, { arn: ruleArn }, [ruleArn]])],
    ['a listed rule, but no Scheduled Event', scheduled([ruleArn], { 'detail-type': 'Object Created' })],
    ['a listed rule, but no aws.events source', scheduled([ruleArn], { source: 'aws.s3' })],
    ['a listed rule, without detail-type', scheduled([ruleArn], { 'detail-type': undefined })],
    ['an SQS batch', { Records: [{ eventSource: 'aws:sqs', body: '{"warmer":true}' }] }],
  ])('%s is no ping, and detection does not throw', (_, event) => {
    expect(detectPing(event, {}, rules)).toBeUndefined()
  })

  test('the serverless-plugin-warmup source is configurable', () => {
    const custom = { ...rules, pluginSource: 'my-warmer' }
    expect(detectPing({ source: 'my-warmer' }, {}, custom)).toEqual({ source: PingSource.ServerlessPluginWarmup, concurrency: 1 })
    expect(detectPing({ source: 'serverless-plugin-warmup' }, {}, custom)).toBeUndefined()
  })

  test('no schedules listed: no scheduled event is a ping', () => {
    expect(detectPing(scheduled([ruleArn]), {}, { ...rules, schedules: new Set() })).toBeUndefined()
  })

  describe('a custom predicate', () => {
    const withPredicate = (isPing: (event: unknown, context: unknown) => unknown, onPredicateError = jest.fn()): PingRules<unknown> => ({ ...rules, isPing, onPredicateError })

    test('recognises pings of its own shape, with the context', () => {
      const context = { functionName: 'shop' }
      const isPing = jest.fn((event: unknown) => (event as { kind?: unknown } | null)?.kind === 'keep-warm')
      expect(detectPing({ kind: 'keep-warm' }, context, withPredicate(isPing))).toEqual({ source: PingSource.Custom, concurrency: 1 })
      expect(isPing).toHaveBeenCalledWith({ kind: 'keep-warm' }, context)
      expect(detectPing({ kind: 'order' }, context, withPredicate(isPing))).toBeUndefined()
    })

    test('only true makes a ping, not a truthy value', () => {
      expect(detectPing({}, {}, withPredicate(() => 'yes'))).toBeUndefined()
      expect(detectPing({}, {}, withPredicate(() => 1))).toBeUndefined()
    })

    test('a predicate that throws makes no ping, and the error is reported', () => {
      const onPredicateError = jest.fn()
      const failure = new TypeError("Cannot read properties of null (reading 'kind')")
      const isPing = (): boolean => {
        throw failure
      }
      expect(detectPing(null, {}, withPredicate(isPing, onPredicateError))).toBeUndefined()
      expect(onPredicateError).toHaveBeenCalledWith(failure)
    })

    test('a predicate that answers with a promise makes no ping, is reported, and its rejection is handled', async () => {
      const onPredicateError = jest.fn()
      const isPing = (event: unknown): Promise<boolean> => ((event as { kind?: unknown }).kind === 'keep-warm' ? Promise.resolve(true) : Promise.reject(new Error('lookup failed')))
      expect(detectPing({ kind: 'keep-warm' }, {}, withPredicate(isPing, onPredicateError))).toBeUndefined()
      expect(detectPing({ kind: 'order' }, {}, withPredicate(isPing, onPredicateError))).toBeUndefined()
      expect(onPredicateError.mock.calls.map(([error]) => String(error))).toEqual([
        'CacheError: middy-cache: warmup isPing answered with a promise; it must answer at once, true for a ping',
        'CacheError: middy-cache: warmup isPing answered with a promise; it must answer at once, true for a ping',
      ])
      // Node reports a rejection left unhandled once the microtasks of the turn that made it have run; Jest fails the test then.
      await flushPromises()
    })

    test('built-in pings are recognised without asking it', () => {
      const isPing = jest.fn(() => false)
      expect(detectPing({ warmer: true }, {}, withPredicate(isPing))).toEqual(single)
      expect(isPing).not.toHaveBeenCalled()
    })
  })
})
