/**
 * AWS SDK errors told apart by what they carry, never by their class: a client the caller built may
 * come from another copy of the SDK (another version in the bundle), whose exception classes are
 * not ours, and SDK versions before `Symbol.hasInstance` on their exceptions fail `instanceof`.
 */

/** An error the SDK raised for AWS's answer `name` (`ConditionalCheckFailedException`, `NoSuchKey`...). */
export const isAwsError = (error: unknown, name: string): error is Error => error instanceof Error && error.name === name

/** An error AWS answered as the caller's fault (`$fault: 'client'`: throttled, refused): the request was not applied. */
export const isClientFault = (error: unknown): boolean => error instanceof Error && (error as { readonly $fault?: unknown }).$fault === 'client'
