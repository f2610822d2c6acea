import { reasonOf } from './reason.js'
import { childPing } from './warmup-detection.js'

export const InvocationType = {
  /** Queued by Lambda: the call returns at once. */
  Event: 'Event',
  /** Waits for the child's answer, which keeps this environment busy until the child has been served. */
  RequestResponse: 'RequestResponse',
} as const
export type InvocationType = (typeof InvocationType)[keyof typeof InvocationType]

/** The function a fan-out invokes: the one that received the ping, alias or version included. */
export interface FanOutTarget {
  /** The unqualified function ARN. */
  readonly functionName: string
  /** The alias or version the ping was invoked with; undefined for an unqualified invoke ($LATEST). */
  readonly qualifier: string | undefined
  readonly region: string
}

export interface InvokeRequest extends FanOutTarget {
  readonly invocationType: InvocationType
  /** JSON. */
  readonly payload: string
}

/** Sends one Invoke; rejects when Lambda refuses it or, for RequestResponse, the child answers with an error. */
export type Invoke = (request: InvokeRequest, signal: AbortSignal) => Promise<void>

export interface FanOutPlan {
  /** Environments the ping asks for, this one included. */
  readonly requested: number
  readonly maxConcurrency: number
  /** `context.invokedFunctionArn`, as the runtime gave it (or not). */
  readonly invokedFunctionArn: unknown
  readonly correlationId: string
}

/** What a fan-out came to; it never throws, so a failing Invoke never fails the ping. */
export interface FanOutReport {
  /** Environments the ping asked for, this one included. */
  readonly requested: number
  /** Environments aimed at: `requested` capped by `maxConcurrency`. */
  readonly concurrency: number
  /** Child pings Lambda accepted (Event: queued; RequestResponse: answered without a function error). */
  readonly invoked: number
  readonly failed: number
  /** The distinct reasons of the failures. */
  readonly errors: readonly string[]
  /** Why no child ping was sent at all. */
  readonly skipped?: string
}

// A qualifier is an alias, a version number, $LATEST, or the $LATEST.PUBLISHED version of a
// function on Lambda Managed Instances: hence the dot.
const functionArnPattern = /^(arn:aws[a-z-]*:lambda:([a-z0-9-]+):\d{12}:function:[A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9$_.-]{1,128}))?$/

/** The function and qualifier `invokedFunctionArn` names, or undefined when it is no Lambda function ARN. */
export const fanOutTarget = (invokedFunctionArn: unknown): FanOutTarget | undefined => {
  if (typeof invokedFunctionArn !== 'string') return undefined
  const match = functionArnPattern.exec(invokedFunctionArn)
  if (match?.[1] === undefined || match[2] === undefined) return undefined
  return { functionName: match[1], qualifier: match[3], region: match[2] }
}

/**
 * Invokes the function N-1 times so that N environments answer a ping at once: `Event` for all but
 * the last, `RequestResponse` for the last (this environment stays busy until that child has been
 * served, so the children cannot land in it), each payload marked as a child that never fans out.
 */
export const fanOut = async (plan: FanOutPlan, invoke: Invoke, signal: AbortSignal): Promise<FanOutReport> => {
  const concurrency = Math.min(plan.requested, plan.maxConcurrency)
  const target = fanOutTarget(plan.invokedFunctionArn)
  if (target === undefined) {
    const skipped = plan.invokedFunctionArn === undefined
      ? 'the Lambda context has no invokedFunctionArn to invoke'
      : 'context.invokedFunctionArn is not a Lambda function ARN'
    return { requested: plan.requested, concurrency, invoked: 0, failed: 0, errors: [], skipped }
  }
  const invokes: Promise<void>[] = []
  for (let invocation = 2; invocation <= concurrency; invocation++) {
    const invocationType = invocation === concurrency ? InvocationType.RequestResponse : InvocationType.Event
    const payload = JSON.stringify(childPing(invocation, concurrency, plan.correlationId))
    invokes.push(invoke({ ...target, invocationType, payload }, signal))
  }
  const results = await Promise.allSettled(invokes)
  const errors = new Set<string>()
  for (const result of results) if (result.status === 'rejected') errors.add(reasonOf(result.reason))
  const invoked = results.filter((result) => result.status === 'fulfilled').length
  return { requested: plan.requested, concurrency, invoked, failed: results.length - invoked, errors: [...errors] }
}
