import { LambdaClient } from '@aws-sdk/client-lambda'
import { fanOut, fanOutTarget, InvocationType, type FanOutPlan } from '../../src/lambda/fan-out.js'
import { sdkInvoke } from '../../src/lambda/lambda-invoke.js'
import { awsRestJsonError, startHttpFaultProxy, type HttpFaultProxy } from '../harness/index.js'
import { localClientConfig } from '../support/aws-client-config.js'
import { deferred } from '../support/deferred.js'
import { recordedMotoFunction } from '../support/invoke-recorder.js'

const moto = recordedMotoFunction('fan-out')

const plan = (overrides: Partial<FanOutPlan>): FanOutPlan => ({
  requested: 4,
  maxConcurrency: 50,
  invokedFunctionArn: `${moto.fn.arn}:${moto.fn.alias}`,
  correlationId: 'origin-request-id',
  ...overrides,
})

const noDeadline = new AbortController().signal

describe('fan-out against the Lambda Invoke API (moto, through a recording proxy)', () => {
  test('invokes N-1 children on the alias it was invoked through: Event for all but the last, RequestResponse for the last, each marked as a child', async () => {
    const report = await fanOut(plan({ requested: 4 }), sdkInvoke({ clientConfig: { endpoint: moto.recorder.url } }), noDeadline)

    expect(report).toEqual({ requested: 4, concurrency: 4, invoked: 3, failed: 0, errors: [] })
    const byInvocation = [...moto.recorder.invokes].sort(
      (a, b) => (a.payload as Record<string, number>).__WARMER_INVOCATION__! - (b.payload as Record<string, number>).__WARMER_INVOCATION__!,
    )
    expect(byInvocation).toEqual([
      { functionName: moto.fn.arn, qualifier: 'live', invocationType: InvocationType.Event, status: 202, payload: { warmer: true, __WARMER_INVOCATION__: 2, __WARMER_CONCURRENCY__: 4, __WARMER_CORRELATIONID__: 'origin-request-id' } },
      { functionName: moto.fn.arn, qualifier: 'live', invocationType: InvocationType.Event, status: 202, payload: { warmer: true, __WARMER_INVOCATION__: 3, __WARMER_CONCURRENCY__: 4, __WARMER_CORRELATIONID__: 'origin-request-id' } },
      { functionName: moto.fn.arn, qualifier: 'live', invocationType: InvocationType.RequestResponse, status: 200, payload: { warmer: true, __WARMER_INVOCATION__: 4, __WARMER_CONCURRENCY__: 4, __WARMER_CORRELATIONID__: 'origin-request-id' } },
    ])
  })

  test('keeps a version qualifier, and sends none for an unqualified ARN', async () => {
    const invoke = sdkInvoke({ clientConfig: { endpoint: moto.recorder.url } })
    await fanOut(plan({ requested: 2, invokedFunctionArn: `${moto.fn.arn}:${moto.fn.version}` }), invoke, noDeadline)
    await fanOut(plan({ requested: 2, invokedFunctionArn: moto.fn.arn }), invoke, noDeadline)
    expect(moto.recorder.invokes.map(({ qualifier, invocationType }) => ({ qualifier, invocationType }))).toEqual([
      { qualifier: moto.fn.version, invocationType: InvocationType.RequestResponse },
      { qualifier: undefined, invocationType: InvocationType.RequestResponse },
    ])
  })

  test('keeps the $LATEST.PUBLISHED version a function on Lambda Managed Instances was invoked through', async () => {
    await fanOut(plan({ requested: 2, invokedFunctionArn: `${moto.fn.arn}:$LATEST.PUBLISHED` }), sdkInvoke({ clientConfig: { endpoint: moto.recorder.url, maxAttempts: 1 } }), noDeadline)
    expect(moto.recorder.invokes.map(({ functionName, qualifier }) => ({ functionName, qualifier }))).toEqual([{ functionName: moto.fn.arn, qualifier: '$LATEST.PUBLISHED' }])
  })

  test('caps the environments at maxConcurrency', async () => {
    const report = await fanOut(plan({ requested: 1_000_000, maxConcurrency: 3 }), sdkInvoke({ clientConfig: { endpoint: moto.recorder.url } }), noDeadline)
    expect(report).toMatchObject({ requested: 1_000_000, concurrency: 3, invoked: 2, failed: 0 })
    expect(moto.recorder.invokes).toHaveLength(2)
  })

  test('a refused Invoke is counted and explained, the others still go out, and nothing throws', async () => {
    moto.recorder.intercept((invoke) => ((invoke.payload as Record<string, number>).__WARMER_INVOCATION__ === 3 ? 'refuse' : undefined))
    const report = await fanOut(plan({ requested: 4 }), sdkInvoke({ clientConfig: { endpoint: moto.recorder.url, maxAttempts: 1 } }), noDeadline)
    expect(report).toMatchObject({ invoked: 2, failed: 1 })
    expect(report.errors).toEqual([expect.stringMatching(/^AccessDeniedException: refused by the test recorder/)])
    expect(moto.recorder.invokes.map((invoke) => invoke.status).sort()).toEqual([200, 202, 403])
  })

  test('a last child that answers with a function error counts as failed', async () => {
    moto.recorder.intercept((invoke) => (invoke.invocationType === InvocationType.RequestResponse ? 'function-error' : undefined))
    const report = await fanOut(plan({ requested: 3 }), sdkInvoke({ clientConfig: { endpoint: moto.recorder.url } }), noDeadline)
    expect(report).toMatchObject({ invoked: 1, failed: 1, errors: ['CacheError: middy-cache: the fan-out ping answered with a function error (Unhandled)'] })
  })

  test('an aborted fan-out (the ping ran out of time) reports its invokes as failed', async () => {
    const deadline = new AbortController()
    deadline.abort(new Error('out of time'))
    const report = await fanOut(plan({ requested: 3 }), sdkInvoke({ clientConfig: { endpoint: moto.recorder.url } }), deadline.signal)
    expect(report).toMatchObject({ invoked: 0, failed: 2 })
  })

  test('the first fan-out stops waiting for the SDK import when the deadline aborts; the import goes on, and the next fan-out uses it', async () => {
    const importing = deferred<typeof import('@aws-sdk/client-lambda')>()
    const invoke = sdkInvoke({ clientConfig: { endpoint: moto.recorder.url } }, () => importing.promise)
    const deadline = new AbortController()

    const reporting = fanOut(plan({ requested: 3 }), invoke, deadline.signal)
    deadline.abort(new Error('out of time'))

    expect(await reporting).toEqual({
      requested: 3, concurrency: 3, invoked: 0, failed: 2, errors: ['CacheError: middy-cache: the warm-up ping ran out of time while @aws-sdk/client-lambda was loading'],
    })
    importing.resolve(await import('@aws-sdk/client-lambda'))
    expect(await fanOut(plan({ requested: 2 }), invoke, noDeadline)).toMatchObject({ invoked: 1, failed: 0 })
    expect(moto.recorder.invokes).toHaveLength(1)
  })

  test('without a usable invokedFunctionArn nothing is invoked, and the report says why', async () => {
    const invoke = jest.fn()
    expect(await fanOut(plan({ invokedFunctionArn: undefined }), invoke, noDeadline)).toEqual({
      requested: 4, concurrency: 4, invoked: 0, failed: 0, errors: [], skipped: 'the Lambda context has no invokedFunctionArn to invoke',
    })
    expect(await fanOut(plan({ invokedFunctionArn: 'arn:aws:sns:us-east-1:123456789012:topic' }), invoke, noDeadline)).toMatchObject({
      invoked: 0, skipped: 'context.invokedFunctionArn is not a Lambda function ARN',
    })
    expect(invoke).not.toHaveBeenCalled()
  })
})

