import { startInvokeRecorder } from '../support/invoke-recorder.js'
import { invoke } from '../support/invoke.js'
import { lambdaContext } from '../support/lambda-context.js'
import { withoutFunctionArn } from '../support/lambda-functions.js'

describe('warmup loads @aws-sdk/client-lambda only to fan out', () => {
  test('not at construction, not for other events, not for single pings, not when fan-out is impossible; once at the first fan-out', async () => {
    const loaded = jest.fn()
    jest.doMock('@aws-sdk/client-lambda', () => {
      loaded()
      return jest.requireActual<typeof import('@aws-sdk/client-lambda')>('@aws-sdk/client-lambda')
    })
    const recorder = await startInvokeRecorder()
    recorder.intercept(() => 'refuse')
    try {
      /* eslint-disable @typescript-eslint/no-require-imports -- required after doMock, so that the mock sees every load */
      const middy = (require('@middy/core') as typeof import('@middy/core')).default
      const { warmup } = require('../../middlewares/warmup.js') as typeof import('../../middlewares/warmup.js')
      /* eslint-enable @typescript-eslint/no-require-imports */
      const handler = middy().use(warmup({ clientConfig: { endpoint: recorder.url, maxAttempts: 1 } })).handler(() => Promise.resolve('handled'))
      const aliased = { ...lambdaContext(), invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:shop:live' }

      await invoke(handler, { httpMethod: 'GET' }, aliased)
      await invoke(handler, { warmer: true }, aliased)
      await invoke(handler, { warmer: true, concurrency: 3 }, withoutFunctionArn())
      expect(loaded).not.toHaveBeenCalled()

      await invoke(handler, { warmer: true, concurrency: 3 }, aliased)
      await invoke(handler, { warmer: true, concurrency: 3 }, aliased)
      expect(loaded).toHaveBeenCalledTimes(1)
      expect(recorder.invokes).toHaveLength(4)
    } finally {
      await recorder.close()
    }
  })
})
