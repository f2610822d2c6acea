import { quotedKey } from '../../src/cache/errors.js'
import { isRecord } from './cache-options.js'

const present = (value: unknown): value is string => typeof value === 'string' && value !== ''

/** Claims of a Cognito user-pool authorizer (REST API) or a JWT authorizer (HTTP API). */
const claimsOf = (authorizer: Record<string, unknown>): Record<string, unknown> | undefined => {
  if (isRecord(authorizer.jwt) && isRecord(authorizer.jwt.claims)) return authorizer.jwt.claims
  return isRecord(authorizer.claims) ? authorizer.claims : undefined
}

/**
 * An IAM caller: the Cognito identity when an identity pool signed the request (its role ARN is
 * shared by all its users), else the caller's ARN, else its principal identifier (`aws:userid`: an
 * IAM user's unique id, a role's id with the session name), which API Gateway gives without the
 * ARN in some events. Never the access key, which rotates and is not the caller.
 */
const iamCallerOf = (userArn: unknown, userId: unknown, cognitoIdentityId: unknown): string | undefined => {
  if (present(cognitoIdentityId)) return `cognito-identity:${cognitoIdentityId}`
  if (present(userArn)) return `iam:${userArn}`
  return present(userId) ? `iam-user-id:${userId}` : undefined
}

/**
 * Who is calling, as API Gateway tells it: a JWT's `sub` (with its issuer), a Lambda authorizer's
 * `principalId`, or the IAM caller (REST and HTTP APIs). Each kind is marked, so that two kinds never
 * meet; undefined when the event carries no caller.
 */
export const principalOf = (event: unknown): string | undefined => {
  if (!isRecord(event) || !isRecord(event.requestContext)) return undefined
  const { authorizer, identity } = event.requestContext
  if (isRecord(authorizer)) {
    const claims = claimsOf(authorizer)
    if (claims !== undefined && present(claims.sub)) return `jwt:${JSON.stringify([claims.iss ?? null, claims.sub])}`
    if (isRecord(authorizer.iam)) {
      const cognitoIdentity = isRecord(authorizer.iam.cognitoIdentity) ? authorizer.iam.cognitoIdentity.identityId : undefined
      const caller = iamCallerOf(authorizer.iam.userArn, authorizer.iam.userId, cognitoIdentity)
      if (caller !== undefined) return caller
    }
    if (present(authorizer.principalId)) return `authorizer:${authorizer.principalId}`
  }
  return isRecord(identity) ? iamCallerOf(identity.userArn, identity.user, identity.cognitoIdentityId) : undefined
}

/** The key a principal's value is cached under when no principal could be found: only ever loaded, never stored. */
const nobody = '-'

/**
 * The cache key for `key` as seen by `principal`. The length prefix keeps principal and key apart
 * (`a:b` + `c` never meets `a` + `b:c`), so one principal's value is never served to another.
 */
export const principalKey = (principal: string | undefined, key: string): string =>
  principal === undefined ? `${nobody}:${key}` : `${principal.length}:${principal}:${key}`

/** The principal and the caller's key a `principalKey` was made of. */
export const splitPrincipalKey = (scopedKey: string): { readonly principal: string | undefined; readonly key: string } => {
  const colon = scopedKey.indexOf(':')
  const head = scopedKey.slice(0, colon)
  if (head === nobody) return { principal: undefined, key: scopedKey.slice(colon + 1) }
  const end = colon + 1 + Number(head)
  return { principal: scopedKey.slice(colon + 1, end), key: scopedKey.slice(end + 1) }
}

/** The caller's key a `principalKey` was made of: what errors carry, since a caller's identity is personal data that logs keep. */
export const keyWithoutPrincipal = (scopedKey: string): string => splitPrincipalKey(scopedKey).key

/** How errors name a per-caller key: the caller's key and whether the request had a caller, never who it is. */
export const describePrincipalKey = (scopedKey: string): string => {
  const { principal, key } = splitPrincipalKey(scopedKey)
  return `${quotedKey(key)} of ${principal === undefined ? 'an unidentified caller' : 'a caller'}`
}
