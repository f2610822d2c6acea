import { createHash } from 'node:crypto'

/** Longer keys are hashed, so neither memory nor a shared tier's key limit grows with the caller's input. */
export const maxPlainKeyLength = 250
const hashedMarker = '\u0000'

/** Marks the hash of a key with a lone surrogate: its hash covers UTF-16, so it never meets the hash of a UTF-8 encoding. */
const utf16Marker = '~'

/**
 * The key an entry is stored under. Hashed keys start with NUL; a caller's key that itself starts
 * with NUL is hashed too, so a plain key can never equal a hashed one. A key with a lone surrogate
 * (JSON.parse of a request body makes them) is hashed over its UTF-16 code units: UTF-8, which a
 * shared tier and a hash of it would otherwise see, turns every lone surrogate into U+FFFD, and
 * two keys that differ only there would share one entry.
 */
export const storeKeyOf = (key: string): string => {
  const wellFormed = key.isWellFormed()
  if (key.length <= maxPlainKeyLength && key.charCodeAt(0) !== 0 && wellFormed) return key
  return wellFormed
    ? hashedMarker + createHash('sha256').update(key).digest('base64url')
    : hashedMarker + utf16Marker + createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('base64url')
}

/** The caller's key an entry is stored under, or undefined when only its hash was kept. */
export const callerKeyOf = (storeKey: string): string | undefined => (storeKey.charCodeAt(0) === 0 ? undefined : storeKey)
