import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets'
import { DescribeSecretCommand, SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager'
import { isAwsError } from '../cache/aws-errors.js'
import { abortableClient, withAbortSignal } from './abortable-client.js'
import { sdkErrorOf } from './powertools-errors.js'

/** A client the caller built, or options to build one with (region, endpoint, credentials...). */
export interface SecretsClientOptions {
  readonly awsSdkV3Client?: SecretsManagerClient
  readonly clientConfig?: SecretsManagerClientConfig
}

export interface SecretsSource {
  /**
   * SecretString or SecretBinary of `secretId` (GetSecretValue, aborted by `signal`); undefined when
   * there is no such secret. Fails with the SDK's error, one `isScheduledForDeletion` tells for a
   * secret being deleted.
   */
  getSecret(secretId: string, signal: AbortSignal): Promise<string | Uint8Array | undefined>
  /** When the secret next rotates (DescribeSecret, aborted by `signal`), if rotation is scheduled. */
  nextRotation(secretId: string, signal: AbortSignal): Promise<Date | undefined>
}

/** AWS: "...because it was marked for deletion."; moto_server: "...currently marked deleted." */
const deletionWording = /\bmarked\s+(?:for\s+deletion|deleted)\b/i

/**
 * GetSecretValue's answer for a secret scheduled for deletion (DeleteSecret with a recovery window,
 * 7 to 30 days): an InvalidRequestException, told from its other uses by its wording.
 */
export const isScheduledForDeletion = (error: unknown): boolean => isAwsError(error, 'InvalidRequestException') && deletionWording.test(error.message)

/**
 * Secrets Manager through Powertools' SecretsProvider, with Powertools' own cache bypassed: the
 * engine is the only cache.
 */
export const createSecretsSource = (options: SecretsClientOptions): SecretsSource => {
  const client = options.awsSdkV3Client ?? new SecretsManagerClient(options.clientConfig ?? {})
  const provider = new SecretsProvider({ awsSdkV3Client: abortableClient(client) })
  return {
    async getSecret(secretId, signal) {
      try {
        return await provider.get(secretId, { forceFetch: true, maxAge: 0, sdkOptions: withAbortSignal({}, signal) })
      } catch (error) {
        const sdkError = sdkErrorOf(error)
        if (isAwsError(sdkError, 'ResourceNotFoundException')) return undefined
        throw sdkError
      }
    },
    async nextRotation(secretId, signal) {
      const { NextRotationDate, RotationEnabled } = await client.send(new DescribeSecretCommand({ SecretId: secretId }), { abortSignal: signal })
      return RotationEnabled === true ? NextRotationDate : undefined
    },
  }
}
