import type { InvokeCommand as InvokeCommandType, LambdaClient, LambdaClientConfig } from '@aws-sdk/client-lambda'
import { CacheError } from '../cache/errors.js'
import type { Invoke } from './fan-out.js'

/** A client the caller built, or options to build one with (endpoint, credentials...); region defaults to the function's. */
export interface LambdaClientOptions {
  readonly awsSdkV3Client?: LambdaClient
  readonly clientConfig?: LambdaClientConfig
}

interface Sdk {
  readonly client: LambdaClient
  readonly InvokeCommand: typeof InvokeCommandType
}

const loadSdk = async (options: LambdaClientOptions, region: string): Promise<Sdk> => {
  let sdk: typeof import('@aws-sdk/client-lambda')
  try {
    sdk = await import('@aws-sdk/client-lambda')
  } catch (error) {
    throw new CacheError('middy-cache: warm-up fan-out needs @aws-sdk/client-lambda, which could not be loaded', { cause: error })
  }
  const client = options.awsSdkV3Client ?? new sdk.LambdaClient({ region, ...options.clientConfig })
  return { client, InvokeCommand: sdk.InvokeCommand }
}

/**
 * Invokes through @aws-sdk/client-lambda, imported at the first fan-out only: a function that is
 * never asked to fan out never loads it. One client per warmup middleware, made at that moment.
 */
export const sdkInvoke = (options: LambdaClientOptions): Invoke => {
  let sdk: Promise<Sdk> | undefined
  return async (request, signal) => {
    sdk ??= loadSdk(options, request.region)
    const { client, InvokeCommand } = await sdk
    const command = new InvokeCommand({
      FunctionName: request.functionName,
      Qualifier: request.qualifier,
      InvocationType: request.invocationType,
      Payload: new TextEncoder().encode(request.payload),
    })
    const output = await client.send(command, { abortSignal: signal })
    if (output.FunctionError !== undefined) {
      throw new CacheError(`middy-cache: the fan-out ping answered with a function error (${output.FunctionError})`)
    }
  }
}
