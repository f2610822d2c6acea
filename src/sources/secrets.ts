import { GetParameterError } from '@aws-lambda-powertools/parameters/errors'
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets'
import { DescribeSecretCommand, ResourceNotFoundException, SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager'

/** A client the caller built, or options to build one with (region, endpoint, credentials...). */
export interface SecretsClientOptions {
  readonly awsSdkV3Client?: SecretsManagerClient
  readonly clientConfig?: SecretsManagerClientConfig
}

export interface SecretsSource {
  /** SecretString or SecretBinary of `secretId` (GetSecretValue); undefined when there is no such secret. */
  getSecret(secretId: string): Promise<string | Uint8Array | undefined>
  /** When the secret next rotates (DescribeSecret), if rotation is scheduled. */
  nextRotation(secretId: string): Promise<Date | undefined>
}

/**
 * Secrets Manager through Powertools' SecretsProvider, with Powertools' own cache bypassed: the
 * engine is the only cache.
 */
export const createSecretsSource = (options: SecretsClientOptions): SecretsSource => {
  const client = options.awsSdkV3Client ?? new SecretsManagerClient(options.clientConfig ?? {})
  const provider = new SecretsProvider({ awsSdkV3Client: client })
  return {
    async getSecret(secretId) {
      try {
        return await provider.get(secretId, { forceFetch: true, maxAge: 0 })
      } catch (error) {
        const sdkError = unwrapped(error)
        if (sdkError instanceof ResourceNotFoundException) return undefined
        throw sdkError
      }
    },
    async nextRotation(secretId) {
      const { NextRotationDate, RotationEnabled } = await client.send(new DescribeSecretCommand({ SecretId: secretId }))
      return RotationEnabled === true ? NextRotationDate : undefined
    },
  }
}

/**
 * The SDK's error, which Powertools wraps in a GetParameterError of the same message: the SDK's, with
 * its name and `$metadata`, is what a load error's `cause` should be, as configCache's is.
 */
const unwrapped = (error: unknown): unknown => (error instanceof GetParameterError && error.cause instanceof Error ? error.cause : error)
