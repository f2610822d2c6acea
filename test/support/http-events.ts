import type { ALBEvent, APIGatewayProxyEvent, APIGatewayProxyEventV2, LambdaFunctionURLEvent } from 'aws-lambda'

/**
 * A request as a client sent it. A header given as an array was sent once per value; the
 * factories lay headers out as each service does.
 */
export interface HttpRequestSpec {
  readonly method?: string
  readonly path?: string
  readonly headers?: Readonly<Record<string, string | readonly string[]>>
}

const requestTime = 1_795_000_000_000
const sourceIp = '203.0.113.7'
const userAgent = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0'

/** What every test request carries besides its own headers, as a browser behind CloudFront sends it. */
const clientHeaders = (host: string): Record<string, string> => ({
  Host: host,
  'User-Agent': userAgent,
  Accept: 'application/json',
  'Accept-Encoding': 'gzip, br',
  'X-Forwarded-For': sourceIp,
  'X-Forwarded-Proto': 'https',
  'X-Amzn-Trace-Id': 'Root=1-6742a1b3-0123456789abcdef01234567',
})

const allHeaders = (host: string, spec: HttpRequestSpec): [string, readonly string[]][] =>
  Object.entries({ ...clientHeaders(host), ...spec.headers }).map(([name, value]) => [name, typeof value === 'string' ? [value] : value])

/** Payload 1.0 (REST APIs, ALB): names as sent; `headers` keeps each field's last value, `multiValueHeaders` all of them. */
const payloadV1Headers = (host: string, spec: HttpRequestSpec) => {
  const fields = allHeaders(host, spec)
  return {
    headers: Object.fromEntries(fields.map(([name, values]) => [name, values.at(-1) ?? ''])),
    multiValueHeaders: Object.fromEntries(fields.map(([name, values]) => [name, [...values]])),
  }
}

/** Payload 2.0 (HTTP APIs, function URLs): lower-case names, repeated fields joined with commas. */
const payloadV2Headers = (host: string, spec: HttpRequestSpec): Record<string, string> =>
  Object.fromEntries(allHeaders(host, spec).map(([name, values]) => [name.toLowerCase(), values.join(',')]))

/** An API Gateway REST API proxy event (payload 1.0). */
export const restApiEvent = (spec: HttpRequestSpec = {}): APIGatewayProxyEvent => {
  const method = spec.method ?? 'GET'
  const path = spec.path ?? '/products/42'
  const host = 'abc123defg.execute-api.us-east-1.amazonaws.com'
  return {
    resource: '/products/{id}',
    path,
    httpMethod: method,
    ...payloadV1Headers(host, spec),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { id: '42' },
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123defg',
      authorizer: undefined,
      domainName: host,
      domainPrefix: 'abc123defg',
      extendedRequestId: 'BVGmkGrcoAMEZ1w=',
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent,
        userArn: null,
      },
      path: `/prod${path}`,
      protocol: 'HTTP/1.1',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTime: '23/Nov/2026:12:00:00 +0000',
      requestTimeEpoch: requestTime,
      resourceId: 'ab12cd',
      resourcePath: '/products/{id}',
      stage: 'prod',
    },
    body: null,
    isBase64Encoded: false,
  }
}

const payloadV2Event = (spec: HttpRequestSpec, host: string, routeKey: string): APIGatewayProxyEventV2 => {
  const method = spec.method ?? 'GET'
  const path = spec.path ?? '/products/42'
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: payloadV2Headers(host, spec),
    requestContext: {
      accountId: '123456789012',
      apiId: host.split('.')[0] ?? '',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? '',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp, userAgent },
      requestId: 'JKJaXmPLvHcESHA=',
      routeKey,
      stage: '$default',
      time: '23/Nov/2026:12:00:00 +0000',
      timeEpoch: requestTime,
    },
    isBase64Encoded: false,
  }
}

/** An API Gateway HTTP API event (payload 2.0). */
export const httpApiEvent = (spec: HttpRequestSpec = {}): APIGatewayProxyEventV2 => ({
  ...payloadV2Event(spec, 'r3pmxmplak.execute-api.us-east-1.amazonaws.com', `${spec.method ?? 'GET'} /products/{id}`),
  pathParameters: { id: '42' },
})

/** A Lambda function URL event: payload 2.0 on a lambda-url domain, route `$default`, no path parameters. */
export const functionUrlEvent = (spec: HttpRequestSpec = {}): LambdaFunctionURLEvent =>
  payloadV2Event(spec, 'a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6.lambda-url.us-east-1.on.aws', '$default')

const albHost = 'shop-1234567890.us-east-1.elb.amazonaws.com'

const albRequest = (spec: HttpRequestSpec) => ({
  requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop/0123456789abcdef' } },
  httpMethod: spec.method ?? 'GET',
  path: spec.path ?? '/products/42',
  body: '',
  isBase64Encoded: false,
})

/** An ALB target group event with multi-value headers off: only `headers` (each field's last value), in and out. */
export const albEvent = (spec: HttpRequestSpec = {}): ALBEvent => ({
  ...albRequest(spec),
  queryStringParameters: {},
  headers: payloadV1Headers(albHost, spec).headers,
})

/** An ALB target group event with multi-value headers on: only `multiValueHeaders`, in and out. */
export const albMultiValueEvent = (spec: HttpRequestSpec = {}): ALBEvent => ({
  ...albRequest(spec),
  multiValueQueryStringParameters: {},
  multiValueHeaders: payloadV1Headers(albHost, spec).multiValueHeaders,
})

/** The event shapes httpCache serves, by name, for `describe.each`. */
export const httpEventFactories = [
  ['REST API (payload 1.0)', restApiEvent],
  ['HTTP API (payload 2.0)', httpApiEvent],
  ['function URL (payload 2.0)', functionUrlEvent],
  ['ALB (payload 1.0)', albEvent],
  ['ALB with multi-value headers (payload 1.0)', albMultiValueEvent],
] as const
