import type { MiddlewareObj, Request } from '@middy/core'
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda'
import { createCache, type Cache, type FreshValue } from '../src/cache/cache.js'
import { callOptionsError, freshnessCall, InvocationOptions } from '../src/cache/call-options.js'
import type { Duration } from '../src/cache/duration.js'
import { valuesOfBatch } from '../src/cache/batch.js'
import { CacheError, CacheOptionsError, keyTypeError, mustBe, printable, typeName } from '../src/cache/errors.js'
import type { Frozen } from '../src/cache/freeze.js'
import type { BatchLoadContext, CacheOptions, EntryFreshness, FreshnessOptions, L1Options, LoadContext, Logger } from '../src/cache/options.js'
import { storeApart } from '../src/cache/namespace.js'
import { dropRejection, givenOptions, isThenable, optionalFunction, rejectUnknownOptions } from '../src/cache/options.js'
import { Outcome, Tier, type Lookup } from '../src/cache/outcome.js'
import { CacheKind, registerCache } from '../src/cache/registry.js'
import type { CacheScope } from '../src/cache/scope.js'
import type { L2Store } from '../src/stores/l2-store.js'
import { isRecord, refuseReservedName, requireRecord, type ContextName } from './shared/cache-options.js'
import { claimDataCacheName, countInvocationsIfNameShared, occupiedError, type ContextOwner, type DataCacheName } from './shared/context-names.js'
import { endInvocation, enterInvocation, readingBefore, resolveSettleBudget, settleOnEarlyReturn } from './shared/invocation.js'
import { describePrincipalKey, keyWithoutPrincipal, principalKey, principalOf, splitPrincipalKey } from './shared/principal.js'

/** Whose values a data cache holds. */
export const DataScope = {
  /** One value per key for every caller. */
  Shared: 'shared',
  /** One value per key and caller: keys carry the caller's identity from the event. */
  Principal: 'principal',
} as const
export type DataScope = (typeof DataScope)[keyof typeof DataScope]

export interface DataLoadContext extends LoadContext {
  /** With `scope: 'principal'`, the caller the value is loaded for; undefined with `scope: 'shared'`. */
  readonly principal: string | undefined
}

export interface DataBatchLoadContext extends BatchLoadContext {
  readonly principal: string | undefined
}

/** Loads one key; undefined means "not found" (remembered for `negativeTtl`). */
export type DataLoader<V> = (key: string, context: DataLoadContext) => V | undefined | PromiseLike<V | undefined>

/** Loads many keys in one call: a Map by key, or an array aligned with `keys`. */
export type DataBatchLoader<V> = (
  keys: readonly string[],
  context: DataBatchLoadContext,
) => PromiseLike<ReadonlyMap<string, V | undefined> | readonly (V | undefined)[]>

/**
 * What the handler finds at `context.caches[name]`: the cache, bound to this invocation (and its
 * caller, with `scope: 'principal'`). Its methods are called on it: one taken off it
 * (`ids.map(handle.get)`) throws a TypeError, as binding them would cost every invocation. The
 * values it gives are the ones the cache shares, frozen however deep (see `Frozen`); with
 * `scope: 'principal'` and no caller, loaded for this request alone, they are not frozen, but
 * typed alike, as what a handler does with them must hold for a caller too.
 */
export interface DataCacheHandle<V> {
  get(key: string): Promise<Frozen<V> | undefined>
  /** Values in the order asked; the misses load in one batch when the loader has `loadMany`. */
  getMany(keys: readonly string[]): Promise<(Frozen<V> | undefined)[]>
  /** Like `get`, and tells how the value was obtained (outcome and tier). */
  lookup(key: string): Promise<Lookup<Frozen<V> | undefined>>
  set(key: string, value: V, freshness?: EntryFreshness): Promise<void>
  delete(key: string): Promise<boolean>
  /** Empties the whole cache (every caller's values), in L2 too. */
  clear(): Promise<void>
}

/** The events a `key` function reads when its parameter is not annotated. */
export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2

