import { ignore } from '../../src/cache/options.js'
import { isRecord } from '../shared/cache-options.js'
import { holdsCookies } from './header-fields.js'
import { PayloadFormat } from './http-request.js'
import type { ResponseHeaders } from './response-headers.js'

/** A Lambda HTTP response in its structured form (`{ statusCode, headers, body, ... }`). */
export interface StructuredResponse {
  readonly statusCode: number
  readonly [key: string]: unknown
}

/** The keys of a structured response: an object carrying any of them is not a plain JSON value. */
const structuredKeys = ['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded', 'cookies'] as const

/** Fields that describe a body, which a 304 does not carry (RFC 9110 §15.4.5). */
const bodyFields = ['Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Range', 'Content-Type', 'Transfer-Encoding'] as const

const jsonText = (value: unknown): string | undefined => {
  try {
    const text: string | undefined = JSON.stringify(value)
    return text
  } catch {
    // A cycle or a BigInt: the Lambda runtime cannot send it either, and fails there as it would without us.
    return undefined
  }
}

/** A Node or web stream, which a streaming handler (Middy's streamifyResponse) answers with: its bytes are not known here. */
const isStream = (value: unknown): boolean => isRecord(value) && (typeof value.pipe === 'function' || typeof value.getReader === 'function')

/**
 * What API Gateway (payload 2.0) and function URLs make of a response without `statusCode`: a 200
 * with `content-type: application/json` whose body is the string, or the JSON text of the value.
 * An object carrying `body`, `headers` or `cookies` but no `statusCode` is ambiguous and left alone.
 */
const inferredResponse = (value: unknown): StructuredResponse | undefined => {
  if (value === undefined || value === null || isStream(value)) return undefined
  if (isRecord(value) && structuredKeys.some((key) => key in value)) return undefined
  const body = typeof value === 'string' ? value : jsonText(value)
  if (body === undefined) return undefined
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body, isBase64Encoded: false }
}

/**
 * The handler's response in structured form: as returned, or (payload 2.0 only; 1.0 has no
 * shorthand and API Gateway rejects one) the structured response the shorthand stands for.
 * Undefined when there is no readable status code.
 */
export const structuredResponse = (response: unknown, format: PayloadFormat): StructuredResponse | undefined => {
  if (isRecord(response) && 'statusCode' in response) {
    return Number.isInteger(response.statusCode) ? (response as StructuredResponse) : undefined
  }
  return format === PayloadFormat.V2 ? inferredResponse(response) : undefined
}

/** The body's text, '' for no body, or undefined for a body that is not text (its bytes are unknown). */
export const bodyText = (response: StructuredResponse): string | undefined => {
  const { body } = response
  if (body === undefined || body === null) return ''
  return typeof body === 'string' ? body : undefined
}

/** Whether the response sets a cookie: `Set-Cookie` in any spelling, or payload 2.0's `cookies`. */
export const setsCookie = (response: StructuredResponse, headers: ResponseHeaders): boolean => {
  return holdsCookies(response.cookies) || headers.has('set-cookie')
}


/**
 * Lets go of a streamed body that will not be sent (a streaming handler's `{ statusCode, body: stream }`):
 * left unread, a stream such as an S3 object's would hold its socket, and a place in its SDK
 * client's pool, past the invocation.
 */
const releaseBody = (body: unknown): void => {
  if (!isRecord(body)) return
  try {
    if (typeof body.destroy === 'function') (body as { destroy: () => void }).destroy()
    else if (typeof body.cancel === 'function') Promise.resolve((body as { cancel: () => unknown }).cancel()).catch(ignore)
  } catch {
    // A stream that cannot be let go of is the handler's; a 304 is still the answer.
  }
}

/**
 * The 304 for `response`: no body and none of the fields describing one, every other field kept
 * (RFC 9110 §15.4.5 asks for ETag, Cache-Control, Vary, Content-Location and Expires). A streamed
 * body is released, since it will not be sent.
 */
export const notModifiedResponse = (response: StructuredResponse, headers: ResponseHeaders): StructuredResponse => {
  if (isStream(response.body)) releaseBody(response.body)
  for (const name of bodyFields) headers.delete(name)
  const notModified = { ...headers.applyTo(response), statusCode: 304, body: '', isBase64Encoded: false }
  // An ALB target's status line; a stale '200 OK' beside statusCode 304 would contradict it.
  return 'statusDescription' in response ? { ...notModified, statusDescription: '304 Not Modified' } : notModified
}
