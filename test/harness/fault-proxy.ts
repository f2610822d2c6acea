import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import { pipeline } from 'node:stream'
import { LOOPBACK } from './ports.js'

/** An answer the proxy gives in place of the target. */
export interface FaultAnswer {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
}

/** Which requests: those that match every field given; all requests when none is. */
export interface RequestMatch {
  /**
   * The X-Amz-Target, e.g. 'AmazonSSM.GetParameters' or 'secretsmanager.GetSecretValue' (AWS JSON
   * protocol services name the operation there).
   */
  readonly target?: string
  /**
   * Tested on the path without its query, for REST protocol services, which name the operation by
   * method and path: Lambda's Invoke is `POST /2015-03-31/functions/<name>/invocations`.
   */
  readonly path?: RegExp
}

export interface HttpFault extends FaultAnswer, RequestMatch {
  /** How many matching requests to answer; later ones are forwarded again. Default: all, until clearFaults(). */
  readonly times?: number
}

/** Matching requests are read and never answered, as by an endpoint that hangs: each waits until its client goes away or the proxy closes. */
export interface HangingFault extends RequestMatch {
  readonly hang: true
  /** How many matching requests to hold; later ones are forwarded again. Default: all, until clearFaults(). */
  readonly times?: number
}

/** A request the proxy saw, as the client sent it. */
export interface SeenCall {
  readonly method: string
  /** The path without its query. */
  readonly path: string
  readonly query: URLSearchParams
  /** The X-Amz-Target, or '' for REST protocol services. */
  readonly target: string
  /** The Authorization header (SigV4 names the access key, the date, region and service). */
  readonly authorization: string
  /** The body, as far as it has arrived. */
  readonly body: string
}

export interface RequestCounts {
  /** Requests that reached the proxy. */
  readonly seen: number
  /** Of those, the ones a fault answered (the others went on to the target). */
  readonly answered: number
}

/** An HTTP proxy in front of an AWS endpoint that answers chosen requests itself. */
export interface HttpFaultProxy {
  readonly host: string
  readonly port: number
  /** `http://host:port`: the endpoint to give an SDK client. */
  readonly url: string
  /** Adds a fault; the earliest added fault that matches a request answers (or holds) it. */
  inject(fault: HttpFault | HangingFault): void
  /** Drops every fault: all requests are forwarded from here on. */
  clearFaults(): void
  /** Counts of the requests whose X-Amz-Target is `target`, or that `match` matches, or of every request. */
  requests(which?: string | RequestMatch): RequestCounts
  /** Every request seen so far, in the order they came, whether forwarded or answered. */
  calls(): SeenCall[]
  /**
   * Settles once a request whose X-Amz-Target is `target`, or that `match` matches, has had its
   * connection closed by its client before it was answered: a client that aborted its request.
   */
  abandoned(which?: string | RequestMatch): Promise<void>
  /** Stops listening, ends every connection (keep-alive ones too) and every forwarded request. Idempotent. */
  close(): Promise<void>
}

export interface HttpFaultProxyOptions {
  /** Where requests no fault answers go, e.g. process.env.AWS_ENDPOINT_URL. */
  readonly target: string
  /** Default 127.0.0.1. */
  readonly host?: string
}

/**
 * The error answer of an AWS JSON protocol service (SSM, Secrets Manager). The SDK reads the error's
 * name from the body's `__type`, then from an `x-amzn-errortype` header; the name decides what it
 * retries (ThrottlingException: yes, AccessDeniedException: no).
 */
export const awsJsonError = (type: string, message: string, status = 400): FaultAnswer => ({
  status,
  headers: { 'content-type': 'application/x-amz-json-1.1' },
  body: JSON.stringify({ __type: type, message }),
})

/** A successful answer of an AWS JSON protocol service (SSM, Secrets Manager): one a proxy that rewrites it, or a service moto does not mimic, might give. */
export const awsJsonAnswer = (body: object): FaultAnswer => ({
  status: 200,
  headers: { 'content-type': 'application/x-amz-json-1.1' },
  body: JSON.stringify(body),
})

/**
 * The error answer of an AWS REST JSON protocol service (Lambda): the SDK reads the error's name
 * from the `x-amzn-errortype` header, its fields from the body. Lambda throttles an Invoke with
 * `awsRestJsonError('TooManyRequestsException', 'Rate Exceeded.', 429, { Reason: ..., Type: 'User' })`.
 */
export const awsRestJsonError = (type: string, message: string, status: number, fields: Readonly<Record<string, string>> = {}): FaultAnswer => ({
  status,
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': type },
  body: JSON.stringify({ ...fields, message }),
})

/** Hop-by-hop headers belong to one connection, not to the message: never passed through. */
const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer'])
/** Without the hop-by-hop headers, and those the Connection header names as such. */
const endToEnd = (headers: IncomingHttpHeaders): IncomingHttpHeaders => {
  const named = new Set((headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase()))
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHop.has(name) && !named.has(name)))
}

/** What a request is matched by, and what is logged of it. */
interface SeenRequest {
  readonly method: string
  readonly target: string
  readonly path: string
  readonly query: string
  readonly authorization: string
  body: string
  answered: boolean
  abandoned: boolean
}