export interface DataCacheOptions<N extends string, V, E> extends FreshnessOptions {
  /** The cache's name: in metrics, in L2 keys, and its property on the context (not one the context already has). */
  readonly name: ContextName<N>
  /** The key this event needs, loaded before the handler onto `context[name]`; undefined: this event is not cached. */
  readonly key?: (event: E, context: Context) => string | undefined
  readonly load: DataLoader<V> & { readonly loadMany?: DataBatchLoader<V> }
  /** Loads the misses of `getMany` in one call. Default: the loader's own `loadMany` (the ready loaders have one). */
  readonly loadMany?: DataBatchLoader<V>
  readonly l1?: L1Options
  readonly l2?: L2Store
  /** 'shared' (default) or 'principal': per-caller values, keyed by the caller identity in the event. */
  readonly scope?: DataScope
  /** With `scope: 'principal'`, finds the caller instead of the API Gateway authorizer fields. */
  readonly principal?: (event: E, context: Context) => string | undefined
  /** How long `after`/`onError` wait for refreshes still running beside the handler. Default '100ms'. */
  readonly settleBudget?: Duration
  readonly logger?: Logger
}

/** What a lazy data cache adds to the context. */
export type DataCacheLazyContext<N extends string, V> = { readonly caches: { readonly [K in N]: DataCacheHandle<V> } }
/**
 * What an eager data cache (with `key`) adds to the context: its value as the engine shares it,
 * frozen however deep (see `freezeShared`), so a handler that would change it in place fails to compile.
 */
export type DataCacheContext<N extends string, V> = DataCacheLazyContext<N, V> & { readonly [K in N]: Frozen<V> | undefined }

const engineOptionNames = ['ttl', 'staleWhileRevalidate', 'staleIfError', 'negativeTtl', 'jitter', 'timeout', 'retryAfterError', 'l1', 'l2', 'logger'] as const
/** Follows the name of a per-principal cache in its shared tier's keys; no cache name has a '~'. */
const principalNamespace = '~principal'

const optionNames = [...engineOptionNames, 'name', 'key', 'load', 'loadMany', 'scope', 'principal', 'settleBudget'] as const
const isArray = (value: unknown): value is readonly unknown[] => Array.isArray(value)

/**
 * How the error for a `key` or `principal` function's answer that is no string names it: 'a promise'
 * for an async function's, whose rejection is then handled, since nobody will await it (left
 * unhandled, it would end the invocation with Runtime.UnhandledPromiseRejection); else `describe`'s.
 */
const refusedAnswer = (answer: unknown, describe: (answer: unknown) => string): string => {
  if (!isThenable(answer)) return describe(answer)
  dropRejection(answer)
  return 'a promise'
}

/** The engine's loaders over the user's: with principal scope, keys arrive scoped and the loader gets the bare key and the principal. */
const engineLoaders = <V>(name: string, byPrincipal: boolean, load: DataLoader<V>, loadMany: DataBatchLoader<V> | undefined): Pick<CacheOptions<V | undefined>, 'load' | 'loadMany'> => {
  if (!byPrincipal) {
    return {
      load: (key, context) => load(key, { ...context, principal: undefined }),
      ...(loadMany === undefined ? {} : { loadMany: (keys, context) => loadMany(keys, { ...context, principal: undefined }) }),
    }
  }
  const loadScoped = (scopedKey: string, context: LoadContext): V | undefined | PromiseLike<V | undefined> => {
    const { principal, key } = splitPrincipalKey(scopedKey)
    return load(key, { ...context, principal })
  }
  if (loadMany === undefined) return { load: loadScoped }
  return {
    load: loadScoped,
    // One call per principal: a batch never mixes callers.
    loadMany: async (scopedKeys, context) => {
      const groups = new Map<string | undefined, { keys: string[]; scopedKeys: string[] }>()
      for (const scopedKey of scopedKeys) {
        const { principal, key } = splitPrincipalKey(scopedKey)
        const group = groups.get(principal) ?? { keys: [], scopedKeys: [] }
        group.keys.push(key)
        group.scopedKeys.push(scopedKey)
        groups.set(principal, group)
      }
      const values = new Map<string, V | undefined>()
      await Promise.all(
        [...groups].map(async ([principal, group]) => {
          const answer = await loadMany(group.keys, {
            signal: context.signal,
            setFreshness: (freshness, key) => { context.setFreshness(freshness, principalKey(principal, key)) },
            fail: (key, error) => { context.fail(principalKey(principal, key), error) },
            principal,
          })
          const loaded = valuesOfBatch(name, answer, group.keys)
          group.scopedKeys.forEach((scopedKey, index) => values.set(scopedKey, loaded[index]))
        }),
      )
      return values
    },
  }
}

