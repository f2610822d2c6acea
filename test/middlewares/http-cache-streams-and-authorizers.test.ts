import middy from '@middy/core'
import { Readable } from 'node:stream'
import { ReadableStream } from 'node:stream/web'
import { httpCache } from '../../middlewares/http-cache.js'
import { httpApiEvent, restApiEvent } from '../support/http-events.js'
import { headerOf, statusOf } from '../support/http-results.js'
import { invoke } from '../support/invoke.js'

const respond = (response: unknown, event: unknown, options: Parameters<typeof httpCache>[0] = { maxAge: 60, public: true }): Promise<unknown> =>
  invoke(
    middy()
      .use(httpCache(options))
      .handler(() => Promise.resolve(response)),
    event,
  )

describe('a streamed body dropped for a 304 is released', () => {
  test('a Node stream body (an S3 object, say) answered 304 by its ETag is destroyed, not left holding its socket', async () => {
    const body = new Readable({ read() {} })
    const result = await respond({ statusCode: 200, headers: { ETag: '"s3-etag"' }, body }, restApiEvent({ headers: { 'If-None-Match': '"s3-etag"' } }))
    expect(statusOf(result)).toBe(304)
    expect(body.destroyed).toBe(true)
  })

  test('a Node stream body answered 304 by Last-Modified is destroyed', async () => {
    const body = new Readable({ read() {} })
    const lastModified = 'Sun, 06 Nov 1994 08:49:37 GMT'
    const result = await respond(
      { statusCode: 200, headers: { 'Last-Modified': lastModified }, body },
      httpApiEvent({ headers: { 'If-Modified-Since': lastModified } }),
    )
    expect(statusOf(result)).toBe(304)
    expect(body.destroyed).toBe(true)
  })

  test('a web stream body answered 304 is cancelled', async () => {
    let cancelled = false
    const body = new ReadableStream({ cancel: () => { cancelled = true } })
    const result = await respond({ statusCode: 200, headers: { ETag: '"v1"' }, body }, httpApiEvent({ headers: { 'If-None-Match': '"v1"' } }))
    expect(statusOf(result)).toBe(304)
    await new Promise((resolve) => setImmediate(resolve))
    expect(cancelled).toBe(true)
  })
})

describe('HTTP API Lambda authorizer', () => {
  test('a request a Lambda authorizer admitted (requestContext.authorizer.lambda) counts as credentialed: its answer gets no public caching headers', async () => {
    const event = httpApiEvent({ headers: { 'X-Session-Token': 'alice-session' } }) as unknown as { requestContext: Record<string, unknown> }
    event.requestContext.authorizer = { lambda: { userId: 'alice' } }
    const response = { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{"user":"alice"}' }
    const result = await respond(response, event)
    expect(headerOf(result, 'cache-control')).toBeUndefined()
    expect(result).toBe(response)
  })
})
