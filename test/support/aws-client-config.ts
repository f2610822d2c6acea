/** Options for an AWS SDK client of the moto_server the harness started: one attempt, test credentials. */
export const motoClientConfig = () => ({
  endpoint: process.env.AWS_ENDPOINT_URL ?? '',
  region: 'us-east-1',
  maxAttempts: 1,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
})
