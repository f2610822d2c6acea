/**
 * Text that may hold a prototype-changing key: quoted as a key is (JSON has no other escape that
 * spells a letter), or through a unicode escape. The word inside a longer string (a value such as
 * 'the constructor ran') leaves the text on the fast parse, which takes a fraction of the time.
 */
const suspiciousMarkers = ['"__proto__"', '"constructor"', '\\u'] as const

class PoisonedJson extends Error {}

/**
 * Whether a property would make JSON text that `parseJsonSafely` refuses: a `__proto__` key, or a
 * `constructor` holding a `prototype`. A writer keeps such a value out of the JSON it writes, which
 * every reader would otherwise discard whole.
 */
export const isPrototypeKey = (key: string, value: unknown): boolean =>
  key === '__proto__' || (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype'))

const refusePrototypeKeys = (key: string, value: unknown): unknown => {
  if (isPrototypeKey(key, value)) throw new PoisonedJson()
  return value
}

/**
 * Parses JSON from a shared tier, which another writer may have filled: undefined for anything
 * that is not JSON, or that carries `__proto__` or `constructor.prototype` keys a later merge
 * could turn into prototype pollution. Plain text skips the slower checking parse.
 */
export const parseJsonSafely = (text: string): unknown => {
  try {
    return suspiciousMarkers.some((marker) => text.includes(marker)) ? JSON.parse(text, refusePrototypeKeys) : JSON.parse(text)
  } catch {
    return undefined
  }
}
