import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm'
import { GetParametersByPathCommand, SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm'
import { chunksOf } from '../cache/chunks.js'
import { withSdkError } from './powertools-errors.js'

/** A client the caller built, or options to build one with (region, endpoint, credentials...). */
export interface SsmClientOptions {
  readonly awsSdkV3Client?: SSMClient
  readonly clientConfig?: SSMClientConfig
}

/**
 * What SSM answered for each of some names: its value (undefined when SSM knows no such
 * parameter), or the error of the call that asked for it.
 */
export interface ParameterAnswers {
  readonly values: ReadonlyMap<string, string | undefined>
  readonly failures: ReadonlyMap<string, unknown>
}

export interface SsmSource {
  /**
   * `names` read with GetParameters (at most 10 names a call, the calls sent at once), or with
   * GetParameter where a batch cannot be matched (see `readOneByOne`). A call SSM refuses (access
   * denied, a KMS key it cannot use) fails the names it asked for, not the others.
   */
  getByNames(names: readonly string[], decrypt: boolean): Promise<ParameterAnswers>
  /**
   * Every parameter under `path` (GetParametersByPath, paged), keyed by name relative to the path,
   * each an own property whatever its name (`__proto__` too).
   */
  getByPath(path: string, options: { readonly decrypt: boolean; readonly recursive: boolean }): Promise<Record<string, string>>
}

const errorsKey = '_errors'
/** The most names GetParameters takes in one call. */
const namesPerCall = 10

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

/** `name` relative to `path`, as Powertools' getMultiple names it: without the path and the slash after it. */
const relativeName = (path: string, name: string): string => {
  const below = name.startsWith(path) ? name.slice(path.length) : name
  return below.startsWith('/') ? below.slice(1) : below
}

/**
 * SSM Parameter Store through Powertools' SSMProvider, with Powertools' own cache emptied before
 * every read: the engine is the only cache, so freshness has one owner. Powertools keys that cache
 * by name and transform, not by decryption (its issue #5622), and getParametersByName keeps what it reads
 * for 5 s whatever maxAge says: a plain read starting while a decrypted one of the same name stores
 * its answer would be answered with the secret. Each mode has a provider, so a cache of its own.
 */
export const createSsmSource = (options: SsmClientOptions): SsmSource => {
  const client = options.awsSdkV3Client ?? new SSMClient(options.clientConfig ?? {})
  const plain = new SSMProvider({ awsSdkV3Client: client })
  const decrypting = new SSMProvider({ awsSdkV3Client: client })
  const providerOf = (decrypt: boolean): SSMProvider => (decrypt ? decrypting : plain)

  const getOne = async (name: string, decrypt: boolean): Promise<string | undefined> => {
    try {
      const value = await withSdkError(() => providerOf(decrypt).get(name, { decrypt, forceFetch: true, maxAge: 0 }))
      return typeof value === 'string' ? value : undefined
    } catch (error) {
      if (error instanceof Error && notFoundErrors.includes(error.name)) return undefined
      throw error
    }
  }

  /** At most `namesPerCall` names: one GetParameters call (Powertools sends one after another the calls of more). */
  const getBatch = async (names: readonly string[], decrypt: boolean, values: Map<string, string | undefined>): Promise<void> => {
    const request = Object.fromEntries(names.map((name) => [name, { decrypt, maxAge: 0 }]))
    const found = (await withSdkError(() => providerOf(decrypt).getParametersByName<string>(request, { decrypt, maxAge: 0, throwOnError: false }))) as Record<string, unknown>
    for (const name of names) {
      const value = found[name]
      values.set(name, typeof value === 'string' ? value : undefined)
    }
  }

  return {
    async getByNames(names, decrypt) {
      providerOf(decrypt).clearCache()
      const values = new Map<string, string | undefined>()
      const failures = new Map<string, unknown>()
      /** One call to SSM for `asked`: its failure is theirs alone. */
      const call = async (asked: readonly string[], read: () => Promise<void>): Promise<void> => {
        try {
          await read()
        } catch (error) {
          for (const name of asked) failures.set(name, error)
        }
      }
      await Promise.all([
        ...chunksOf(names.filter((name) => !readOneByOne(name)), namesPerCall).map((batch) => call(batch, () => getBatch(batch, decrypt, values))),
        ...names.filter(readOneByOne).map((name) =>
          call([name], async () => {
            values.set(name, await getOne(name, decrypt))
          }),
        ),
      ])
      return { values, failures }
    },
    // Not Powertools' getMultiple: it gathers the names into a plain object, where one named
    // `__proto__` is dropped, and its paginator refuses an SSMClient of another copy of the SDK.
    async getByPath(path, { decrypt, recursive }) {
      const found: [string, string][] = []
      let nextToken: string | undefined
      do {
        const page = await client.send(new GetParametersByPathCommand({ Path: path, WithDecryption: decrypt, Recursive: recursive, NextToken: nextToken }))
        for (const { Name, Value } of page.Parameters ?? []) if (Name !== undefined && Value !== undefined) found.push([relativeName(path, Name), Value])
        nextToken = page.NextToken
      } while (nextToken !== undefined && nextToken !== '')
      return Object.fromEntries(found)
    },
  }
}
