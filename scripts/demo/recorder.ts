import type { InvocationError } from './runtime/messages.js'

/** What the demo measures: every invocation, every SDK call, every line the functions wrote, by phase. */

export const Trigger = {
  /** Traffic from the demo's clients (API Gateway, SQS, EventBridge). */
  Client: 'client',
  /** A warm-up ping a function sent to itself through Lambda Invoke. */
  FanOut: 'fan-out',
} as const
export type Trigger = (typeof Trigger)[keyof typeof Trigger]

export interface InvocationRecord {
  /** Order in which invocations started, across the whole run. */
  readonly sequence: number
  readonly phase: string
  readonly functionName: string
  readonly environmentId: string
  readonly requestId: string
  readonly trigger: Trigger
  readonly coldStart: boolean
  /** Loading the handler module, on a cold start. */
  readonly initMs: number | undefined
  /** The handler's own duration. */
  readonly durationMs: number
  /** What the caller waited for: INIT and the handler on a cold start, the handler otherwise. */
  readonly latencyMs: number
  /** Why the invocation failed (it threw, or answered with a 5xx), if it did. */
  readonly failure: string | undefined
  /** What the handler threw, if it did. */
  readonly error: InvocationError | undefined
  readonly payload: unknown
}

export interface SdkCall {
  readonly phase: string
  /** The signing name: ssm, secretsmanager, dynamodb, s3, lambda. */
  readonly service: string
  readonly operation: string
  /** The call was answered with an error (an outage the demo switched on). */
  readonly failed: boolean
}

export interface PhaseLine {
  readonly phase: string
  readonly line: string
}

const isEmf = (line: string): boolean => line.startsWith('{"_aws":')

const statusOf = (payload: unknown): unknown => (typeof payload === 'object' && payload !== null ? (payload as { statusCode?: unknown }).statusCode : undefined)

export const failureOf = (error: InvocationError | undefined, payload: unknown): string | undefined => {
  if (error !== undefined) return `${error.type}: ${error.message}`
  const status = statusOf(payload)
  return typeof status === 'number' && status >= 500 ? `answered ${status}` : undefined
}

export class Recorder {
  readonly invocations: InvocationRecord[] = []
  readonly sdkCalls: SdkCall[] = []
  readonly emf: PhaseLine[] = []
  readonly logs: PhaseLine[] = []
  /** What happened in each phase, in words, for the report. */
  readonly notes = new Map<string, string[]>()
  readonly phases: string[] = []
  #phase = 'setup'
  #sequence = 0

  get phase(): string {
    return this.#phase
  }

  beginPhase(name: string): void {
    this.#phase = name
    this.phases.push(name)
  }

  note(text: string): void {
    this.notes.set(this.#phase, [...(this.notes.get(this.#phase) ?? []), text])
  }

  nextSequence(): number {
    return ++this.#sequence
  }

  recordInvocation(record: InvocationRecord, output: readonly string[]): void {
    this.invocations.push(record)
    for (const line of output) (isEmf(line) ? this.emf : this.logs).push({ phase: record.phase, line })
  }

  recordSdkCall(service: string, operation: string, failed: boolean): void {
    this.sdkCalls.push({ phase: this.#phase, service, operation, failed })
  }
}
