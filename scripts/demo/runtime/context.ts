import type { Context } from 'aws-lambda'
import { lambdaContext } from '../../../test/support/lambda-context.js'
import type { InitMessage, InvokeMessage } from './messages.js'

/**
 * The Lambda context of one invocation, as the nodejs22.x runtime builds it: the remaining time
 * counts down from the function's timeout, the request id is the one the runtime assigned (so
 * that a fan-out's children can be traced to their origin), the log stream names the environment.
 */
export const invocationContext = (environment: InitMessage, invocation: InvokeMessage): Context => ({
  ...lambdaContext(invocation.timeoutMs, environment.functionName),
  memoryLimitInMB: String(environment.memoryMb),
  awsRequestId: invocation.requestId,
  logStreamName: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${environment.environmentId}`,
})
