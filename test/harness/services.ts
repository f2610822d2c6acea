import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, LOOPBACK } from './ports.js'
import { signal, spawnManaged, waitForExit, type ManagedProcess } from './processes.js'
import { httpAnswers, httpRequest, redisPing, waitUntilReady, type Probe } from './readiness.js'

export interface ServiceOptions {
  /** Port to listen on; default: a free loopback port. */
  readonly port?: number
  /** Longest wait for the service to answer after each (re)start. */
  readonly startupTimeoutMs?: number
  /** Executable to run instead of the one on PATH. */
  readonly binary?: string
  /** Time stop() leaves between SIGTERM and SIGKILL. Default 2000 ms. */
  readonly stopGraceMs?: number
}

export interface RedisOptions extends ServiceOptions {
  /** Extra redis-server arguments, e.g. ['--maxmemory', '1mb']. */
  readonly args?: readonly string[]
}

/** Body of moto's POST /moto-api/config. */
export type MotoConfig = Readonly<Record<string, unknown>>

export interface MotoOptions extends ServiceOptions {
  /** Applied after every (re)start, since moto forgets it with the rest of its state. */
  readonly config?: MotoConfig
}

/** A local server process on 127.0.0.1 that tests control. */
export interface ServiceHandle {
  readonly name: string
  readonly host: string
  /** Stays the same across restarts. */
  readonly port: number
  /** Pid of the current (or last) process; changes on every start. */
  readonly pid: number
  /** Every pid this handle started, oldest first. */
  readonly pids: readonly number[]
  readonly running: boolean
  readonly paused: boolean
  /** Scratch directory: working dir, log file, redis dump dir. Removed by stop(). */
  readonly dir: string
  /** Tail of the combined stdout/stderr of every run, for failure messages. */
  logs(maxChars?: number): string
  /** SIGSTOP: the port keeps accepting connections (kernel backlog) but nothing answers. */
  pause(): void
  /** SIGCONT after pause(). */
  resume(): void
  /** SIGKILL, then wait for the exit. The handle can start() again. */
  kill(): Promise<void>
  /** Start again on the same port and wait until it answers. Throws if running. */
  start(): Promise<void>
  /** Stop (if running) then start on the same port; a new pid, empty state. */
  restart(): Promise<void>
  /** SIGCONT + SIGTERM, SIGKILL after the grace period, wait for the exit, remove `dir`. Idempotent. */
  stop(): Promise<void>
}

export interface RedisHandle extends ServiceHandle {
  /** redis://127.0.0.1:PORT */
  readonly url: string
}

export interface MotoHandle extends ServiceHandle {
  /** http://127.0.0.1:PORT, the value for AWS_ENDPOINT_URL or a client's `endpoint`. */
  readonly endpoint: string
  /** POST /moto-api/config, e.g. { lambda: { use_docker: false } }. */
  configure(config: MotoConfig): Promise<void>
}

interface ServiceSpec {
  readonly name: string
  readonly binary: string
  readonly installHint: string
  readonly args: (host: string, port: number, dir: string) => readonly string[]
  readonly probe: (host: string, port: number) => Probe
  readonly env?: NodeJS.ProcessEnv
  readonly startupTimeoutMs: number
  readonly stopGraceMs: number
}

const ADDRESS_IN_USE = /address already in use|is in use by another program/i
const PORT_ATTEMPTS = 5

class LocalService implements ServiceHandle {
  readonly host = LOOPBACK
  readonly pids: number[] = []
  private current: ManagedProcess | undefined
  private isPaused = false
  /** Size of the log when the latest launch began, so a retry reads only that launch's output. */
  private launchLogOffset = 0

  constructor(
    protected readonly spec: ServiceSpec,
    public port: number,
    readonly dir: string,
  ) {}

  get name(): string {
    return this.spec.name
  }

  get logFile(): string {
    return join(this.dir, 'output.log')
  }

  get pid(): number {
    const pid = this.pids.at(-1)
    if (pid === undefined) throw new Error(`${this.name} was never started`)
    return pid
  }

  get running(): boolean {
    return this.current !== undefined && this.current.exitInfo() === undefined
  }

  get paused(): boolean {
    return this.running && this.isPaused
  }

  logs(maxChars = 4000): string {
    try {
      return readFileSync(this.logFile, 'utf8').slice(-maxChars)
    } catch {
      return ''
    }
  }

  pause(): void {
    signal(this.requireRunning('pause').pid, 'SIGSTOP')
    this.isPaused = true
  }

  resume(): void {
    signal(this.requireRunning('resume').pid, 'SIGCONT')
    this.isPaused = false
  }

