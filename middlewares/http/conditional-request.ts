import { ifNoneMatchMatches } from './entity-tag.js'
import type { HeaderFields } from './header-fields.js'
import { parseHttpDate } from './http-date.js'

/** The validators of the response about to be sent. */
export interface Validators {
  readonly entityTag: string | undefined
  readonly lastModified: string | undefined
}

const presentValue = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value)

/**
 * Whether a GET or HEAD may be answered 304 Not Modified (RFC 9110 §13.2.2, steps 3 and 4): by
 * If-None-Match when the request has one, whatever its value, else by If-Modified-Since against Last-Modified. The
 * caller evaluates only 2xx responses, as §13.2.1 requires; If-Match and If-Unmodified-Since
 * guard state-changing methods, which are never cacheable, and are left to the handler.
 */
export const isNotModified = (requestHeaders: HeaderFields, validators: Validators): boolean => {
  // Present at all, If-None-Match decides, even blank or unreadable (§13.1.3): If-Modified-Since is then ignored.
  if (requestHeaders.has('if-none-match')) {
    const ifNoneMatch = presentValue(requestHeaders.get('if-none-match'))
    return ifNoneMatch !== undefined && ifNoneMatchMatches(ifNoneMatch, validators.entityTag)
  }
  const ifModifiedSince = presentValue(requestHeaders.get('if-modified-since'))
  if (ifModifiedSince === undefined || validators.lastModified === undefined) return false
  const since = parseHttpDate(ifModifiedSince)
  const modified = parseHttpDate(validators.lastModified)
  return since !== undefined && modified !== undefined && modified <= since
}