const keysError = (cache: string): CacheError => new CacheError(`middy-cache: cache "${cache}" getMany needs an array of string keys`)

const areKeys = (keys: unknown): keys is readonly string[] => isArray(keys) && keys.every((key) => typeof key === 'string')

/**
 * Why a handle's `set` cannot store: a key that is no string, or freshness the engine would refuse.
 * Checked before the handle's scope joins the freshness, as a `scope` of the caller's own is none,
 * and whether or not the value is stored (a caller with no principal stores nothing): a mistake
 * shows on the first call, not on the first one with a caller.
 */
const writeError = (cache: string, key: unknown, freshness: unknown): CacheError | undefined => {
  if (typeof key !== 'string') return keyTypeError(cache, key)
  return freshness === undefined ? undefined : callOptionsError(freshness, freshnessCall)
}

/**
 * The handle for one invocation: the cache with this invocation's scope, and its caller when values
 * are per principal. One object per invocation, its methods on the prototype.
 */
class CachedHandle<V> implements DataCacheHandle<V> {
  readonly #cache: Cache<V | undefined>
  readonly #scope: CacheScope
  readonly #options: InvocationOptions
  readonly #byPrincipal: boolean
  readonly #principal: string | undefined

  /** The name of the cache behind `value` when it is a handle of this kind. */
  static cacheNameOf(value: object): string | undefined {
    return #cache in value ? value.#cache.name : undefined
  }

  constructor(cache: Cache<V | undefined>, scope: CacheScope, byPrincipal: boolean, principal: string | undefined) {
    this.#cache = cache
    this.#scope = scope
    this.#options = new InvocationOptions(scope)
    this.#byPrincipal = byPrincipal
    this.#principal = principal
  }

