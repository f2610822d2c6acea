/** The field names of a Vary value. */
const varyNames = (value: string): string[] =>
  value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')

/**
 * The handler's Vary value with `additions` it lacks appended (names compare case-insensitively);
 * `existing` itself when nothing is missing or it is `*`, which already varies on everything.
 */
export const mergeVary = (existing: string | undefined, additions: readonly string[]): string | undefined => {
  const present = existing === undefined ? [] : varyNames(existing)
  if (present.includes('*')) return existing
  const presentLower = new Set(present.map((name) => name.toLowerCase()))
  const missing = additions.filter((name) => !presentLower.has(name.toLowerCase()))
  return missing.length === 0 ? existing : [...present, ...missing].join(', ')
}
