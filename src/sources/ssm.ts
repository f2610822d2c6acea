import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm'
import type { SSMClient, SSMClientConfig } from '@aws-sdk/client-ssm'
import { withSdkError } from './powertools-errors.js'

/** A client the caller built, or options to build one with (region, endpoint, credentials...). */
export interface SsmClientOptions {
  readonly awsSdkV3Client?: SSMClient
  readonly clientConfig?: SSMClientConfig
}

export interface SsmSource {
  /**
   * Values of `names`, read with GetParameters (10 names a call, as Powertools batches them), or
   * with GetParameter where a batch cannot be matched (see `readOneByOne`); a name SSM does not
   * know maps to undefined.
   */
  getByNames(names: readonly string[], decrypt: boolean): Promise<Map<string, string | undefined>>
  /** Every parameter under `path` (GetParametersByPath, paged), keyed by name relative to the path. */
  getByPath(path: string, options: { readonly decrypt: boolean; readonly recursive: boolean }): Promise<Record<string, string>>
}

const errorsKey = '_errors'

/** The reserved path under which SSM reads a Secrets Manager secret (GetParameter and GetParameters only, decrypted). */
export const secretsManagerReferencePrefix = '/aws/reference/secretsmanager/'

/** A name with one leading slash and no other, which SSM takes as the name without it. */
const singleLevelWithSlash = /^\/[^/]+$/

/**
 * Names Powertools' getParametersByName cannot read, so read with GetParameter: GetParameters
 * answers each of these under another name than the one asked for, which Powertools fails to match
 * to the request (with a TypeError that fails the whole batch): one given by ARN, or with a version
 * or label selector (`/shop/table:3`, `/shop/table:prod`), under its bare name; `/table` under
 * `table` (SSM's docs: the two are one parameter); a Secrets Manager reference, which moto answers
 * under the secret's own name. And `_errors` is the key Powertools' graceful mode keeps for its own
 * use, `__proto__` one its plain objects cannot hold (the value is dropped, the parameter reported missing).
 */
const readOneByOne = (name: string): boolean =>
  name.includes(':') || name === errorsKey || name === '__proto__' || name.startsWith(secretsManagerReferencePrefix) || singleLevelWithSlash.test(name)

const notFoundErrors: readonly string[] = ['ParameterNotFound', 'ParameterVersionNotFound']

/**
 * SSM Parameter Store through Powertools' SSMProvider, with Powertools' own cache emptied before
 * every read: the engine is the only cache, so freshness has one owner.
 */
export const createSsmSource = (options: SsmClientOptions): SsmSource => {
  const provider =
    options.awsSdkV3Client === undefined
      ? new SSMProvider({ clientConfig: options.clientConfig ?? {} })
      : new SSMProvider({ awsSdkV3Client: options.awsSdkV3Client })

  const getOne = async (name: string, decrypt: boolean): Promise<string | undefined> => {
    try {
      const value = await withSdkError(() => provider.get(name, { decrypt, forceFetch: true, maxAge: 0 }))
      return typeof value === 'string' ? value : undefined
    } catch (error) {
      if (error instanceof Error && notFoundErrors.includes(error.name)) return undefined
      throw error
    }
  }

  const getBatch = async (names: readonly string[], decrypt: boolean, values: Map<string, string | undefined>): Promise<void> => {
    if (names.length === 0) return
    const request = Object.fromEntries(names.map((name) => [name, { decrypt, maxAge: 0 }]))
    const found = (await withSdkError(() => provider.getParametersByName<string>(request, { decrypt, maxAge: 0, throwOnError: false }))) as Record<string, unknown>
    for (const name of names) {
      const value = found[name]
      values.set(name, typeof value === 'string' ? value : undefined)
    }
    Reflect.deleteProperty(found, errorsKey)
  }

  return {
    async getByNames(names, decrypt) {
      provider.clearCache()
      const values = new Map<string, string | undefined>()
      const oneByOne = names.filter(readOneByOne)
      await Promise.all([
        getBatch(names.filter((name) => !readOneByOne(name)), decrypt, values),
        ...oneByOne.map(async (name) => {
          values.set(name, await getOne(name, decrypt))
        }),
      ])
      return values
    },
    async getByPath(path, { decrypt, recursive }) {
      const found = await withSdkError(() => provider.getMultiple(path, { decrypt, recursive, forceFetch: true, maxAge: 0 }))
      return { ...found }
    },
  }
}
