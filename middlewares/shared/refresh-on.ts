import { CacheOptionsError, mustBe } from '../../src/cache/errors.js'
import { dropRejection, isThenable, unansweringFunction, type Logger } from '../../src/cache/options.js'
import { reasonOf } from '../../src/lambda/reason.js'

/** secretsCache's `refreshOn` as given: typed by what plain JavaScript may answer. */
type RefreshOn = (error: unknown) => unknown

/**
 * secretsCache's `refreshOn` option, checked at construction: a function of the handler's error that
 * answers at once. An async function or a generator is refused: its promise or iterator, truthy
 * however it settles, would drop the secrets on every error; so is a class, which cannot answer.
 */
export const refreshOnOption = (value: unknown): RefreshOn | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw mustBe('refreshOn', "a function of the handler's error", value)
  const unanswering = unansweringFunction(value)
  if (unanswering !== undefined) throw new CacheOptionsError('refreshOn', `must answer at once, (error) => boolean; got ${unanswering}`)
  return value as RefreshOn
}

const promisedWarning = 'middy-cache: secretsCache refreshOn answered with a promise, so the cached secrets are kept: it must answer at once, true to drop them'

/**
 * Whether `refreshOn` drops the secrets for `error`: a truthy answer does, as an `if` reads it. One
 * that throws (an error of a shape it did not expect) keeps them, rather than replacing the handler's
 * error and cutting Middy's onError chain short; so does a promise (from a function async without
 * saying so), which is not waited for, as it would hold the error response for as long as it takes,
 * and whose rejection is handled.
 */
export const dropsSecrets =
  (refreshOn: RefreshOn, logger: Logger) =>
  (error: unknown): boolean => {
    let answer: unknown
    try {
      answer = refreshOn(error)
    } catch (predicateError) {
      logger.warn(`middy-cache: secretsCache refreshOn threw, so the cached secrets are kept: ${reasonOf(predicateError)}`)
      return false
    }
    if (!isThenable(answer)) return Boolean(answer)
    dropRejection(answer)
    logger.warn(promisedWarning)
    return false
  }
