import { createHash } from 'node:crypto'

/** Longer keys are hashed, so neither memory nor a shared tier's key limit grows with the caller's input. */
export const maxPlainKeyLength = 250
const hashedMarker = '\u0000'

/**
 * The key an entry is stored under. Hashed keys start with NUL; a caller's key that itself starts
 * with NUL is hashed too, so a plain key can never equal a hashed one.
 */
export const storeKeyOf = (key: string): string =>
  key.length <= maxPlainKeyLength && key.charCodeAt(0) !== 0
    ? key
    : hashedMarker + createHash('sha256').update(key).digest('base64url')

/** The caller's key an entry is stored under, or undefined when only its hash was kept. */
export const callerKeyOf = (storeKey: string): string | undefined => (storeKey.charCodeAt(0) === 0 ? undefined : storeKey)
