import type { MiddlewareObj } from '@middy/core'
import type { Cache } from '../../src/cache/cache.js'
import { CacheError } from '../../src/cache/errors.js'
import { invocationOf, settleInvocation } from './invocation.js'

/** One property the middleware puts on its context object, and the cache key behind it. */
export interface ContextEntry {
  readonly property: string
  readonly key: string
  readonly optional: boolean
  /** Names the value in errors, e.g. `parameter "/shop/table"`. */
  readonly label: string
}

export interface ContextValuesOptions {
  readonly cache: Cache<unknown>
  /** The context property the values land on. */
  readonly contextName: string
  readonly entries: readonly ContextEntry[]
  readonly prefetch: boolean
  readonly settleBudgetMs: number
  /** Builds the context object from the values (secrets wrap them so that logs show no value). */
  readonly present: (values: Record<string, unknown>, existing: unknown) => object
  /** Sees the handler's error before background work is settled (secrets drop themselves on some). */
  readonly onHandlerError?: (error: unknown) => void
}

const ignore = (): void => undefined

/**
 * The `before`/`after`/`onError` shared by configCache and secretsCache: every value loaded (or
 * served) in one `getMany` before the handler, refreshes settled after it within a budget.
 */
export const contextValuesMiddleware = (options: ContextValuesOptions): MiddlewareObj => {
  const { cache, contextName, entries, prefetch, settleBudgetMs, present, onHandlerError } = options
  const keys = entries.map((entry) => entry.key)
  // During INIT: a failure here is only a head start lost; the first invocation loads again.
  if (prefetch) cache.getMany(keys).catch(ignore)

  const putValuesOnContext: MiddlewareObj['before'] = async (request) => {
    const loaded = await cache.getMany(keys, { scope: invocationOf(request).scope })
    const values: Record<string, unknown> = {}
    entries.forEach((entry, index) => {
      const value = loaded[index]
      if (value === undefined && !entry.optional) {
        throw new CacheError(`middy-cache: ${entry.label} for context.${contextName}.${entry.property} was not found`)
      }
      values[entry.property] = value
    })
    const context = request.context as unknown as Record<string, unknown>
    context[contextName] = present(values, context[contextName])
  }

  const settleRefreshes: MiddlewareObj['after'] = async (request) => {
    await settleInvocation(request, settleBudgetMs)
  }

  const settleAfterError: MiddlewareObj['onError'] = async (request) => {
    onHandlerError?.(request.error)
    await settleInvocation(request, settleBudgetMs)
  }

  return { before: putValuesOnContext, after: settleRefreshes, onError: settleAfterError }
}
