import { hash } from 'node:crypto'

/**
 * A strong entity tag for a body's bytes: SHA-256 in base64url, cut to 22 characters (132 bits).
 * SHA-256 is as fast as SHA-1 or MD5 where the CPU has SHA extensions (Lambda's x86 and Graviton
 * do), needs no dependency, and flags no security scanner; the tag only tells versions apart.
 */
export const strongEntityTag = (bytes: string | Buffer): string => `"${hash('sha256', bytes, 'base64url').slice(0, 22)}"`

/** The bytes a response body stands for: a base64-encoded body decoded, text as UTF-8 (hashing a string encodes it so). */
export const bodyBytes = (body: string, isBase64Encoded: boolean): string | Buffer => (isBase64Encoded ? Buffer.from(body, 'base64') : body)

/** A quoted entity tag with an optional weak prefix, or a run of other characters (a sloppy client's unquoted tag). */
const listMember = /(?:W\/)?"[^"]*"|[^\s,]+/g

/** An entity tag without its weak prefix and quotes: what the weak comparison of RFC 9110 §8.8.3.2 compares. */
const opaqueTag = (tag: string): string => {
  const strong = tag.trim().replace(/^W\//, '')
  return strong.length >= 2 && strong.startsWith('"') && strong.endsWith('"') ? strong.slice(1, -1) : strong
}

/**
 * Whether an If-None-Match field value matches the current representation (RFC 9110 §13.1.2):
 * `*` matches any, otherwise any listed tag equal to `entityTag` under the weak comparison.
 * Entity tags may contain commas, so the list is read tag by tag, not split on commas.
 */
export const ifNoneMatchMatches = (field: string, entityTag: string | undefined): boolean => {
  const current = entityTag === undefined ? undefined : opaqueTag(entityTag)
  for (const [member] of field.matchAll(listMember)) {
    if (member === '*' || opaqueTag(member) === current) return true
  }
  return false
}
