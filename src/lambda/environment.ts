import { randomUUID } from 'node:crypto'

/** How an invocation stands in the life of its execution environment. */
export interface InvocationStart {
  /** The first invocation of this environment. */
  readonly coldStart: boolean
  /** Module load (process start) to the first invocation, in ms; only on the first invocation. */
  readonly initDurationMs: number | undefined
  /** 1 for the first invocation of the environment, then 2, 3... */
  readonly sequence: number
}

/** Identifies this execution environment in warm-up answers and logs. */
export const environmentId = randomUUID()
let invocations = 0

/**
 * Marks the start of an invocation; call once per invocation. `performance.now()` counts from the
 * start of the process, which on Lambda is the start of INIT.
 */
export const startInvocation = (): InvocationStart => {
  const sequence = ++invocations
  const coldStart = sequence === 1
  return { coldStart, initDurationMs: coldStart ? performance.now() : undefined, sequence }
}

/** `AWS_LAMBDA_INITIALIZATION_TYPE`: on-demand, provisioned-concurrency or snap-start; undefined off Lambda. */
export const initializationType = (): string | undefined => process.env.AWS_LAMBDA_INITIALIZATION_TYPE
