import { fork, type ChildProcess } from 'node:child_process'
import type { FromEnvironment, FunctionDefinition, ResultMessage, ToEnvironment } from './messages.js'

/** The answer of one invocation, as the runtime saw it. */
export type InvocationResult = Omit<ResultMessage, 'kind'> & {
  /** The environment's first invocation: the caller also waited for INIT. */
  readonly coldStart: boolean
}

/** What every environment gets besides the function's own variables: what Lambda sets, and where "AWS" is. */
export interface SharedEnvironment {
  /** The local AWS endpoint (the demo's gateway), standing in for the regional endpoints. */
  readonly awsEndpoint: string
  readonly region: string
  /** The bundled environment-process.ts each environment's process runs. */
  readonly bootstrap: string
}

const lambdaVariables = (definition: FunctionDefinition, shared: SharedEnvironment): Record<string, string> => ({
  AWS_LAMBDA_FUNCTION_NAME: definition.name,
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memoryMb),
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${definition.name}`,
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
  AWS_REGION: shared.region,
  AWS_DEFAULT_REGION: shared.region,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_SESSION_TOKEN: 'test',
  AWS_ENDPOINT_URL: shared.awsEndpoint,
  // Never look for an instance role: the credentials above are all there is.
  AWS_EC2_METADATA_DISABLED: 'true',
  TZ: ':UTC',
})

/**
 * One execution environment, seen from the runtime: a process that loaded the handler once and
 * serves one invocation at a time. It stops with the runtime, or when its process dies.
 */
export class ExecutionEnvironment {
  readonly #child: ChildProcess
  readonly #pending = new Map<string, { resolve: (result: ResultMessage) => void; reject: (error: Error) => void }>()
  #exit: string | undefined
  #invocations = 0

  private constructor(
    readonly id: string,
    readonly definition: FunctionDefinition,
    child: ChildProcess,
    readonly initMs: number,
    stderr: () => string,
  ) {
    this.#child = child
    child.on('message', (message: FromEnvironment) => {
      if (message.kind !== 'result') return
      this.#pending.get(message.requestId)?.resolve(message)
      this.#pending.delete(message.requestId)
    })
    child.once('exit', (code, signal) => {
      this.#exit = `the environment's process exited (${signal ?? `code ${String(code)}`})${stderr() === '' ? '' : `: ${stderr()}`}`
      for (const { reject } of this.#pending.values()) reject(new Error(this.#exit))
      this.#pending.clear()
    })
  }

  /** Starts the process and waits for INIT, with the world's clock as it now stands. */
  static async start(id: string, definition: FunctionDefinition, shared: SharedEnvironment, wallClockOffsetMs: number): Promise<ExecutionEnvironment> {
    const child = fork(shared.bootstrap, [], {
      execArgv: [],
      env: { ...lambdaVariables(definition, shared), ...definition.environment },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000)
    })
    let onExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined
    let onMessage: ((message: FromEnvironment) => void) | undefined
    try {
      const initMs = await new Promise<number>((resolve, reject) => {
        onExit = (code, signal) => {
          reject(new Error(`environment ${id} exited during INIT (${signal ?? `code ${String(code)}`}): ${stderr}`))
        }
        onMessage = (message) => {
          if (message.kind === 'ready') resolve(message.initMs)
          if (message.kind === 'init-failed') reject(new Error(`environment ${id} failed its INIT: ${message.error}`))
        }
        child.once('exit', onExit)
        child.on('message', onMessage)
        const init: ToEnvironment = { kind: 'init', functionName: definition.name, environmentId: id, bundlePath: definition.bundlePath, memoryMb: definition.memoryMb, wallClockOffsetMs }
        child.send(init)
      })
      return new ExecutionEnvironment(id, definition, child, initMs, () => stderr)
    } catch (error) {
      child.kill('SIGKILL')
      throw error
    } finally {
      if (onExit !== undefined) child.off('exit', onExit)
      if (onMessage !== undefined) child.off('message', onMessage)
    }
  }

  get invocations(): number {
    return this.#invocations
  }

  /** False once its process is gone: it exited, was stopped, or was reset after a timeout. */
  get alive(): boolean {
    return this.#exit === undefined
  }

  /**
   * Runs one invocation. One that outlives the function's timeout fails as on Lambda
   * (Sandbox.Timedout), and the environment is reset: its process ends, and the next invocation
   * starts a new environment, cold.
   */
  async invoke(requestId: string, event: unknown): Promise<InvocationResult> {
    if (this.#exit !== undefined) throw new Error(this.#exit)
    const coldStart = ++this.#invocations === 1
    const { timeoutMs } = this.definition
    const answer = new Promise<ResultMessage>((resolve, reject) => {
      this.#pending.set(requestId, { resolve, reject })
    })
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<ResultMessage>((resolve) => {
      timer = setTimeout(() => {
        this.#pending.delete(requestId)
        this.#exit = `the environment was reset after an invocation timed out`
        this.#child.kill('SIGKILL')
        resolve({ kind: 'result', requestId, durationMs: timeoutMs, error: { type: 'Sandbox.Timedout', message: `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` }, output: [] })
      }, timeoutMs)
    })
    const message: ToEnvironment = { kind: 'invoke', requestId, event, timeoutMs }
    this.#child.send(message)
    try {
      return { ...(await Promise.race([answer, timedOut])), coldStart }
    } finally {
      clearTimeout(timer)
    }
  }

  /** The environment was frozen for `ms`. */
  advanceClock(ms: number): void {
    if (this.#exit !== undefined) return
    const message: ToEnvironment = { kind: 'advance-clock', ms }
    this.#child.send(message)
  }

  /** Ends the process (the runtime would reclaim the environment); waits for it to be gone. */
  async stop(): Promise<void> {
    if (this.#exit !== undefined) return
    const exited = new Promise((resolve) => this.#child.once('exit', resolve))
    this.#child.kill('SIGKILL')
    await exited
  }
}
