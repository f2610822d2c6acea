import type { InvocationRecord, Recorder, Trigger } from '../recorder.js'
import type { SharedEnvironment } from './execution-environment.js'
import { FunctionPool } from './function-pool.js'
import type { FunctionDefinition } from './messages.js'

/**
 * A local stand-in for the Lambda service: functions by name, their execution environments, and
 * the world's clock, which the demo moves on to stand for time the environments spent frozen.
 */
export class LambdaRuntime {
  readonly #pools = new Map<string, FunctionPool>()
  readonly #inFlight = new Set<Promise<InvocationRecord>>()
  #wallClockOffsetMs = 0

  constructor(definitions: readonly FunctionDefinition[], shared: SharedEnvironment, recorder: Recorder) {
    for (const definition of definitions) {
      this.#pools.set(definition.name, new FunctionPool(definition, shared, recorder, () => this.#wallClockOffsetMs))
    }
  }

  has(functionName: string): boolean {
    return this.#pools.has(functionName)
  }

  invoke(functionName: string, event: unknown, trigger: Trigger): Promise<InvocationRecord> {
    const pool = this.#pools.get(functionName)
    if (pool === undefined) return Promise.reject(new Error(`no function named ${functionName}`))
    const invocation = pool.invoke(event, trigger)
    this.#inFlight.add(invocation)
    void invocation.finally(() => this.#inFlight.delete(invocation)).catch(() => undefined)
    return invocation
  }

  /** Waits until no invocation runs, those started meanwhile (a fan-out's children) included. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  /** Time passes for every environment, frozen or not yet started. */
  advanceClock(ms: number): void {
    this.#wallClockOffsetMs += ms
    for (const pool of this.#pools.values()) pool.advanceClock(ms)
  }

  /** The idle environments of `functionName` are reclaimed, as Lambda does after a long idle time. */
  async reclaimIdle(functionName: string): Promise<void> {
    await this.#pools.get(functionName)?.reclaimIdle()
  }

  environmentCount(functionName: string): number {
    return this.#pools.get(functionName)?.environments.length ?? 0
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((pool) => pool.stop()))
  }
}
