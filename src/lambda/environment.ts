import { randomUUID } from 'node:crypto'
import { processWide } from '../cache/process-state.js'

/** How an invocation stands in the life of its execution environment. */
export interface InvocationStart {
  /** The first invocation of this environment. */
  readonly coldStart: boolean
  /** Module load (process start) to the first invocation, in ms; only on the first invocation. */
  readonly initDurationMs: number | undefined
  /** 1 for the first invocation of the environment, more for any later one (by the invocations counted before it). */
  readonly sequence: number
}

/** The execution environment as every copy of the package in the process sees it: one cold start, one count. */
interface EnvironmentState {
  readonly id: string
  invocations: number
}

const environment = processWide('environment', (): EnvironmentState => ({ id: randomUUID(), invocations: 0 }))

/** Identifies this execution environment in warm-up answers and logs. */
export const environmentId = environment.id

/**
 * Counts in the start of an invocation and gives its sequence number; call at most once per
 * invocation, and always for the environment's first: one numbered 1 is taken for the cold start.
 */
export const countInvocation = (): number => ++environment.invocations

/**
 * How the invocation numbered `sequence` by `countInvocation`, which began at `startedAtMs` by
 * `performance.now()`, stands in the life of its environment. That clock counts from the start of
 * the process, which on Lambda is the start of INIT: the first invocation's start is INIT's duration.
 */
export const invocationStart = (sequence: number, startedAtMs: number): InvocationStart =>
  sequence === 1 ? { coldStart: true, initDurationMs: startedAtMs, sequence } : { coldStart: false, initDurationMs: undefined, sequence }

/** `AWS_LAMBDA_INITIALIZATION_TYPE`: on-demand, provisioned-concurrency, snap-start or lambda-managed-instances; undefined off Lambda. */
export const initializationType = (): string | undefined => process.env.AWS_LAMBDA_INITIALIZATION_TYPE?.trim()

/**
 * The one rule for a cold start, in the warm-up answer and in the metrics alike, and Powertools'
 * own (so that its `ColdStart` and ours agree): the first invocation of an environment started on
 * demand, for a caller. Provisioned concurrency, SnapStart and Managed Instances initialise ahead of
 * any caller, and off Lambda, with the variable unset, no caller waited for an INIT.
 */
export const isColdStart = (start: InvocationStart, initialization: string | undefined): boolean =>
  start.coldStart && initialization === 'on-demand'
