import type { Request } from '@middy/core'
import { runEarlyReturnWork } from './invocation.js'

/**
 * The prefix of the keys under which Powertools' middlewares keep their cleanups in
 * `request.internal` (commons' PREFIX). Read here, so that commons is imported only when one of
 * them is there to clean up: a function without Powertools never needs the package.
 */
const powertoolsPrefix = 'powertools-for-aws.'

/**
 * Runs what Middy skips when a middleware answers early: this suite's early-return work (the
 * cacheMetrics flush), then the cleanups of Powertools' middlewares (logMetrics' flush, the
 * tracer's segment...) through Powertools' own `cleanupMiddlewares`. Only middlewares placed
 * before the one that answers early have anything to clean up. Rejects when a Powertools cleanup
 * does (logMetrics with throwOnEmptyMetrics, say).
 */
export const flushBeforeEarlyReturn = async (request: Request): Promise<void> => {
  await runEarlyReturnWork(request)
  if (!Object.keys(request.internal).some((key) => key.startsWith(powertoolsPrefix))) return
  const { cleanupMiddlewares } = await import('@aws-lambda-powertools/commons')
  await cleanupMiddlewares(request)
}
