import type { LambdaClient } from '@aws-sdk/client-lambda'
import { CacheError } from '../cache/errors.js'

type RetryStrategy = Awaited<ReturnType<LambdaClient['config']['retryStrategy']>>
/** The token-based strategy, every supported client's default; the legacy kind runs its retries itself, out of reach. */
type TokenRetryStrategy = Extract<RetryStrategy, { refreshRetryTokenForRetry: unknown }>

const isTokenRetryStrategy = (strategy: RetryStrategy): strategy is TokenRetryStrategy => 'refreshRetryTokenForRetry' in strategy

const withoutThrottlingRetries = (strategy: TokenRetryStrategy): TokenRetryStrategy => ({
  acquireInitialRetryToken: (scope) => strategy.acquireInitialRetryToken(scope),
  // Refused a retry token, the SDK fails the call with the throttling error it met.
  refreshRetryTokenForRetry: (token, errorInfo) =>
    errorInfo.errorType === 'THROTTLING'
      ? Promise.reject(new CacheError('middy-cache: a throttled fan-out Invoke is not retried', { cause: errorInfo.error }))
      : strategy.refreshRetryTokenForRetry(token, errorInfo),
  recordSuccess: (token) => {
    strategy.recordSuccess(token)
  },
})

/**
 * Has `client` fail a throttled request at once, and retry the others as its settings say. Lambda
 * throttles an Invoke (429 TooManyRequestsException) when the function has no free concurrency:
 * its environments are all busy, so there is nothing left to warm, and the SDK's retries (3
 * attempts over about 2 s) would only bill the ping for the wait, exactly when the function is
 * saturated. A connection a freeze left dead, or a 5xx, is still worth its retry.
 */
export const failFastWhenThrottled = (client: LambdaClient): void => {
  const configured = client.config.retryStrategy
  // The retry middleware asks the client's resolved config for the strategy on every request.
  client.config.retryStrategy = async () => {
    const strategy = await configured()
    return isTokenRetryStrategy(strategy) ? withoutThrottlingRetries(strategy) : strategy
  }
}