  async kill(): Promise<void> {
    const current = this.current
    if (current === undefined || current.exitInfo() !== undefined) return
    current.child.kill('SIGKILL') // also ends a SIGSTOPped process
    if (!(await waitForExit(current, 5000))) throw new Error(`${this.name} (pid ${current.pid}) survived SIGKILL`)
    this.isPaused = false
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} already runs on port ${this.port} (pid ${this.pid})`)
    await this.launch()
  }

  async restart(): Promise<void> {
    await this.terminate()
    await this.launch()
  }

  async stop(): Promise<void> {
    await this.terminate()
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** First start: a port another process grabbed since freePort() is retried on a fresh port. */
  async firstStart(portWasChosen: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.launch()
        return
      } catch (error) {
        const output = this.logs(Number.MAX_SAFE_INTEGER).slice(this.launchLogOffset)
        const retry = portWasChosen && attempt < PORT_ATTEMPTS && ADDRESS_IN_USE.test(output)
        if (!retry) throw error
        this.port = await freePort(this.host)
      }
    }
  }

  /** Runs once the service answers, on every start. */
  protected afterStart(): Promise<void> {
    return Promise.resolve()
  }

  private requireRunning(action: string): ManagedProcess {
    const current = this.current
    if (current === undefined || current.exitInfo() !== undefined) {
      throw new Error(`cannot ${action} ${this.name}: it is not running`)
    }
    return current
  }

  private async terminate(): Promise<void> {
    const current = this.current
    if (current === undefined || current.exitInfo() !== undefined) return
    // SIGTERM stays pending on a stopped process: wake it first.
    current.child.kill('SIGCONT')
    current.child.kill('SIGTERM')
    if (!(await waitForExit(current, this.spec.stopGraceMs))) {
      current.child.kill('SIGKILL')
      if (!(await waitForExit(current, 5000))) throw new Error(`${this.name} (pid ${current.pid}) survived SIGKILL`)
    }
    this.isPaused = false
  }

  private async launch(): Promise<void> {
    const { spec } = this
    mkdirSync(this.dir, { recursive: true }) // stop() removed it; start() after stop() is allowed
    this.launchLogOffset = this.logs(Number.MAX_SAFE_INTEGER).length
    appendFileSync(this.logFile, `\n--- ${spec.name} starting on ${this.host}:${this.port} ---\n`)
    let managed: ManagedProcess
    try {
      const options = { logFile: this.logFile, cwd: this.dir, ...(spec.env === undefined ? {} : { env: spec.env }) }
      managed = await spawnManaged(spec.binary, spec.args(this.host, this.port, this.dir), options)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(this.notInstalled())
      throw error
    }
    this.current = managed
    this.isPaused = false
    this.pids.push(managed.pid)
    try {
      await waitUntilReady({
        probe: spec.probe(this.host, this.port),
        timeoutMs: spec.startupTimeoutMs,
        gaveUp: () => {
          const exit = managed.exitInfo()
          if (exit === undefined) return undefined
          // 127: a shim (pyenv) found no such command.
          if (exit.code === 127) return this.notInstalled()
          return `exited early with ${exit.signal ?? `code ${String(exit.code)}`}`
        },
      })
      await this.afterStart()
    } catch (error) {
      managed.child.kill('SIGKILL')
      await waitForExit(managed, 5000)
      const reason = error instanceof Error ? error.message : String(error)
      throw new Error(
        `${spec.name} did not come up on ${this.host}:${this.port} (pid ${managed.pid}): ${reason}\n` +
          `--- output (${this.logFile}) ---\n${this.logs()}`,
      )
    }
  }

  private notInstalled(): string {
    return `${this.spec.binary} is not installed or not on PATH. Install it with: ${this.spec.installHint}`
  }
}

async function startService<T extends LocalService>(
  create: (port: number, dir: string) => T,
  options: ServiceOptions,
  prefix: string,
): Promise<T> {
  const port = options.port ?? (await freePort())
  const dir = await mkdtemp(join(tmpdir(), `middy-cache-${prefix}-`))
  const service = create(port, dir)
  try {
    await service.firstStart(options.port === undefined)
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return service
}

class RedisService extends LocalService implements RedisHandle {
  get url(): string {
    return `redis://${this.host}:${this.port}`
  }
}

class MotoService extends LocalService implements MotoHandle {
  constructor(
    spec: ServiceSpec,
    port: number,
    dir: string,
    private readonly config: MotoConfig | undefined,
  ) {
    super(spec, port, dir)
  }

  protected override afterStart(): Promise<void> {
    return this.config === undefined ? Promise.resolve() : this.configure(this.config)
  }

  get endpoint(): string {
    return `http://${this.host}:${this.port}`
  }

  async configure(config: MotoConfig): Promise<void> {
    const { status, body } = await httpRequest(`${this.endpoint}/moto-api/config`, {
      method: 'POST',
      body: JSON.stringify(config),
    })
    if (status < 200 || status >= 300) throw new Error(`moto rejected its config (HTTP ${status}): ${body}`)
  }
}

/** Starts a private redis-server: no persistence, its own scratch dir, on a free port unless given one. */
export async function startRedis(options: RedisOptions = {}): Promise<RedisHandle> {
  const spec: ServiceSpec = {
    name: 'redis-server',
    binary: options.binary ?? 'redis-server',
    installHint: 'apt-get install redis-server',
    args: (host, port, dir) => [
      '--port', String(port),
      '--bind', host,
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--daemonize', 'no',
      ...(options.args ?? []),
    ],
    probe: (host, port) => () => redisPing(host, port),
    startupTimeoutMs: options.startupTimeoutMs ?? 10_000,
    stopGraceMs: options.stopGraceMs ?? 2000,
  }
  return startService((port, dir) => new RedisService(spec, port, dir), options, 'redis')
}

/** Starts a private moto_server; each start is a fresh, empty AWS. */
export async function startMoto(options: MotoOptions = {}): Promise<MotoHandle> {
  const spec: ServiceSpec = {
    name: 'moto_server',
    binary: options.binary ?? 'moto_server',
    installHint: 'pip install "moto[server]"',
    args: (host, port) => ['-H', host, '-p', String(port)],
    // Any routed answer will do; /moto-api/config is cheap and touches no service.
    probe: (host, port) => httpAnswers(`http://${host}:${port}/moto-api/config`),
    env: { ...process.env, PYTHONUNBUFFERED: '1' }, // flush Python's startup errors into the log at once
    startupTimeoutMs: options.startupTimeoutMs ?? 20_000,
    stopGraceMs: options.stopGraceMs ?? 2000,
  }
  return startService((port, dir) => new MotoService(spec, port, dir, options.config), options, 'moto')
}
