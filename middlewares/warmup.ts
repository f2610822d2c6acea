import type { MiddlewareObj } from '@middy/core'
import type { Context } from 'aws-lambda'
import { budgetWithin } from '../src/lambda/budget.js'
import { reasonOf } from '../src/lambda/reason.js'
import { detectPing, type Ping } from '../src/lambda/warmup-detection.js'
import { resolveWarmupOptions, type ResolvedWarmupOptions, type WarmupOptions } from '../src/lambda/warmup-options.js'
import { answerPing, type WarmupAnswer } from '../src/lambda/warmup-ping.js'
import { flushBeforeEarlyReturn, prepareEarlyReturn } from './shared/early-return.js'
import { invocationOf, type Invocation } from './shared/invocation.js'

type WarmupRequest = Parameters<NonNullable<MiddlewareObj<unknown, unknown>['before']>>[0]

const hasProblems = (answer: WarmupAnswer): boolean =>
  answer.refreshFailed > 0 || answer.warnings !== undefined || (answer.fanOut !== undefined && (answer.fanOut.failed > 0 || answer.fanOut.skipped !== undefined))

/** Flushes what Middy's early return skips; a flush that fails is reported in the answer, never thrown. */
const flushed = async (request: WarmupRequest, answer: WarmupAnswer, settings: ResolvedWarmupOptions): Promise<WarmupAnswer> => {
  const errors = await flushBeforeEarlyReturn(request, settings.metrics)
  if (errors.length === 0) return answer
  return { ...answer, warnings: [...(answer.warnings ?? []), ...errors.map((error) => `flushing metrics failed: ${reasonOf(error)}`)] }
}

const answerWith = async (request: WarmupRequest, invocation: Invocation, settings: ResolvedWarmupOptions, ping: Ping): Promise<WarmupAnswer> => {
  invocation.warmupPing = true
  // A coldStartSnapshot placed after warmup restores its snapshot first: the ping refreshes it too.
  await prepareEarlyReturn(request)
  const context = request.context as Partial<Context>
  const answer = await answerPing(
    {
      ping,
      scope: invocation.scope,
      start: invocation.start,
      invokedFunctionArn: context.invokedFunctionArn,
      requestId: context.awsRequestId,
      budgetMs: budgetWithin(context, settings.maxDurationMs),
    },
    settings,
  )
  const final = await flushed(request, answer, settings)
  if (hasProblems(final)) settings.logger?.warn('middy-cache: warm-up ping answered with problems', final)
  else settings.logger?.info('middy-cache: warm-up ping answered', final)
  return final
}

/**
 * Answers warm-up pings (serverless-plugin-warmup, `{ warmer: true, concurrency: N }`, listed
 * EventBridge schedules, or an `isPing` predicate) without calling the handler: refreshes the
 * cache entries that would stop being fresh before the next ping, fans out to N environments,
 * and flushes metrics before answering. Place it first: a ping then runs no other middleware.
 * Metrics flush whatever the order: cacheMetrics, before or after it; coldStartSnapshot, before
 * or after it, restores its snapshot before the refresh and writes a due one; Powertools' logMetrics
 * placed before it, through Powertools' cleanup; what a logMetrics placed after it holds, through
 * the `metrics` option.
 */
export const warmup = (options?: WarmupOptions): MiddlewareObj<unknown, unknown> => {
  const settings = resolveWarmupOptions(options)
  // Synchronous for any other event, so the ordinary invocation pays no promise for the check.
  const answerWarmupPing = (request: WarmupRequest): Promise<WarmupAnswer> | undefined => {
    // Every invocation is counted, so that a ping after real requests is not taken for a cold start.
    const invocation = invocationOf(request)
    const ping = detectPing(request.event, request.context, settings.rules)
    return ping === undefined ? undefined : answerWith(request, invocation, settings, ping)
  }
  return { before: answerWarmupPing, name: 'warmup' }
}

export type { WarmupAnswer } from '../src/lambda/warmup-ping.js'
export type { FlushableMetrics, WarmupLogger, WarmupOptions } from '../src/lambda/warmup-options.js'
export { PingSource, type ChildMarker } from '../src/lambda/warmup-detection.js'
export type { FanOutReport } from '../src/lambda/fan-out.js'
