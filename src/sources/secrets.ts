import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets'
import { DescribeSecretCommand, ResourceNotFoundException, SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager'
import { sdkErrorOf } from './powertools-errors.js'

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
        const sdkError = sdkErrorOf(error)
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
