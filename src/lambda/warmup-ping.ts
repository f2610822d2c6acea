import { randomUUID } from 'node:crypto'
import type { CacheScope } from '../cache/scope.js'
import { deadlineAfter, hold } from './deadline.js'
import { environmentId, initializationType, isColdStart, type InvocationStart } from './environment.js'
import { fanOut, type FanOutReport, type Invoke } from './fan-out.js'
import { refreshRegisteredCaches } from './refresh-ahead.js'
import { PingSource, type ChildMarker, type Ping } from './warmup-detection.js'

/** What a warm-up ping answers instead of the handler. */
export interface WarmupAnswer {
  readonly warmed: true
  /** How the ping was recognised. */
  readonly source: PingSource
  /** The ping is this environment's cold start: its first invocation, in an environment started on demand. */
  readonly coldStart: boolean
  /** Tells environments apart: N pings that landed in N environments show N ids. */
  readonly environmentId: string
  /** Cache entries reloaded because they would have stopped being fresh before the next ping. */
  readonly refreshed: number
  /** Reloads that failed or ran out of time; those entries keep their last good value. */
  readonly refreshFailed: number
  readonly durationMs: number
  /** On a ping sent by another environment's fan-out. */
  readonly child?: ChildMarker
  /** On an originating ping that asked for more than one environment. */
  readonly fanOut?: FanOutReport
  /** What the ping could not do as asked, besides failed refreshes and invokes. */
  readonly warnings?: readonly string[]
}

export interface PingSettings {
  readonly intervalMs: number
  /** A ping's longest work: pings that land within it of each other are one round, which loads each entry once (`roundMs` of `Cache.refreshAhead`). */
  readonly maxDurationMs: number
  readonly childDelayMs: number
  readonly maxConcurrency: number
  readonly invoke: Invoke
}

/** The ping and what the invocation that received it knows. */
export interface PingInvocation {
  readonly ping: Ping
  readonly scope: CacheScope
  readonly start: InvocationStart
  /** `context.invokedFunctionArn`, which a fan-out invokes. */
  readonly invokedFunctionArn: unknown
  /** `context.awsRequestId`, which ties the children of a fan-out to it. */
  readonly requestId: unknown
  /** How long the ping may work before it answers. */
  readonly budgetMs: number
}

const fanOutOrHold = async (invocation: PingInvocation, settings: PingSettings, signal: AbortSignal): Promise<FanOutReport | undefined> => {
  const { ping } = invocation
  // Pings sent together (by a fan-out, or by serverless-plugin-warmup for its `concurrency`) hold
  // this environment a moment, so that the others cannot land in it.
  if (ping.child !== undefined || ping.source === PingSource.ServerlessPluginWarmup) {
    await hold(settings.childDelayMs, signal)
    return undefined
  }
  if (ping.concurrency <= 1) return undefined
  const correlationId = typeof invocation.requestId === 'string' ? invocation.requestId : randomUUID()
  return fanOut(
    { requested: ping.concurrency, maxConcurrency: settings.maxConcurrency, invokedFunctionArn: invocation.invokedFunctionArn, correlationId },
    settings.invoke,
    signal,
  )
}

/**
 * Does a ping's work: refreshes every cache entry that would stop being fresh before the next
 * ping, fans out to more environments or holds as a child, all within the ping's budget. Never
 * rejects: what fails is reported in the answer.
 */
export const answerPing = async (invocation: PingInvocation, settings: PingSettings): Promise<WarmupAnswer> => {
  const startedAt = performance.now()
  const deadline = deadlineAfter(invocation.budgetMs, 'the warm-up ping')
  try {
    const [refresh, fanOutReport] = await Promise.all([
      refreshRegisteredCaches(settings.intervalMs, settings.maxDurationMs, invocation.budgetMs, invocation.scope, deadline.signal),
      fanOutOrHold(invocation, settings, deadline.signal),
    ])
    const { ping } = invocation
    return {
      warmed: true,
      source: ping.source,
      coldStart: isColdStart(invocation.start, initializationType()),
      environmentId,
      refreshed: refresh.refreshed,
      refreshFailed: refresh.failed,
      durationMs: Math.round(performance.now() - startedAt),
      ...(ping.child === undefined ? {} : { child: ping.child }),
      ...(fanOutReport === undefined ? {} : { fanOut: fanOutReport }),
      ...(ping.concurrencyProblem === undefined ? {} : { warnings: [ping.concurrencyProblem] }),
    }
  } finally {
    deadline.clear()
  }
}
