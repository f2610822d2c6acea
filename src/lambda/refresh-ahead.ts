import type { RefreshReport } from '../cache/cache.js'
import { monotonicClock } from '../cache/clock.js'
import { registeredCaches } from '../cache/registry.js'
import type { CacheScope } from '../cache/scope.js'

/**
 * Refreshes, in every registered cache, the entries that would stop being fresh within
 * `horizonMs`, and waits for them and for any load still running (a prefetch started during
 * INIT, say), since no caller is waiting on a ping. With a shared tier, a copy another environment
 * loaded up to `roundMs` before this refresh began serves as a reload here would (`Cache.refreshAhead`).
 * Loads still running when `deadline` aborts (after `budgetMs`) count as failed and are abandoned,
 * so none outlives the invocation; one that a concurrent invocation (of a Managed Instance) also
 * tracks is left for it to settle. Never rejects.
 */
export const refreshRegisteredCaches = async (
  horizonMs: number,
  roundMs: number,
  budgetMs: number,
  scope: CacheScope,
  deadline: AbortSignal,
): Promise<RefreshReport> => {
  const startedAt = monotonicClock()
  // The reloads are tracked in the scope, so the deadline gives up on them there. A cache's settle
  // below abandons the loads nobody tracks or waits for (a prefetch from INIT, which its caller
  // never waits for: `cache.prefetch`), and misses those a cache starts after an await of its own
  // (a shared-tier version check).
  let givingUp: Promise<unknown> | undefined
  const abandonReloads = (): void => {
    givingUp = scope.settle(0)
  }
  deadline.addEventListener('abort', abandonReloads, { once: true })
  try {
    const reports = await Promise.allSettled(
      registeredCaches().map(async ({ cache }) => {
        const [report] = await Promise.all([cache.refreshAhead(horizonMs, { scope, signal: deadline, roundMs }), cache.settle(budgetMs)])
        return report
      }),
    )
    // A refresh stops waiting for a reload that outlives its cache's `timeout`; one that escaped
    // its cache's settle would otherwise run on after the answer, across the freeze.
    await scope.settle(Math.max(0, budgetMs - (monotonicClock() - startedAt)))
    // The refreshes stop waiting at the deadline, maybe before its settle has given up on what they left.
    await givingUp
    let refreshed = 0
    let failed = 0
    for (const report of reports) {
      if (report.status === 'fulfilled') {
        refreshed += report.value.refreshed
        failed += report.value.failed
      } else {
        failed++
      }
    }
    return { refreshed, failed }
  } finally {
    deadline.removeEventListener('abort', abandonReloads)
  }
}
