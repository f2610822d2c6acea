import { isRecord } from '../shared/cache-options.js'
import { sendsCredentials } from './credentials.js'
import { fieldRecord, HeaderFields, type FieldRecord } from './header-fields.js'

/** The Lambda HTTP payload formats: REST APIs and ALB send 1.0, HTTP APIs send 1.0 or 2.0, function URLs 2.0. */
export const PayloadFormat = { V1: '1.0', V2: '2.0' } as const
export type PayloadFormat = (typeof PayloadFormat)[keyof typeof PayloadFormat]

/**
 * The response header records the service in front of the function reads: API Gateway's payload
 * 1.0 merges `headers` and `multiValueHeaders`, payload 2.0 has only `headers`, and an ALB target
 * group reads only `multiValueHeaders` when multi-value headers are on, else only `headers`.
 */
export const ResponseHeaderRecords = { Both: 'both', Headers: 'headers', MultiValueHeaders: 'multiValueHeaders' } as const
export type ResponseHeaderRecords = (typeof ResponseHeaderRecords)[keyof typeof ResponseHeaderRecords]

/** What httpCache reads of a request. */
export interface HttpRequest {
  readonly format: PayloadFormat
  /** Where the response's header fields must go to reach the client. */
  readonly responseHeaderRecords: ResponseHeaderRecords
  /** Upper case. */
  readonly method: string
  readonly headers: HeaderFields
  /** The request says who sends it (see `sendsCredentials`): its answer may be that caller's own. */
  readonly credentialed: boolean
}

const methodOf = (event: Record<string, unknown>): { format: PayloadFormat; method: string } | undefined => {
  const requestContext = event.requestContext
  const http = isRecord(requestContext) ? requestContext.http : undefined
  if (isRecord(http) && typeof http.method === 'string') return { format: PayloadFormat.V2, method: http.method.toUpperCase() }
  if (typeof event.httpMethod === 'string') return { format: PayloadFormat.V1, method: event.httpMethod.toUpperCase() }
  return undefined
}

/** An ALB with multi-value headers on sends the request's headers in `multiValueHeaders` (and only there). */
const responseHeaderRecordsOf = (event: Record<string, unknown>, format: PayloadFormat, multi: FieldRecord | undefined): ResponseHeaderRecords => {
  if (format === PayloadFormat.V2) return ResponseHeaderRecords.Headers
  const { requestContext } = event
  if (!isRecord(requestContext) || !isRecord(requestContext.elb)) return ResponseHeaderRecords.Both
  return multi === undefined ? ResponseHeaderRecords.Headers : ResponseHeaderRecords.MultiValueHeaders
}

/**
 * Reads an API Gateway (REST or HTTP API), function URL or ALB event. Undefined for anything else,
 * and for an event whose headers cannot be read: without them, an Authorization header could hide.
 */
export const readHttpRequest = (event: unknown): HttpRequest | undefined => {
  if (!isRecord(event)) return undefined
  const method = methodOf(event)
  const single = fieldRecord(event.headers)
  const multi = fieldRecord(event.multiValueHeaders)
  if (method === undefined || single === false || multi === false) return undefined
  const headers = new HeaderFields(single, multi)
  return {
    ...method,
    responseHeaderRecords: responseHeaderRecordsOf(event, method.format, multi),
    headers,
    credentialed: sendsCredentials(event, headers),
  }
}