describe('fan-out when Lambda throttles (a fault proxy in front of moto answers 429 as Lambda does)', () => {
  const invocations = /^\/2015-03-31\/functions\/[^/]+\/invocations$/
  const throttled = awsRestJsonError('TooManyRequestsException', 'Rate Exceeded.', 429, { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User' })
  let faults: HttpFaultProxy

  beforeEach(async () => {
    faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL! })
  })

  afterEach(async () => {
    await faults.close()
  })

  test('the client it builds sends a throttled child once: the environments are busy, and a retry would only bill the ping for the wait', async () => {
    faults.inject({ path: invocations, ...throttled })
    const report = await fanOut(plan({ requested: 3 }), sdkInvoke({ clientConfig: { endpoint: faults.url } }), noDeadline)
    expect(report).toEqual({ requested: 3, concurrency: 3, invoked: 0, failed: 2, errors: ['TooManyRequestsException: Rate Exceeded.'] })
    expect(faults.requests({ path: invocations })).toEqual({ seen: 2, answered: 2 })
  })

  test('the client it builds still retries a 5xx, as the SDK does', async () => {
    faults.inject({ path: invocations, times: 1, ...awsRestJsonError('ServiceException', 'internal failure', 500) })
    const report = await fanOut(plan({ requested: 2 }), sdkInvoke({ clientConfig: { endpoint: faults.url } }), noDeadline)
    expect(report).toMatchObject({ invoked: 1, failed: 0 })
    expect(faults.requests({ path: invocations })).toEqual({ seen: 2, answered: 1 })
  })

  test('a client passed in keeps its own retry settings: this one retries the throttled child', async () => {
    faults.inject({ path: invocations, times: 1, ...throttled })
    const client = new LambdaClient({ ...localClientConfig(faults.url), maxAttempts: 2 })
    try {
      const report = await fanOut(plan({ requested: 2 }), sdkInvoke({ awsSdkV3Client: client }), noDeadline)
      expect(report).toMatchObject({ invoked: 1, failed: 0 })
      expect(faults.requests({ path: invocations })).toEqual({ seen: 2, answered: 1 })
    } finally {
      client.destroy()
    }
  })

  test('a retryStrategy in clientConfig replaces the one that refuses throttling', async () => {
    faults.inject({ path: invocations, times: 1, ...throttled })
    const token = (retries: number) => ({ getRetryCount: () => retries, getRetryDelay: () => 0 })
    const retryOnce = {
      acquireInitialRetryToken: () => Promise.resolve(token(0)),
      refreshRetryTokenForRetry: (previous: ReturnType<typeof token>) =>
        previous.getRetryCount() === 0 ? Promise.resolve(token(1)) : Promise.reject(new Error('no more retries')),
      recordSuccess: () => undefined,
    }
    const report = await fanOut(plan({ requested: 2 }), sdkInvoke({ clientConfig: { endpoint: faults.url, retryStrategy: retryOnce } }), noDeadline)
    expect(report).toMatchObject({ invoked: 1, failed: 0 })
    expect(faults.requests({ path: invocations })).toEqual({ seen: 2, answered: 1 })
  })
})

