import { connect, createServer, type Server, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { LOOPBACK } from './ports.js'

export interface TcpProxyOptions {
  readonly target: { readonly host: string; readonly port: number }
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Default: a free port. */
  readonly port?: number
  /** Initial delay added to every chunk, both directions. Default 0. */
  readonly latencyMs?: number
}

/** A loopback TCP proxy whose network can be made slow, broken or silent. */
export interface TcpProxy {
  readonly host: string
  readonly port: number
  /** `${scheme}://host:port`, e.g. url('redis') for ioredis. */
  url(scheme: string): string
  /** Client connections currently open. */
  readonly connections: number
  /** Delays each chunk by `ms` after it arrives, in both directions (order kept, delays do not add up). */
  setLatency(ms: number): void
  /**
   * While on, connections are accepted and bytes are held, never forwarded,
   * like a network partition where packets vanish; held bytes flow again
   * (in order) when it is turned off, as TCP retransmission would deliver them.
   */
  setBlackhole(on: boolean): void
  /**
   * While on, the listening socket is closed, so new connections get
   * ECONNREFUSED; open connections are left alone (see dropConnections).
   * Turning it off listens again on the same port.
   */
  setRefusing(on: boolean): Promise<void>
  /**
   * Bytes on the connections open now vanish from here on, both ways, and the sockets stay open:
   * a failover or a lost NAT mapping, which neither side hears of. New connections work.
   */
  silenceOpenConnections(): void
  /**
   * New connections go to `target` from now on; open ones stay with the old one: a failover, after
   * which the endpoint's DNS names the new primary while the connections made before still reach the old node.
   */
  setTarget(target: { readonly host: string; readonly port: number }): void
  /** Destroys every open connection, both sides; the clients see the socket close. */
  dropConnections(): void
  /** Stops listening and destroys every connection. Idempotent. */
  close(): Promise<void>
}

/** Chunks queued before the source is paused (backpressure on the sender). */
const HIGH_WATER = 64

class Gate {
  private opened: Promise<void> = Promise.resolve()
  private release: (() => void) | undefined

  get isOpen(): boolean {
    return this.release === undefined
  }

  whenOpen(): Promise<void> {
    return this.opened
  }

  set(open: boolean): void {
    if (open && this.release !== undefined) {
      this.release()
      this.release = undefined
    } else if (!open && this.release === undefined) {
      this.opened = new Promise<void>((resolve) => {
        this.release = resolve
      })
    }
  }
}

interface Settings {
  latencyMs: number
  readonly gate: Gate
}

/** One client connection and its upstream: once silenced, what either sends is dropped. */
interface Pair {
  silenced: boolean
}

const delayUntil = async (dueAt: number): Promise<void> => {
  // setTimeout may wake a fraction of a millisecond early; the delay is a promised lower bound.
  for (let wait = dueAt - performance.now(); wait > 0; wait = dueAt - performance.now()) {
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)))
  }
}

const drained = (socket: Socket): Promise<void> =>
  new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off('drain', done)
      socket.off('close', done)
      resolve()
    }
    socket.on('drain', done)
    socket.on('close', done)
  })

/** Moves bytes from `source` to `sink` one way, applying latency and the blackhole in arrival order. */
function pump(source: Socket, sink: Socket, settings: Settings, pair: Pair): void {
  const queue: { readonly chunk: Buffer | null; readonly dueAt: number }[] = []
  let running = false

  const run = async (): Promise<void> => {
    running = true
    try {
      for (let item = queue[0]; item !== undefined; item = queue[0]) {
        await delayUntil(item.dueAt)
        while (!settings.gate.isOpen) await settings.gate.whenOpen()
        if (sink.destroyed) return
        queue.shift()
        if (pair.silenced) continue
        if (item.chunk === null) {
          sink.end() // half-close travels in order, after the data before it
        } else if (!sink.write(item.chunk)) {
          await drained(sink)
        }
        if (queue.length < HIGH_WATER / 4 && source.isPaused() && !source.destroyed) source.resume()
      }
    } catch {
      sink.destroy() // a failed write: the connection is broken either way
    } finally {
      running = false
    }
  }

  const enqueue = (chunk: Buffer | null): void => {
    queue.push({ chunk, dueAt: performance.now() + settings.latencyMs })
    if (queue.length >= HIGH_WATER) source.pause()
    if (!running) void run()
  }
  source.on('data', (chunk: Buffer) => {
    enqueue(chunk)
  })
  source.on('end', () => {
    enqueue(null)
  })
}

/** Starts a TCP proxy on loopback in front of `target`. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const host = options.host ?? LOOPBACK
  const settings: Settings = { latencyMs: options.latencyMs ?? 0, gate: new Gate() }
  const sockets = new Set<Socket>()
  const pairs = new Set<Pair>()
  let clients = 0
  let server: Server | undefined
  let closed = false
  let target = options.target

  const onConnection = (client: Socket): void => {
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true })
    const pair: Pair = { silenced: false }
    pairs.add(pair)
    clients++
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.setNoDelay(true) // latency is ours to add, not Nagle's
      // An error or close on either side ends the pair: the proxy never keeps half a connection.
      socket.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
      socket.on('close', () => {
        sockets.delete(socket)
        pairs.delete(pair)
        if (socket === client) clients--
        client.destroy()
        upstream.destroy()
      })
    }
    pump(client, upstream, settings, pair)
    pump(upstream, client, settings, pair)
  }

  const listen = (port: number): Promise<Server> =>
    new Promise<Server>((resolve, reject) => {
      const next = createServer({ allowHalfOpen: true }, onConnection)
      next.once('error', reject)
      next.listen({ host, port, exclusive: true }, () => {
        next.off('error', reject)
        resolve(next)
      })
    })

  server = await listen(options.port ?? 0)
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy: unexpected listen address')
  const { port } = address

  const stopListening = (): void => {
    // Not awaited: close()'s callback waits for every connection to end, but
    // the listening socket itself is gone at once.
    server?.close()
    server = undefined
  }

  const dropConnections = (): void => {
    for (const socket of sockets) socket.destroy()
  }

  return {
    host,
    port,
    url: (scheme) => `${scheme}://${host}:${port}`,
    get connections() {
      return clients
    },
    setLatency(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new Error(`proxy latency must be a finite number >= 0, got ${ms}`)
      settings.latencyMs = ms
    },
    setBlackhole(on) {
      settings.gate.set(!on)
    },
    async setRefusing(on) {
      if (closed) throw new Error('proxy is closed')
      if (on) {
        stopListening()
      } else if (server === undefined) {
        server = await listen(port)
      }
    },
    silenceOpenConnections() {
      for (const pair of pairs) pair.silenced = true
    },
    setTarget(next) {
      target = next
    },
    dropConnections,
    async close() {
      closed = true
      stopListening()
      const gone = [...sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve)))
      dropConnections()
      settings.gate.set(true) // wake pumps held by the blackhole so they see their sockets are gone
      await Promise.all(gone)
    },
  }
}
