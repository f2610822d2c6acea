import type { Context } from 'aws-lambda'
import { lambdaContext } from './lambda-context.js'

/**
 * Invokes a Middy handler as the Lambda runtime does: with a plain Lambda context. (Middy types the
 * context a handler sees with what its middlewares add, which the runtime does not know about.)
 */
export const invoke = <H extends (event: never, context: never) => unknown>(handler: H, event: unknown = {}, context: Context = lambdaContext()): Promise<Awaited<ReturnType<H>>> =>
  Promise.resolve(handler(event as never, context as never) as Awaited<ReturnType<H>>)
