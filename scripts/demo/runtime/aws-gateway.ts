import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { LOOPBACK } from '../../../test/harness/index.js'
import { Trigger, type Recorder } from '../recorder.js'
import type { LambdaRuntime } from './lambda-runtime.js'

/** How a service the demo takes down fails its callers. */
export const Outage = {
  /** Every call is answered with HTTP 500 InternalServerError, as during a regional outage: the SDK retries it, then the caller sees it fail. */
  Errors: 'errors',
  /**
   * Every call is held unanswered, as when the network path to the service is lost: the SDK waits
   * as long as the function may run. When the outage ends the held calls go through, late.
   */
  Unreachable: 'unreachable',
} as const
export type Outage = (typeof Outage)[keyof typeof Outage]

/**
 * The functions' AWS endpoint (their AWS_ENDPOINT_URL): it forwards SSM, Secrets Manager, DynamoDB
 * and S3 calls to moto_server, counts every call, can take a service down, and routes Lambda Invoke
 * (a warm-up fan-out) to the demo's own execution environments, as Lambda would place them.
 */
export interface AwsGateway {
  readonly url: string
  /** Takes `service` (its signing name, such as 'ssm') down in the way `outage` says; `undefined` brings it back. */
  setOutage(service: string, outage: Outage | undefined): void
  /** Lambda Invoke calls go to these functions from now on. */
  routeInvokes(runtime: LambdaRuntime): void
  close(): Promise<void>
}

const credentialScope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/
const invokePath = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/

const headerOf = (incoming: IncomingMessage, name: string): string | undefined => {
  const value = incoming.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** The signing name of the service a request is for, from its SigV4 credential scope. */
const serviceOf = (incoming: IncomingMessage): string => credentialScope.exec(headerOf(incoming, 'authorization') ?? '')?.[1] ?? 'unknown'

/** JSON protocols name the operation in X-Amz-Target (`AmazonSSM.GetParameters`); REST ones (S3) by their method. */
const operationOf = (incoming: IncomingMessage): string => {
  const target = headerOf(incoming, 'x-amz-target')
  return target === undefined ? (incoming.method ?? 'GET') : (target.split('.').at(-1) ?? target)
}

/** `product-api`, `product-api:live` or its ARN: the function's name. */
const functionNameOf = (pathName: string): string => {
  const decoded = decodeURIComponent(pathName)
  return decoded.startsWith('arn:') ? (decoded.split(':')[6] ?? decoded) : (decoded.split(':')[0] ?? decoded)
}

const readBody = (incoming: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.once('end', () => {
      resolve(Buffer.concat(chunks))
    })
    incoming.once('error', reject)
  })

const answerJson = (outgoing: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  outgoing.writeHead(status, { 'content-type': 'application/json', ...headers })
  outgoing.end(JSON.stringify(body))
}

export const startAwsGateway = async (options: { readonly target: string; readonly recorder: Recorder }): Promise<AwsGateway> => {
  const target = new URL(options.target)
  const agent = new Agent({ keepAlive: true })
  const outages = new Map<string, Outage>()
  const held = new Map<string, Set<{ readonly incoming: IncomingMessage; readonly outgoing: ServerResponse }>>()
  let runtime: LambdaRuntime | undefined

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse): void => {
    const upstream = request(
      { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: target.host }, agent },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(outgoing)
      },
    )
    upstream.once('error', (error) => {
      answerJson(outgoing, 502, { message: `moto_server did not answer: ${error.message}` })
    })
    incoming.pipe(upstream)
  }

  const invoke = async (incoming: IncomingMessage, outgoing: ServerResponse, functionName: string): Promise<void> => {
    const payload: unknown = JSON.parse((await readBody(incoming)).toString('utf8') || 'null')
    if (runtime?.has(functionName) !== true) {
      answerJson(outgoing, 404, { message: `Function not found: ${functionName}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' })
      return
    }
    const invocation = runtime.invoke(functionName, payload, Trigger.FanOut)
    if (headerOf(incoming, 'x-amz-invocation-type') === 'Event') {
      // Queued: Lambda accepts at once and runs it in an environment of its choosing.
      outgoing.writeHead(202).end()
      return
    }
    const record = await invocation
    if (record.error !== undefined) {
      answerJson(outgoing, 200, { errorType: record.error.type, errorMessage: record.error.message }, { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' })
    } else {
      answerJson(outgoing, 200, record.payload ?? null, { 'x-amz-executed-version': '$LATEST' })
    }
  }

  /** Holds a call to an unreachable service until the outage ends; one whose caller gave up (its environment was reset) is forgotten. */
  const hold = (service: string, incoming: IncomingMessage, outgoing: ServerResponse): void => {
    const calls = held.get(service) ?? new Set()
    held.set(service, calls)
    const call = { incoming, outgoing }
    calls.add(call)
    outgoing.once('close', () => calls.delete(call))
  }

  const server = createServer((incoming, outgoing) => {
    const service = serviceOf(incoming)
    const outage = outages.get(service)
    options.recorder.recordSdkCall(service, operationOf(incoming), outage !== undefined)
    if (outage === Outage.Unreachable) {
      hold(service, incoming, outgoing)
      return
    }
    if (outage === Outage.Errors) {
      incoming.resume()
      answerJson(outgoing, 500, { __type: 'InternalServerError', message: `${service} is down (the demo's outage)` }, { 'x-amzn-errortype': 'InternalServerError' })
      return
    }
    const functionName = invokePath.exec(new URL(incoming.url ?? '/', 'http://gateway').pathname)?.[1]
    if (service === 'lambda' && functionName !== undefined) {
      invoke(incoming, outgoing, functionNameOf(functionName)).catch((error: unknown) => {
        answerJson(outgoing, 500, { message: String(error) }, { 'x-amzn-errortype': 'ServiceException' })
      })
      return
    }
    forward(incoming, outgoing)
  })
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://${LOOPBACK}:${port}`,
    setOutage(service, outage) {
      if (outage !== undefined) {
        outages.set(service, outage)
        return
      }
      outages.delete(service)
      for (const { incoming, outgoing } of held.get(service) ?? []) forward(incoming, outgoing)
      held.delete(service)
    },
    routeInvokes(routed) {
      runtime = routed
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        agent.destroy()
        server.close((error) => {
          if (error === undefined) resolve()
          else reject(error)
        })
      }),
  }
}
