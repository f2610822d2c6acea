import { once } from 'node:events'
import { createServer } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { GetParameterCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm'
import { localClientConfig } from '../support/aws-client-config.js'
import { awsJsonError, awsRestJsonError, httpRequest, LOOPBACK, putParameters, startHttpFaultProxy, uniqueName, type HttpFaultProxy } from './index.js'

const getParameter = 'AmazonSSM.GetParameter'

describe('startHttpFaultProxy in front of moto_server', () => {
  const name = `/${uniqueName('fault-proxy')}/table`
  let proxy: HttpFaultProxy
  let ssm: SSMClient

  beforeAll(async () => {
    await putParameters({ [name]: 'orders' })
  })

  beforeEach(async () => {
    proxy = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL! })
    // One attempt: each send is one request, so the counts below are the sends.
    ssm = new SSMClient({ ...localClientConfig(proxy.url), maxAttempts: 1 })
  })

  afterEach(async () => {
    ssm.destroy()
    await proxy.close()
  })

  const read = async (): Promise<string | undefined> => (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value

  test('forwards what no fault answers, and counts it by X-Amz-Target', async () => {
    expect(await read()).toBe('orders')
    expect(proxy.requests(getParameter)).toEqual({ seen: 1, answered: 0 })
    expect(proxy.requests('AmazonSSM.GetParameters')).toEqual({ seen: 0, answered: 0 })
    expect(proxy.requests()).toEqual({ seen: 1, answered: 0 })
  })

  test('answers the next N matching requests itself with the given status, headers and body, then forwards again', async () => {
    proxy.inject({ target: getParameter, times: 2, status: 400, headers: { 'x-amzn-errortype': 'Chosen' }, body: '{"__type":"Chosen","message":"chosen"}' })
    const raw = await httpRequest(proxy.url, { method: 'POST', headers: { 'x-amz-target': getParameter }, body: '{}' })
    expect(raw).toMatchObject({ status: 400, headers: { 'x-amzn-errortype': 'Chosen' }, body: '{"__type":"Chosen","message":"chosen"}' })
    await expect(read()).rejects.toMatchObject({ name: 'Chosen', message: 'chosen', $metadata: { httpStatusCode: 400 } })
    expect(await read()).toBe('orders')
    expect(proxy.requests(getParameter)).toEqual({ seen: 3, answered: 2 })
  })

  test('a fault answers only its target: other operations pass through meanwhile', async () => {
    proxy.inject({ target: getParameter, ...awsJsonError('ThrottlingException', 'Rate exceeded') })
    const { Parameters } = await ssm.send(new GetParametersCommand({ Names: [name] }))
    expect(Parameters?.map((parameter) => parameter.Value)).toEqual(['orders'])
    expect(proxy.requests()).toEqual({ seen: 1, answered: 0 })
  })

  test('a fault without times answers every match until clearFaults()', async () => {
    proxy.inject({ target: getParameter, ...awsJsonError('ThrottlingException', 'Rate exceeded') })
    for (let attempt = 0; attempt < 3; attempt++) await expect(read()).rejects.toMatchObject({ name: 'ThrottlingException' })
    proxy.clearFaults()
    expect(await read()).toBe('orders')
    expect(proxy.requests(getParameter)).toEqual({ seen: 4, answered: 3 })
  })

  // The two places the SDK's JSON protocol reads an error's name from; a fault may use either.
  test.each([
    ['the body field __type', awsJsonError('AccessDeniedException', 'not authorized')],
    ['the x-amzn-errortype header', { status: 400, headers: { 'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/' }, body: '{"message":"not authorized"}' }],
  ])('the SDK names the error from %s', async (_where, answer) => {
    proxy.inject({ target: getParameter, times: 1, ...answer })
    await expect(read()).rejects.toMatchObject({ name: 'AccessDeniedException', message: 'not authorized', $fault: 'client' })
  })

  test('a REST request (no X-Amz-Target) is matched and counted by its path, without the query; a string still means an X-Amz-Target', async () => {
    const invocations = /^\/2015-03-31\/functions\/[^/]+\/invocations$/
    proxy.inject({ path: invocations, times: 1, ...awsRestJsonError('TooManyRequestsException', 'Rate Exceeded.', 429, { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User' }) })

    const throttled = await httpRequest(`${proxy.url}/2015-03-31/functions/shop%3Alive/invocations?Qualifier=live`, { method: 'POST', body: '{}' })
    expect(throttled).toMatchObject({ status: 429, headers: { 'x-amzn-errortype': 'TooManyRequestsException' } })
    expect(JSON.parse(throttled.body)).toEqual({ Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User', message: 'Rate Exceeded.' })
    expect(await read()).toBe('orders')

    expect(proxy.requests({ path: invocations })).toEqual({ seen: 1, answered: 1 })
    expect(proxy.requests({ target: getParameter, path: /^\/$/ })).toEqual({ seen: 1, answered: 0 })
    expect(proxy.requests(getParameter)).toEqual({ seen: 1, answered: 0 })
    expect(proxy.requests()).toEqual({ seen: 2, answered: 1 })
  })

  test('close() ends every connection, idle keep-alive or mid-request, and frees the port', async () => {
    expect(await read()).toBe('orders') // leaves the SDK client's keep-alive connection open and idle
    const midRequest = connect({ host: proxy.host, port: proxy.port })
    midRequest.on('error', () => undefined) // the proxy resets it: that is the point
    const ended = once(midRequest, 'close')
    midRequest.write(`POST / HTTP/1.1\r\nHost: ${proxy.host}\r\nX-Amz-Target: ${getParameter}\r\nContent-Length: 100\r\n\r\n{`)
    const deadline = Date.now() + 5_000
    while (proxy.requests().seen < 2) {
      if (Date.now() > deadline) throw new Error('the proxy never saw the second request')
      await sleep(5)
    }
    // server.close() alone waits for a connection that is in the middle of a request.
    await proxy.close()
    await ended
    await expect(httpRequest(proxy.url)).rejects.toThrow(/ECONNREFUSED/)
    await expect(proxy.close()).resolves.toBeUndefined()
  })

  test('times must be a count', () => {
    expect(() => {
      proxy.inject({ times: Number.NaN, status: 500 })
    }).toThrow(/times must be a whole number >= 0/)
    expect(() => {
      proxy.inject({ times: 1.5, status: 500 })
    }).toThrow(/times must be a whole number >= 0, got 1.5/)
  })
})

describe('startHttpFaultProxy in front of a target that dies mid-answer', () => {
  test('the client sees its response end in an error rather than waiting for the rest', async () => {
    const target = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
      // Headers and part of the body reach the proxy first: it has begun answering its client.
      response.write('{"partial":', () => {
        setTimeout(() => response.socket?.destroy(), 20)
      })
    })
    target.listen(0, LOOPBACK)
    await once(target, 'listening')
    const { port } = target.address() as AddressInfo
    const proxy = await startHttpFaultProxy({ target: `http://${LOOPBACK}:${port}` })
    try {
      await expect(httpRequest(proxy.url, { timeoutMs: 5_000 })).rejects.toThrow(/aborted|socket hang up|ECONNRESET/)
    } finally {
      await proxy.close()
      target.closeAllConnections()
      target.close()
    }
  })
})