describe('fanOutTarget', () => {
  test.each([
    ['arn:aws:lambda:eu-west-1:123456789012:function:shop-api', { functionName: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-api', qualifier: undefined, region: 'eu-west-1' }],
    ['arn:aws:lambda:eu-west-1:123456789012:function:shop-api:prod', { functionName: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-api', qualifier: 'prod', region: 'eu-west-1' }],
    ['arn:aws:lambda:eu-west-1:123456789012:function:shop-api:17', { functionName: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-api', qualifier: '17', region: 'eu-west-1' }],
    ['arn:aws:lambda:eu-west-1:123456789012:function:shop-api:$LATEST', { functionName: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-api', qualifier: '$LATEST', region: 'eu-west-1' }],
    ['arn:aws-cn:lambda:cn-north-1:123456789012:function:f', { functionName: 'arn:aws-cn:lambda:cn-north-1:123456789012:function:f', qualifier: undefined, region: 'cn-north-1' }],
    ['arn:aws:lambda:eu-west-1:123456789012:function:shop-api:$LATEST.PUBLISHED', { functionName: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-api', qualifier: '$LATEST.PUBLISHED', region: 'eu-west-1' }],
  ])('%s', (arn, target) => {
    expect(fanOutTarget(arn)).toEqual(target)
  })

  test.each([undefined, null, 42, '', 'shop-api', 'arn:aws:lambda:eu-west-1:123456789012:function:', 'arn:aws:lambda:eu-west-1:123456789012:function:a:b:c', 'arn:aws:sqs:eu-west-1:123456789012:queue'])(
    '%p is no target',
    (arn) => {
      expect(fanOutTarget(arn)).toBeUndefined()
    },
  )
})
