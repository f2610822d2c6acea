/** The CloudWatch namespace every example writes its cache metrics to; serverless.yml's dashboard and alarm read it. */
export const metricsNamespace = 'MiddyCacheExamples'

/**
 * The value of an environment variable serverless.yml sets. Read at module load, so that a
 * function deployed without it fails during INIT with a message that names it, never at the first
 * request.
 */
export const requiredEnv = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set (serverless.yml sets it)`)
  return value
}
