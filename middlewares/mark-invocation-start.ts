import type { Request } from '@middy/core'
import { invocationAtRequestStart } from './shared/invocation.js'

/**
 * A Middy plugin hook that dates each invocation from the moment Middy starts the request, before
 * any middleware runs: `middy({ requestStart: markInvocationStart })`. The suite otherwise dates
 * an invocation from the first of its middlewares in the chain, so that the work a middleware placed
 * before it does at the first invocation (loading its own configuration, say) would count in
 * `InitDuration`. Middy calls it as the Lambda runtime hands the handler its event: INIT then runs
 * from the start of the process to the start of the first invocation as Lambda sees it. It also lets
 * the suite see an invocation that a middleware placed before all of its own answers early.
 */
export const markInvocationStart = (request: Request): void => {
  invocationAtRequestStart(request)
}
