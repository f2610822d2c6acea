/**
 * AWS SDK errors told apart by what they carry, never by their class: a client the caller built may
 * come from another copy of the SDK (another version in the bundle), whose exception classes are
 * not ours, and SDK versions before `Symbol.hasInstance` on their exceptions fail `instanceof`.
 */

/** An error the SDK raised for AWS's answer `name` (`ConditionalCheckFailedException`, `NoSuchKey`...). */
export const isAwsError = (error: unknown, name: string): error is Error => error instanceof Error && error.name === name

/** An error AWS answered as the caller's fault (`$fault: 'client'`: throttled, refused): the attempt it answers was not applied. */
const isClientFault = (error: unknown): boolean => error instanceof Error && (error as { readonly $fault?: unknown }).$fault === 'client'

/** How many attempts the SDK made of the request that failed with `error` (its retries), 1 when it does not say. */
const attemptsOf = (error: unknown): number => {
  const attempts = (error as { readonly $metadata?: { readonly attempts?: unknown } }).$metadata?.attempts
  return typeof attempts === 'number' ? attempts : 1
}

/**
 * Whether the request that failed with `error` may have been applied all the same: unless AWS
 * refused its only attempt as the caller's fault. An attempt whose answer was lost (a 500, a reset
 * connection, a timeout) may have been applied, and so may an earlier attempt of a request the SDK
 * retried, whatever its last attempt was answered (throttled, say).
 */
export const mayHaveBeenApplied = (error: unknown): boolean => !isClientFault(error) || attemptsOf(error) > 1
