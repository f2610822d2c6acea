import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { uniqueName } from '../harness/index.js'
import { createMotoFunction, type MotoFunction } from './lambda-functions.js'

/** One Lambda Invoke as it went over the wire. */
export interface RecordedInvoke {
  /** The FunctionName of the request path, decoded. */
  readonly functionName: string
  readonly qualifier: string | undefined
  readonly invocationType: string | undefined
  readonly payload: unknown
  /** The HTTP status the client got back. */
  status: number
}

/** An HTTP proxy in front of a Lambda endpoint (moto) that records every Invoke passing through. */
export interface InvokeRecorder {
  /** The endpoint to give the Lambda client. */
  readonly url: string
  readonly invokes: RecordedInvoke[]
  /**
   * Answers the invokes `pick` chooses itself instead of forwarding them: 'refuse' as Lambda refuses
   * an invoke (403 AccessDeniedException), 'function-error' as a child that threw (200 with
   * X-Amz-Function-Error). `undefined` forwards everything again.
   */
  intercept(pick: ((invoke: RecordedInvoke) => Interception | undefined) | undefined): void
  close(): Promise<void>
}

export type Interception = 'refuse' | 'function-error'

const invokePath = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/

const readBody = (stream: NodeJS.ReadableStream): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.once('end', () => {
      resolve(Buffer.concat(chunks))
    })
    stream.once('error', reject)
  })

const recordOf = (url: URL, headers: IncomingHttpHeaders, body: Buffer): RecordedInvoke | undefined => {
  const match = invokePath.exec(url.pathname)
  if (match?.[1] === undefined) return undefined
  const invocationType = headers['x-amz-invocation-type']
  return {
    functionName: decodeURIComponent(match[1]),
    qualifier: url.searchParams.get('Qualifier') ?? undefined,
    invocationType: Array.isArray(invocationType) ? invocationType[0] : invocationType,
    payload: body.length === 0 ? undefined : JSON.parse(body.toString('utf8')) as unknown,
    status: 0,
  }
}

export const startInvokeRecorder = async (target: string = process.env.AWS_ENDPOINT_URL ?? ''): Promise<InvokeRecorder> => {
  const upstream = new URL(target)
  const invokes: RecordedInvoke[] = []
  let pick: ((invoke: RecordedInvoke) => Interception | undefined) | undefined
  const server: Server = createServer((incoming, outgoing) => {
    void readBody(incoming).then((body) => {
      const url = new URL(incoming.url ?? '/', 'http://recorder')
      const record = recordOf(url, incoming.headers, body)
      if (record !== undefined) invokes.push(record)
      const interception = record === undefined ? undefined : pick?.(record)
      if (record !== undefined && interception === 'refuse') {
        record.status = 403
        outgoing.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException', connection: 'close' })
        outgoing.end(JSON.stringify({ message: 'refused by the test recorder' }))
        return
      }
      if (record !== undefined && interception === 'function-error') {
        record.status = 200
        outgoing.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '1', connection: 'close' })
        outgoing.end(JSON.stringify({ errorType: 'Error', errorMessage: 'thrown by the test recorder' }))
        return
      }
      const forwarded = request(
        { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, agent: false, headers: { ...incoming.headers, host: upstream.host, connection: 'close' } },
        (answer) => {
          if (record !== undefined) record.status = answer.statusCode ?? 0
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(outgoing)
        },
      )
      forwarded.once('error', (error) => {
        outgoing.writeHead(502)
        outgoing.end(String(error))
      })
      forwarded.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    invokes,
    intercept: (chooses) => {
      pick = chooses
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => {
          if (error === undefined) resolve()
          else reject(error)
        })
      }),
  }
}

/**
 * A moto Lambda function behind a recording proxy, for a whole test file (or describe block): made
 * once, its recordings and interception cleared after each test, the proxy closed at the end.
 */
export const recordedMotoFunction = (prefix: string): { readonly fn: MotoFunction; readonly recorder: InvokeRecorder } => {
  let made: { fn: MotoFunction; recorder: InvokeRecorder } | undefined
  beforeAll(async () => {
    made = { fn: await createMotoFunction(uniqueName(prefix)), recorder: await startInvokeRecorder() }
  })
  afterEach(() => {
    made?.recorder.invokes.splice(0)
    made?.recorder.intercept(undefined)
  })
  afterAll(async () => {
    await made?.recorder.close()
  })
  const current = () => {
    if (made === undefined) throw new Error('recordedMotoFunction: read within a test')
    return made
  }
  return {
    get fn() {
      return current().fn
    },
    get recorder() {
      return current().recorder
    },
  }
}