  get(key: string): Promise<Frozen<V> | undefined> {
    if (typeof key !== 'string') return Promise.reject(keyTypeError(this.#cache.name, key))
    return this.#cache.get(this.#keyOf(key), this.#options)
  }

  /** For the middleware's own read of the event's key: the value at once when it is fresh in memory. */
  getIfFresh(key: string, now: number): FreshValue<Frozen<V> | undefined> | undefined {
    return this.#cache.getIfFresh(this.#keyOf(key), this.#scope, now)
  }

  getMany(keys: readonly string[]): Promise<(Frozen<V> | undefined)[]> {
    if (!areKeys(keys)) return Promise.reject(keysError(this.#cache.name))
    return this.#cache.getMany(this.#byPrincipal ? keys.map((key) => this.#keyOf(key)) : keys, this.#options)
  }

  lookup(key: string): Promise<Lookup<Frozen<V> | undefined>> {
    if (typeof key !== 'string') return Promise.reject(keyTypeError(this.#cache.name, key))
    return this.#cache.lookup(this.#keyOf(key), this.#options)
  }

  set(key: string, value: V, freshness?: EntryFreshness): Promise<void> {
    const refused = writeError(this.#cache.name, key, freshness)
    if (refused !== undefined) return Promise.reject(refused)
    return this.#cache.set(this.#keyOf(key), value, { ...freshness, scope: this.#options.scope })
  }

  delete(key: string): Promise<boolean> {
    if (typeof key !== 'string') return Promise.reject(keyTypeError(this.#cache.name, key))
    return this.#cache.delete(this.#keyOf(key), this.#options)
  }

  clear(): Promise<void> {
    return this.#cache.clear(this.#options)
  }

  #keyOf(key: string): string {
    return this.#byPrincipal ? principalKey(this.#principal, key) : key
  }
}

/** Per-caller values and no caller: values are loaded for this request, never stored, nor served to another. */
class LoadOnlyHandle<V> implements DataCacheHandle<V> {
  readonly #cache: Cache<V | undefined>
  readonly #options: InvocationOptions

  /** The name of the cache behind `value` when it is a handle of this kind. */
  static cacheNameOf(value: object): string | undefined {
    return #cache in value ? value.#cache.name : undefined
  }

  constructor(cache: Cache<V | undefined>, scope: CacheScope) {
    this.#cache = cache
    this.#options = new InvocationOptions(scope)
  }

  // Not frozen, as nobody else reads them, but typed as the cached handle's are (see DataCacheHandle).
  get(key: string): Promise<Frozen<V> | undefined> {
    if (typeof key !== 'string') return Promise.reject(keyTypeError(this.#cache.name, key))
    return this.#cache.loadUncached(principalKey(undefined, key), this.#options) as Promise<Frozen<V> | undefined>
  }

  getMany(keys: readonly string[]): Promise<(Frozen<V> | undefined)[]> {
    if (!areKeys(keys)) return Promise.reject(keysError(this.#cache.name))
    return this.#cache.loadManyUncached(keys.map((key) => principalKey(undefined, key)), this.#options) as Promise<(Frozen<V> | undefined)[]>
  }

  async lookup(key: string): Promise<Lookup<Frozen<V> | undefined>> {
    return { value: await this.get(key), outcome: Outcome.Miss, tier: Tier.Source }
  }

  set(key: string, _value: V, freshness?: EntryFreshness): Promise<void> {
    const refused = writeError(this.#cache.name, key, freshness)
    return refused === undefined ? Promise.resolve() : Promise.reject(refused)
  }

  delete(key: string): Promise<boolean> {
    return typeof key === 'string' ? Promise.resolve(false) : Promise.reject(keyTypeError(this.#cache.name, key))
  }

  clear(): Promise<void> {
    return this.#cache.clear(this.#options)
  }
}

/**
 * Whether `caches` (the context's, before this cache's handle goes in) shows that the value under
 * `name` is one a dataCache of that name left there: the context was handed in again, as a test
 * may hand one to every invocation, and that value is this cache's to replace.
 */
const leftByNamesake = (caches: unknown, name: string): boolean => {
  const handle = isRecord(caches) ? caches[name] : undefined
  if (typeof handle !== 'object' || handle === null) return false
  return (CachedHandle.cacheNameOf(handle) ?? LoadOnlyHandle.cacheNameOf(handle)) === name
}

const resolveScope = (value: unknown): boolean => {
  if (value === undefined || value === DataScope.Shared) return false
  if (value === DataScope.Principal) return true
  throw mustBe('scope', "'shared' or 'principal'", value)
}

const resolveName = (value: unknown): string => {
  if (typeof value !== 'string') throw new CacheOptionsError('name', `is required: the cache's name in metrics, in L2 keys and on the context, such as 'products'; got ${printable(value)}`)
  refuseReservedName(value)
  return value
}

/**
 * Caches per-key data (products, profiles, prices) in the execution environment and, with `l2`, in
 * a tier every environment shares. With `key`, the event's value is loaded before the handler onto
 * `context[name]`; always, `context.caches[name]` serves the keys the handler finds itself.
 */
export function dataCache<const N extends string, V, E = ApiGatewayEvent>(
  options: DataCacheOptions<N, V, E> & { readonly key: (event: E, context: Context) => string | undefined },
): MiddlewareObj<E, unknown, Error, Context & DataCacheContext<N, V>>
export function dataCache<const N extends string, V, E = unknown>(options: DataCacheOptions<N, V, E>): MiddlewareObj<E, unknown, Error, Context & DataCacheLazyContext<N, V>>
export function dataCache<const N extends string, V, E>(options: DataCacheOptions<N, V, E>): MiddlewareObj<E, unknown, Error, Context & DataCacheContext<N, V>> {
  const raw = requireRecord('options', options, "{ name: 'products', key: (event) => event.pathParameters?.id, load: getProduct, ttl: '5m' }")
  rejectUnknownOptions(raw, optionNames)
  const name = resolveName(raw.name)
  if (typeof raw.load !== 'function') throw new CacheOptionsError('load', `is required: (key, { signal }) => the value, or undefined when there is none; got ${printable(raw.load)}`)
  for (const option of ['key', 'loadMany', 'principal'] as const) optionalFunction(option, raw[option])
  const { key, load, principal: principalFrom } = options
  optionalFunction('load.loadMany', load.loadMany)
  const loadMany = options.loadMany ?? load.loadMany
  const byPrincipal = resolveScope(raw.scope)
  if (principalFrom !== undefined && !byPrincipal) throw new CacheOptionsError('principal', "applies only with scope: 'principal'")
  const settleBudgetMs = resolveSettleBudget(raw.settleBudget)

  const engineOptions = givenOptions(raw, engineOptionNames)
  const cache = createCache<V | undefined>({
    ...(engineOptions as Omit<CacheOptions<V | undefined>, 'name' | 'load' | 'loadMany' | 'ttl'>),
    // Apart from a shared cache of this name on the same store: a shared key (a path parameter, say) could spell a caller's key.
    ...(byPrincipal && options.l2 !== undefined ? { l2: storeApart(options.l2, principalNamespace) } : {}),
    // Errors reach logs: they name the caller's key, never the caller.
    ...(byPrincipal ? { describeKey: describePrincipalKey, errorKey: keyWithoutPrincipal } : {}),
    ttl: options.ttl,
    name,
    ...engineLoaders(name, byPrincipal, load, loadMany),
  })
  registerCache({ cache: cache as Cache<unknown>, kind: CacheKind.Data, secret: false, scope: byPrincipal ? 'principal' : 'shared' })
  countInvocationsIfNameShared(name, CacheKind.Data)
  const owner: ContextOwner = { description: `dataCache ${JSON.stringify(name)}` }
  const claim: DataCacheName = { name, owner }

  /** Synchronous when the event's value is fresh in memory, the warm invocation's case: Middy then awaits nothing. */
  const before: MiddlewareObj<E, unknown, Error, Context & DataCacheContext<N, V>>['before'] = (request) => {
    const found: unknown = byPrincipal ? (principalFrom ?? principalOf)(request.event, request.context) : undefined
    if (found !== undefined && typeof found !== 'string') {
      throw new CacheError(`middy-cache: principal of cache "${name}" must return a string or undefined; got ${refusedAnswer(found, typeName)}`)
    }
    // An empty identity names nobody: it must not become one principal shared by every anonymous caller.
    const principal = found === '' ? undefined : found
    const invocation = enterInvocation(request)
    if (principal !== undefined) invocation.servesCaller = true
    const scope = invocation.scope
    const handle = byPrincipal && principal === undefined ? new LoadOnlyHandle(cache, scope) : new CachedHandle(cache, scope, byPrincipal, principal)
    const context = request.context as unknown as Record<string, unknown>
    const caches: unknown = context.caches
    const existing = context[name]
    claimDataCacheName(invocation, claim, existing)
    if (key !== undefined && existing !== undefined && !leftByNamesake(caches, name)) {
      throw occupiedError(owner, `context.${name}`, existing, 'which its value would replace')
    }
    context.caches = { ...(typeof caches === 'object' && caches !== null ? caches : {}), [name]: handle }
    if (key === undefined) return undefined
    const eventKey = key(request.event, request.context)
    if (eventKey !== undefined && typeof eventKey !== 'string') {
      throw new CacheError(`middy-cache: key of cache "${name}" must return a string, or undefined for an event that is not cached; got ${refusedAnswer(eventKey, printable)}`)
    }
    if (eventKey === undefined) {
      context[name] = undefined
      return undefined
    }
    const fresh = handle instanceof CachedHandle ? handle.getIfFresh(eventKey, readingBefore(invocation, cache.clock)) : undefined
    if (fresh !== undefined) {
      context[name] = fresh.value
      return undefined
    }
    invocation.waitedInBefore = true
    return handle.get(eventKey).then((value) => {
      context[name] = value
      settleOnEarlyReturn(request, settleBudgetMs)
    })
  }
  const settle = (request: Request): Promise<void> | undefined => endInvocation(request, settleBudgetMs)
  return { before, after: settle, onError: settle }
}
