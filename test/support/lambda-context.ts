import type { Context } from 'aws-lambda'
import { randomUUID } from 'node:crypto'

/**
 * A Lambda context as the nodejs22.x runtime hands it to a handler, with `remainingMs` left (the
 * runtime no longer provides the deprecated done/fail/succeed callbacks).
 */
export const lambdaContext = (remainingMs = 30_000, functionName = 'test-function'): Context => {
  const deadline = Date.now() + remainingMs
  const context: Omit<Context, 'done' | 'fail' | 'succeed'> = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/23/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  }
  return context as Context
}
