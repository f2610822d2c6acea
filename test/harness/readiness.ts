import { request, type IncomingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import { sleep } from './processes.js'

/** One attempt at talking to a service; rejects when it does not answer properly. */
export type Probe = () => Promise<void>

/** Sends PING over a plain socket and expects +PONG (no client library, no reconnect logic). */
export function redisPing(host: string, port: number, timeoutMs = 1000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port })
    let reply = ''
    const fail = (error: Error): void => {
      socket.destroy()
      reject(error)
    }
    socket.setTimeout(timeoutMs, () => {
      fail(new Error(`no PING reply within ${timeoutMs} ms`))
    })
    socket.once('error', fail)
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1')
      if (!reply.includes('\r\n')) return
      socket.destroy()
      if (reply.startsWith('+PONG')) resolve()
      else reject(new Error(`unexpected PING reply ${JSON.stringify(reply.trim())}`))
    })
    socket.once('end', () => {
      fail(new Error('connection closed before the PING reply'))
    })
  })
}

export interface HttpResponse {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/**
 * A minimal HTTP request without keep-alive: pooled sockets would outlive the
 * call and could keep a jest worker from exiting.
 */
export function httpRequest(
  url: string,
  options: { readonly method?: string; readonly headers?: Readonly<Record<string, string>>; readonly body?: string; readonly timeoutMs?: number } = {},
): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers, connection: 'close' }
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = String(Buffer.byteLength(options.body))
    }
    const req = request(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.once('error', reject)
      res.once('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })
      })
    })
    req.setTimeout(options.timeoutMs ?? 2000, () => {
      req.destroy(new Error(`no HTTP response from ${url} within ${options.timeoutMs ?? 2000} ms`))
    })
    req.once('error', reject)
    req.end(options.body)
  })
}

/** Any HTTP answer below 500 means the server is up and routing requests. */
export function httpAnswers(url: string, timeoutMs = 1000): Probe {
  return async () => {
    const { status } = await httpRequest(url, { timeoutMs })
    if (status >= 500) throw new Error(`HTTP ${status} from ${url}`)
  }
}

export interface WaitOptions {
  readonly probe: Probe
  readonly timeoutMs: number
  /** Checked after every attempt: a process that died will never answer, so stop waiting at once. */
  readonly gaveUp?: () => string | undefined
  readonly intervalMs?: number
}

/** Retries `probe` until it succeeds; rejects with the last probe error once `timeoutMs` is spent. */
export async function waitUntilReady(options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    let lastError: unknown
    let answered = false
    try {
      await options.probe()
      answered = true
    } catch (error) {
      lastError = error
    }
    // Checked after the probe too: whoever answered, a process that has exited
    // is not it (another server may hold the port).
    const reason = options.gaveUp?.()
    if (reason !== undefined) throw new Error(reason)
    if (answered) return
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? lastError.message : String(lastError)
      throw new Error(`not ready after ${options.timeoutMs} ms (last attempt: ${detail})`)
    }
    await sleep(options.intervalMs ?? 50)
  }
}
