import type { Context } from 'aws-lambda'
import { randomUUID } from 'node:crypto'

/**
 * Contexts for the successive invocations of one function: a new object for each, as the Lambda
 * runtime hands a new context to every invocation, and cheap to make, as a bench needs. They share
 * one request id and one deadline, `remainingMs` from now.
 */
export const lambdaContexts = (remainingMs = 30_000, functionName = 'test-function'): (() => Context) => {
  const deadline = Date.now() + remainingMs
  const awsRequestId = randomUUID()
  const invokedFunctionArn = `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`
  const logGroupName = `/aws/lambda/${functionName}`
  const getRemainingTimeInMillis = (): number => Math.max(0, deadline - Date.now())
  // The nodejs22.x runtime no longer provides the deprecated done/fail/succeed callbacks.
  const next = (): Omit<Context, 'done' | 'fail' | 'succeed'> => ({
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn,
    memoryLimitInMB: '512',
    awsRequestId,
    logGroupName,
    logStreamName: '2026/11/23/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis,
  })
  return next as () => Context
}

/** A Lambda context as the nodejs22.x runtime hands it to a handler, with `remainingMs` left. */
export const lambdaContext = (remainingMs = 30_000, functionName = 'test-function'): Context => lambdaContexts(remainingMs, functionName)()
