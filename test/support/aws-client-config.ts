/**
 * Options for an AWS SDK client of a local endpoint, with test credentials and the SDK's own retry
 * policy (3 attempts, backoff): a client as a user builds it.
 */
export const localClientConfig = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
})

/** Options for an AWS SDK client of a moto_server (by default the harness's): one attempt, test credentials. */
export const motoClientConfig = (endpoint = process.env.AWS_ENDPOINT_URL ?? '') => ({ ...localClientConfig(endpoint), maxAttempts: 1 })
