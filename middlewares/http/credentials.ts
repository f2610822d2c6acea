import { isRecord } from '../shared/cache-options.js'
import { holdsCookies, type HeaderFields } from './header-fields.js'

/**
 * An authorizer admitted the request, whether or not it names a principal: a REST API Lambda
 * authorizer's `principalId`; an HTTP API Lambda authorizer's own context (`lambda`, null when it
 * returned none); a JWT's claims (`jwt.claims`, or `claims` in payload 1.0 and for Cognito user
 * pools), which need not hold `sub`, nor its token come in an Authorization header; or an IAM
 * caller (`iam`, HTTP APIs and function URLs), which need not carry a `userArn`.
 */
const admittedByAuthorizer = (authorizer: unknown): boolean => {
  if (!isRecord(authorizer)) return false
  const { principalId, jwt, claims, iam } = authorizer
  return (principalId !== undefined && principalId !== null) || 'lambda' in authorizer || isRecord(jwt) || isRecord(claims) || isRecord(iam)
}

/**
 * The fields of a REST API's (or payload 1.0's) `requestContext.identity` that only a caller signed
 * with IAM, or with an identity pool's credentials, has; each may come without the others. An API
 * key (`apiKey`) names a usage plan rather than a caller, and `sourceIp` and `userAgent` anyone's.
 */
const iamIdentityFields = ['accessKey', 'caller', 'user', 'userArn', 'cognitoIdentityId', 'cognitoIdentityPoolId', 'cognitoAuthenticationType', 'cognitoAuthenticationProvider'] as const

const signedWithIam = (identity: Record<string, unknown>): boolean =>
  iamIdentityFields.some((field) => typeof identity[field] === 'string' && identity[field] !== '')

/** A client certificate API Gateway checked (mutual TLS): REST APIs in `identity.clientCert`, HTTP APIs in `authentication.clientCert`. */
const presentsClientCertificate = (requestContext: Record<string, unknown>, identity: unknown): boolean =>
  (isRecord(identity) && isRecord(identity.clientCert)) || (isRecord(requestContext.authentication) && isRecord(requestContext.authentication.clientCert))

/** Whether API Gateway authenticated the caller, by an authorizer, IAM or mutual TLS, whether or not it names a principal. */
const authenticatedByApiGateway = (requestContext: unknown): boolean => {
  if (!isRecord(requestContext)) return false
  const { authorizer, identity } = requestContext
  return admittedByAuthorizer(authorizer) || (isRecord(identity) && signedWithIam(identity)) || presentsClientCertificate(requestContext, identity)
}

/**
 * The fields an ALB adds to a request from a caller it authenticated, which the event carries as
 * plain headers, since an ALB event has no authorizer: the user's claims and tokens from an
 * authenticate-oidc or authenticate-cognito action, and the client certificate of mutual TLS (its
 * chain in passthrough mode, the leaf's fields in verify mode).
 */
const albAuthenticationFields = [
  'x-amzn-oidc-data', 'x-amzn-oidc-identity', 'x-amzn-oidc-accesstoken',
  'x-amzn-mtls-clientcert', 'x-amzn-mtls-clientcert-serial-number', 'x-amzn-mtls-clientcert-issuer', 'x-amzn-mtls-clientcert-subject',
  'x-amzn-mtls-clientcert-validity', 'x-amzn-mtls-clientcert-leaf',
] as const

const authenticatedByAlb = (headers: HeaderFields): boolean => albAuthenticationFields.some((name) => headers.has(name))

/**
 * Whether the request says who sends it: an Authorization or Cookie header, payload 2.0's `cookies`,
 * a caller API Gateway authenticated (see `authenticatedByApiGateway`), or a caller an ALB
 * authenticated (see `albAuthenticationFields`). Its answer may be that caller's own.
 */
export const sendsCredentials = (event: Record<string, unknown>, headers: HeaderFields): boolean =>
  headers.has('authorization') || headers.has('cookie') || holdsCookies(event.cookies) || authenticatedByApiGateway(event.requestContext) || authenticatedByAlb(headers)
