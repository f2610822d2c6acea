import { randomUUID } from 'node:crypto'
import { failureOf, type InvocationRecord, type Recorder, type Trigger } from '../recorder.js'
import { ExecutionEnvironment, type InvocationResult, type SharedEnvironment } from './execution-environment.js'
import type { FunctionDefinition } from './messages.js'

/**
 * The execution environments of one function, placed as Lambda places invocations: an idle
 * environment if there is one (the one that went idle last), else a new one, which starts cold.
 */
export class FunctionPool {
  readonly environments: ExecutionEnvironment[] = []
  readonly #idle: ExecutionEnvironment[] = []
  #started = 0

  constructor(
    readonly definition: FunctionDefinition,
    private readonly shared: SharedEnvironment,
    private readonly recorder: Recorder,
    private readonly wallClockOffsetMs: () => number,
  ) {}

  async invoke(event: unknown, trigger: Trigger): Promise<InvocationRecord> {
    const phase = this.recorder.phase
    const sequence = this.recorder.nextSequence()
    const requestId = randomUUID()
    const environment = this.#idle.pop() ?? (await this.#startEnvironment())
    const result = await this.#invokeIn(environment, requestId, event)
    const initMs = result.coldStart ? environment.initMs : undefined
    const record: InvocationRecord = {
      sequence,
      phase,
      functionName: this.definition.name,
      environmentId: environment.id,
      requestId,
      trigger,
      coldStart: result.coldStart,
      initMs,
      durationMs: result.durationMs,
      latencyMs: (initMs ?? 0) + result.durationMs,
      failure: failureOf(result.error, result.payload),
      error: result.error,
      payload: result.payload,
    }
    this.recorder.recordInvocation(record, result.output)
    return record
  }

  /** Every environment was frozen for `ms`. */
  advanceClock(ms: number): void {
    for (const environment of this.environments) environment.advanceClock(ms)
  }

  async stop(): Promise<void> {
    await Promise.all(this.environments.map((environment) => environment.stop()))
  }

  /** Lambda reclaims the environments that sat idle too long: the next invocation starts a new one. */
  async reclaimIdle(): Promise<void> {
    await Promise.all(this.#idle.splice(0).map((environment) => environment.stop()))
  }

  /** An environment whose process died answers as Lambda's runtime does (Runtime.ExitError); neither it nor one reset after a timeout is used again. */
  async #invokeIn(environment: ExecutionEnvironment, requestId: string, event: unknown): Promise<InvocationResult> {
    try {
      const result = await environment.invoke(requestId, event)
      if (environment.alive) this.#idle.push(environment)
      return result
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      return { requestId, durationMs: 0, error: { type: 'Runtime.ExitError', message }, output: [], coldStart: environment.invocations === 1 }
    }
  }

  async #startEnvironment(): Promise<ExecutionEnvironment> {
    const id = `${this.definition.name}#${++this.#started}`
    const environment = await ExecutionEnvironment.start(id, this.definition, this.shared, this.wallClockOffsetMs())
    this.environments.push(environment)
    return environment
  }
}
