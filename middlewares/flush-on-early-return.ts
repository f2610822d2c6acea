import type { Request } from '@middy/core'
import { flushSuiteOnEarlyReturn } from './shared/early-return.js'
import { requestEnded } from './shared/invocation.js'

/**
 * A Middy plugin hook for chains in which a middleware other than `warmup` may answer early (an
 * idempotency check, a validator, an authoriser...): `middy({ requestEnd: flushOnEarlyReturn })`.
 * Middy skips every `after` hook of a request answered early, so without it cacheMetrics would not
 * write that request, coldStartSnapshot would not write a due snapshot, and refreshes the cache
 * middlewares started in `before` would run on across the freeze. It writes them, once, and settles
 * those refreshes for a request that ended early; it does the same for a failed request whose
 * onError chain was cut short by a hook that threw (Powertools' logMetrics with throwOnEmptyMetrics
 * placed after cacheMetrics, say), and does nothing more for the others. Ends the request's
 * invocation for Middy handlers handed its context later (see `markInvocationStart`). Never rejects.
 */
export const flushOnEarlyReturn = (request: Request): Promise<void> | undefined => {
  requestEnded(request)
  if ('earlyResponse' in request) return flushSuiteOnEarlyReturn(request)
  // A failed request whose onError chain another middleware's hook cut short (it threw) left this
  // suite's flush and settling undone: they run here, once. A middleware whose `before` never ran
  // (one placed ahead of it threw) registered no work for the request, so its flusher stands in.
  return request.error === undefined ? undefined : flushSuiteOnEarlyReturn(request)
}
