import type { InvokeCommand as InvokeCommandType, LambdaClient, LambdaClientConfig } from '@aws-sdk/client-lambda'
import { unlessAborted } from '../cache/background.js'
import { CacheError } from '../cache/errors.js'
import type { Invoke } from './fan-out.js'
import { failFastWhenThrottled } from './throttling-retries.js'

/** A client the caller built, or options to build one with (endpoint, credentials...); region defaults to the function's. */
export interface LambdaClientOptions {
  readonly awsSdkV3Client?: LambdaClient
  readonly clientConfig?: LambdaClientConfig
}

type LambdaSdk = typeof import('@aws-sdk/client-lambda')

interface Sdk {
  readonly client: LambdaClient
  readonly InvokeCommand: typeof InvokeCommandType
}

const importLambdaSdk = (): Promise<LambdaSdk> => import('@aws-sdk/client-lambda')

/** The client a fan-out builds fails a throttled Invoke at once, unless `clientConfig` brings a retryStrategy of its own. */
const clientOf = (sdk: LambdaSdk, region: string, clientConfig: LambdaClientConfig | undefined): LambdaClient => {
  const client = new sdk.LambdaClient({ region, ...clientConfig })
  if (clientConfig?.retryStrategy === undefined) failFastWhenThrottled(client)
  return client
}

const loadSdk = async (options: LambdaClientOptions, region: string, importSdk: () => Promise<LambdaSdk>): Promise<Sdk> => {
  let sdk: LambdaSdk
  try {
    sdk = await importSdk()
  } catch (error) {
    throw new CacheError('middy-cache: warm-up fan-out needs @aws-sdk/client-lambda, which could not be loaded', { cause: error })
  }
  // A client the caller passed in is theirs: it keeps its own retry settings.
  const client = options.awsSdkV3Client ?? clientOf(sdk, region, options.clientConfig)
  return { client, InvokeCommand: sdk.InvokeCommand }
}

/**
 * Invokes through @aws-sdk/client-lambda, imported at the first fan-out only: a function that is
 * never asked to fan out never loads it. One client per warmup middleware, made at that moment.
 * `importSdk` stands in for the import in tests, as a cold environment's slow disk would.
 */
export const sdkInvoke = (options: LambdaClientOptions, importSdk: () => Promise<LambdaSdk> = importLambdaSdk): Invoke => {
  let sdk: Promise<Sdk> | undefined
  return async (request, signal) => {
    sdk ??= loadSdk(options, request.region, importSdk)
    // The import counts against the ping's deadline: one still running then goes on, for the next fan-out.
    const loaded = await unlessAborted(sdk, signal)
    if (loaded === undefined) throw new CacheError('middy-cache: the warm-up ping ran out of time while @aws-sdk/client-lambda was loading', { cause: signal.reason })
    const { client, InvokeCommand } = loaded
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
