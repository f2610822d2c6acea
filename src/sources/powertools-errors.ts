import { GetParameterError } from '@aws-lambda-powertools/parameters/errors'

/**
 * The SDK's error, which Powertools' providers wrap in a GetParameterError of the same message: the
 * SDK's, with its name and `$metadata`, is what a load error's `cause` should be, so that a caller
 * tells access denied from throttling by `error.cause.name` whichever provider read the value.
 */
export const sdkErrorOf = (error: unknown): unknown => (error instanceof GetParameterError && error.cause instanceof Error ? error.cause : error)

/** `read()`, failing with the SDK's own error rather than Powertools' wrapper. */
export const withSdkError = async <T>(read: () => Promise<T>): Promise<T> => {
  try {
    return await read()
  } catch (error) {
    throw sdkErrorOf(error)
  }
}
