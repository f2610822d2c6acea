import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm'
import { GetParametersByPathCommand, GetParametersCommand, SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm'
import { chunksOf } from '../cache/chunks.js'
import { CacheError, quotedKey } from '../cache/errors.js'
import { abortableClient, withAbortSignal } from './abortable-client.js'
import { withSdkError } from './powertools-errors.js'

/** A client the caller built, or options to build one with (region, endpoint, credentials...). */
export interface SsmClientOptions {
  readonly awsSdkV3Client?: SSMClient
  readonly clientConfig?: SSMClientConfig
}

/**
 * What SSM answered for each of some names: its value (undefined when SSM knows no such
 * parameter), or why it has none: the error of the call that asked for it, or a CacheError when
 * SSM's answer neither holds it nor says it is not found (holding another name in its place, say).
 */
export interface ParameterAnswers {
  readonly values: ReadonlyMap<string, string | undefined>
  readonly failures: ReadonlyMap<string, unknown>
}

export interface SsmSource {
  /**
   * `names` read with GetParameters (at most 10 names a call, the calls sent at once), or with
   * GetParameter where a batch cannot be matched (see `readOneByOne`). A call SSM refuses (access
   * denied, a KMS key it cannot use) fails the names it asked for, not the others. `signal` aborts
   * every call in flight, GetParameters and GetParameter alike.
   */
  getByNames(names: readonly string[], decrypt: boolean, signal: AbortSignal): Promise<ParameterAnswers>
  /**
   * Every parameter under `path` (GetParametersByPath, paged), keyed by name relative to the path,
   * each an own property whatever its name (`__proto__` too). `signal` aborts the page call in flight.
   */
  getByPath(path: string, options: { readonly decrypt: boolean; readonly recursive: boolean; readonly signal: AbortSignal }): Promise<Record<string, string>>
}

/** The most names GetParameters takes in one call. */
const namesPerCall = 10

/** The reserved path under which SSM reads a Secrets Manager secret (GetParameter and GetParameters only, decrypted). */
export const secretsManagerReferencePrefix = '/aws/reference/secretsmanager/'

/**
 * Names read with GetParameter, whose one answer needs no matching: a GetParameters answer to them
 * cannot be matched to the name asked. One given by ARN, or with a version or label selector
 * (`/shop/table:3`, `/shop/table:prod`), comes back under its bare name (moto sends no Selector to
 * tell `/shop/table:3` from `/shop/table` asked in the same call, and answers no ARN in a batch); a
 * Secrets Manager reference comes back from moto under the secret's own name, which a parameter
 * asked beside it may have too.
 */
const readOneByOne = (name: string): boolean => name.includes(':') || name.startsWith(secretsManagerReferencePrefix)

/** A name with one leading slash and no other. */
const singleLevelWithSlash = /^\/[^/]+$/

/**
 * The names an answered name may have been asked as: itself, and a one-level name with or without
 * its leading slash (SSM's docs: `/table` and `table` are one parameter, which it answers as `table`).
 */
const askedAs = (answered: string): readonly string[] => {
  const bare = singleLevelWithSlash.test(answered) ? answered.slice(1) : answered
  return bare.includes('/') ? [answered] : [bare, `/${bare}`]
}

const notFoundErrors: readonly string[] = ['ParameterNotFound', 'ParameterVersionNotFound']

/** What to check when SSM's answer names a parameter that was not asked for. */
const renamedHint = 'something between the function and SSM (a proxy, an endpoint) may rewrite names: check the endpoint the SSM client is given'

/** Why a name asked has no value: SSM's answer neither holds it nor says it is not found, holding perhaps `unasked` instead. */
const unansweredError = (name: string, unasked: readonly string[]): CacheError =>
  new CacheError(
    `middy-cache: SSM's answer to GetParameters neither holds parameter "${name}" nor lists it as not found${unasked.length === 0 ? '' : `, but holds ${unasked.map(quotedKey).join(', ')}, which was not asked for`}; ` +
      `no value is served for it: ${renamedHint}`,
  )

/** `name` relative to `path`, as Powertools' getMultiple names it: without the path and the slash after it. */
const relativeName = (path: string, name: string): string => {
  const below = name.startsWith(path) ? name.slice(path.length) : name
  return below.startsWith('/') ? below.slice(1) : below
}

/** Whether SSM may answer `name` for a GetParametersByPath of `path`: one below it, or under the root path a one-level name, which SSM names without the slash. */
const isUnder = (path: string, name: string): boolean => {
  const under = path.endsWith('/') ? path : `${path}/`
  return name.startsWith(under) || (under === '/' && !name.includes('/'))
}

/**
 * SSM Parameter Store: names in GetParameters batches sent with the SDK client (matched to the
 * answer here, which Powertools' getParametersByName fails to do with a TypeError for the whole
 * batch), the rest one by one through Powertools' SSMProvider, whose cache is never read
 * (`forceFetch`) nor written (`maxAge: 0`): the engine is the only cache, so freshness has one owner.
 */
export const createSsmSource = (options: SsmClientOptions): SsmSource => {
  const client = options.awsSdkV3Client ?? new SSMClient(options.clientConfig ?? {})
  const provider = new SSMProvider({ awsSdkV3Client: abortableClient(client) })

  const getOne = async (name: string, decrypt: boolean, signal: AbortSignal): Promise<string | undefined> => {
    try {
      const value = await withSdkError(() => provider.get(name, { decrypt, forceFetch: true, maxAge: 0, sdkOptions: withAbortSignal({}, signal) }))
      return typeof value === 'string' ? value : undefined
    } catch (error) {
      if (error instanceof Error && notFoundErrors.includes(error.name)) return undefined
      throw error
    }
  }

  /** At most `namesPerCall` names: one GetParameters call, each name asked matched to its answer or failed. */
  const getBatch = async (names: readonly string[], decrypt: boolean, signal: AbortSignal, values: Map<string, string | undefined>, failures: Map<string, unknown>): Promise<void> => {
    const answer = await client.send(new GetParametersCommand({ Names: [...names], WithDecryption: decrypt }), { abortSignal: signal })
    const asked = new Set(names)
    const answered = new Map<string, string | undefined>((answer.InvalidParameters ?? []).map((name) => [name, undefined]))
    const unasked: string[] = []
    for (const { Name = '', Value } of answer.Parameters ?? []) {
      const askedNames = askedAs(Name).filter((name) => asked.has(name))
      if (askedNames.length === 0) unasked.push(Name)
      for (const name of askedNames) answered.set(name, Value)
    }
    for (const name of names) {
      if (answered.has(name)) values.set(name, answered.get(name))
      else failures.set(name, unansweredError(name, unasked))
    }
  }

  return {
    async getByNames(names, decrypt, signal) {
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
        ...chunksOf(names.filter((name) => !readOneByOne(name)), namesPerCall).map((batch) => call(batch, () => getBatch(batch, decrypt, signal, values, failures))),
        ...names.filter(readOneByOne).map((name) =>
          call([name], async () => {
            values.set(name, await getOne(name, decrypt, signal))
          }),
        ),
      ])
      return { values, failures }
    },
    // Not Powertools' getMultiple: it gathers the names into a plain object, where one named
    // `__proto__` is dropped, and its paginator refuses an SSMClient of another copy of the SDK.
    async getByPath(path, { decrypt, recursive, signal }) {
      const found: [string, string][] = []
      let nextToken: string | undefined
      do {
        const page = await client.send(new GetParametersByPathCommand({ Path: path, WithDecryption: decrypt, Recursive: recursive, NextToken: nextToken }), { abortSignal: signal })
        for (const { Name = '', Value } of page.Parameters ?? []) {
          if (!isUnder(path, Name)) {
            throw new CacheError(
              `middy-cache: SSM's answer to GetParametersByPath for path "${path}" holds parameter ${quotedKey(Name)}, which is not under it; no value of the path is served: ${renamedHint}`,
            )
          }
          if (Value !== undefined) found.push([relativeName(path, Name), Value])
        }
        nextToken = page.NextToken
      } while (nextToken !== undefined && nextToken !== '')
      return Object.fromEntries(found)
    },
  }
}
