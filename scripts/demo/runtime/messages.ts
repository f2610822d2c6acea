/** What the demo's runtime and an execution environment process say to each other over IPC. */

/** A function as the runtime runs it: its bundled handler and the environment variables Lambda would set from serverless.yml. */
export interface FunctionDefinition {
  /** The function's name, as in its ARN; also its row in the report. */
  readonly name: string
  /** The bundled handler module (CommonJS), exporting `handler`. */
  readonly bundlePath: string
  /** The function's own environment variables (table names, parameter names, REDIS_URL...). */
  readonly environment: Readonly<Record<string, string>>
  readonly timeoutMs: number
  readonly memoryMb: number
}

export interface InitMessage {
  readonly kind: 'init'
  readonly functionName: string
  readonly environmentId: string
  readonly bundlePath: string
  readonly memoryMb: number
  /** How far the world's wall clock has been moved on (frozen time) before this environment started. */
  readonly wallClockOffsetMs: number
}

export interface InvokeMessage {
  readonly kind: 'invoke'
  readonly requestId: string
  readonly event: unknown
  readonly timeoutMs: number
}

/** Time passes while the environment is frozen: its clocks jump forward. */
export interface AdvanceClockMessage {
  readonly kind: 'advance-clock'
  readonly ms: number
}

export type ToEnvironment = InitMessage | InvokeMessage | AdvanceClockMessage

export interface ReadyMessage {
  readonly kind: 'ready'
  /** Loading the handler module: Lambda's INIT phase for this function. */
  readonly initMs: number
}

export interface InitFailedMessage {
  readonly kind: 'init-failed'
  readonly error: string
}

export interface InvocationError {
  readonly type: string
  readonly message: string
}

export interface ResultMessage {
  readonly kind: 'result'
  readonly requestId: string
  /** The handler's own duration, as Lambda bills it. */
  readonly durationMs: number
  readonly payload?: unknown
  readonly error?: InvocationError
  /** Lines the function wrote to stdout and stderr during the invocation (EMF among them). */
  readonly output: readonly string[]
}

export type FromEnvironment = ReadyMessage | InitFailedMessage | ResultMessage