const seenRequestOf = (message: IncomingMessage): SeenRequest => {
  const header = message.headers['x-amz-target']
  const url = new URL(message.url ?? '/', 'http://proxy')
  const request: SeenRequest = {
    method: message.method ?? 'GET',
    target: typeof header === 'string' ? header : '',
    path: url.pathname,
    query: url.search,
    authorization: message.headers.authorization ?? '',
    body: '',
    answered: false,
    abandoned: false,
  }
  message.on('data', (chunk: Buffer) => {
    request.body += chunk.toString('utf8')
  })
  return request
}

const matches = (match: RequestMatch, request: SeenRequest): boolean =>
  (match.target === undefined || match.target === request.target) && (match.path === undefined || match.path.test(request.path))

interface ArmedFault {
  readonly fault: HttpFault | HangingFault
  remaining: number
}

interface AbandonWaiter {
  readonly match: RequestMatch
  readonly settle: () => void
}

const matchOf = (which: string | RequestMatch = {}): RequestMatch => (typeof which === 'string' ? { target: which } : which)

/** Starts an HTTP fault proxy on a loopback port the kernel picks (port 0: no race for a free port). */
export async function startHttpFaultProxy(options: HttpFaultProxyOptions): Promise<HttpFaultProxy> {
  const target = new URL(options.target)
  const host = options.host ?? LOOPBACK
  const faults: ArmedFault[] = []
  const seen: SeenRequest[] = []
  const abandonWaiters: AbandonWaiter[] = []
  let closing: Promise<void> | undefined

  const takeFault = (request: SeenRequest): HttpFault | HangingFault | undefined => {
    const armed = faults.find((candidate) => candidate.remaining > 0 && matches(candidate.fault, request))
    if (armed === undefined) return undefined
    armed.remaining--
    return armed.fault
  }

  const answer = (incoming: IncomingMessage, response: ServerResponse, fault: FaultAnswer): void => {
    // Read the whole request first, as a server would: the client must not be answered mid-upload.
    incoming.resume()
    incoming.once('end', () => {
      const body = fault.body ?? ''
      response.writeHead(fault.status, { ...fault.headers, 'content-length': String(Buffer.byteLength(body)) })
      response.end(body)
    })
  }

  const forward = (incoming: IncomingMessage, response: ServerResponse): void => {
    // One upstream connection per request (agent: false): nothing pooled outlives close().
    const upstream = request(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: { ...endToEnd(incoming.headers), connection: 'close' }, agent: false },
      (upstreamResponse) => {
        response.writeHead(upstreamResponse.statusCode ?? 502, endToEnd(upstreamResponse.headers))
        // A target that dies mid-answer ends the client's response too, rather than leaving it waiting.
        pipeline(upstreamResponse, response, (error) => {
          if (error) response.destroy(error)
        })
      },
    )
    // A client gone mid-request (or ended by close()) takes its upstream request with it.
    response.once('close', () => {
      upstream.destroy()
    })
    upstream.on('error', (error) => {
      if (response.headersSent) response.destroy(error)
      else response.writeHead(502, { 'content-type': 'text/plain' }).end(`fault proxy: ${error.message}`)
    })
    incoming.pipe(upstream)
  }

  const server = createServer((incoming, response) => {
    const request = seenRequestOf(incoming)
    seen.push(request)
    response.once('close', () => {
      if (response.writableFinished) return
      request.abandoned = true
      for (const waiter of abandonWaiters.filter(({ match }) => matches(match, request))) waiter.settle()
    })
    const fault = takeFault(request)
    if (fault === undefined) {
      forward(incoming, response)
      return
    }
    if ('hang' in fault) {
      incoming.resume()
      return
    }
    request.answered = true
    answer(incoming, response, fault)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port: 0, exclusive: true }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('fault proxy: unexpected listen address')
  const { port } = address

  return {
    host,
    port,
    url: `http://${host}:${port}`,
    inject(fault) {
      const times = fault.times ?? Number.POSITIVE_INFINITY
      if (!(times === Number.POSITIVE_INFINITY || (Number.isInteger(times) && times >= 0))) throw new Error(`fault proxy: times must be a whole number >= 0, got ${times}`)
      faults.push({ fault, remaining: times })
    },
    clearFaults() {
      faults.length = 0
    },
    requests(which) {
      const match = matchOf(which)
      const matching = seen.filter((request) => matches(match, request))
      return { seen: matching.length, answered: matching.filter((request) => request.answered).length }
    },
    calls() {
      return seen.map(({ method, path, query, target, authorization, body }) => ({ method, path, query: new URLSearchParams(query), target, authorization, body }))
    },
    abandoned(which) {
      const match = matchOf(which)
      if (seen.some((request) => request.abandoned && matches(match, request))) return Promise.resolve()
      return new Promise<void>((resolve) => {
        abandonWaiters.push({ match, settle: resolve })
      })
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
        // An SDK client keeps its connection open between requests; close() alone would wait for it.
        server.closeAllConnections()
      })
      return closing
    },
  }
}
