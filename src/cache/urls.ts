import { CacheOptionsError, mustBe } from './errors.js'

/** What keeps a string from being a URL of `protocols` naming a host, as an error says it; undefined when it is one. */
const urlProblem = (value: string, protocols: readonly string[]): string | undefined => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'a string that is no URL'
  }
  if (!protocols.includes(url.protocol)) return `a URL of scheme ${JSON.stringify(url.protocol.slice(0, -1))}`
  // A special scheme's (http:, https:) never parses without one; redis:// does, with none.
  return url.hostname === '' ? 'a URL that names no host' : undefined
}

/**
 * A URL option, refused (`allowed` says what it must be: 'a redis:// or rediss:// URL') when it is no
 * string, does not parse, has a scheme other than `protocols` ('redis:'), or names no host: the
 * client it is for would fail at every call. The string itself is never shown: a URL may carry a
 * password.
 */
export const checkedUrl = (option: string, value: unknown, protocols: readonly string[], allowed: string): string => {
  if (typeof value !== 'string') throw mustBe(option, allowed, value)
  const problem = urlProblem(value, protocols)
  if (problem !== undefined) throw new CacheOptionsError(option, `must be ${allowed}; got ${problem}`)
  return value
}
