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
        if (isNotFound(error)) return undefined
        throw error
      }
    },
    async nextRotation(secretId) {
      const { NextRotationDate, RotationEnabled } = await client.send(new DescribeSecretCommand({ SecretId: secretId }))
      return RotationEnabled === true ? NextRotationDate : undefined
    },
  }
}

/** Powertools wraps the SDK's error; "not found" is a value (undefined), not a failure. */
const isNotFound = (error: unknown): boolean =>
  error instanceof ResourceNotFoundException || (error instanceof Error && error.cause instanceof ResourceNotFoundException)
