import type { MiddlewareObj, Request } from '@middy/core'
import { createCache, type Cache } from '../../src/cache/cache.js'
import { monotonicClock } from '../../src/cache/clock.js'
import { CacheError, quotedKey } from '../../src/cache/errors.js'
import { defaultMaxEntries, optionalBoolean, type CacheOptions, type L1Options } from '../../src/cache/options.js'
import { processWide } from '../../src/cache/process-state.js'
import { CacheKind, registerCache } from '../../src/cache/registry.js'
import type { CacheMiddlewareOptions } from './cache-options.js'
import { countInvocationsIfNameShared, holderRecord, mergeWith, ownOrigins, recordHolder, refuseDataCacheName, type ContextOwner, type HolderRecord } from './context-names.js'
import {
  endInvocation,
  enterInvocation,
  forgetUncountedReading,
  readingBefore,
  resolveSettleBudget,
  settleOnEarlyReturn,
  uncountedReading,
  uncountedReadingBy,
  type Invocation,
} from './invocation.js'

/** One property the middleware puts on its context object, and the cache key behind it. */
export interface ContextEntry {
  readonly property: string
  readonly key: string
  readonly optional: boolean
  /** Names the value in errors, e.g. `parameter "/shop/table"`. */
  readonly label: string
}

/** Where a value lands, as errors name it: `context.config.table`. */
export const contextPath = (contextName: string, property: string): string => `context.${contextName}.${property}`

/**
 * Names a cache key in load and timeout errors by what it holds and where it lands, as in
 * `parameter "/shop/table" (context.config.table)`, rather than by the cache's internal key.
 */
const describeEntryKeys = (contextName: string, entries: readonly ContextEntry[]): ((key: string) => string) => {
  const targets = new Map<string, { readonly label: string; readonly properties: string[] }>()
  for (const entry of entries) {
    const target = targets.get(entry.key)
    if (target === undefined) targets.set(entry.key, { label: entry.label, properties: [entry.property] })
    else target.properties.push(entry.property)
  }
  const descriptions = new Map([...targets].map(([key, { label, properties }]) => [key, `${label} (${properties.map((property) => contextPath(contextName, property)).join(', ')})`]))
  return (key) => descriptions.get(key) ?? quotedKey(key)
}

export interface ContextValuesOptions {
  /** The middleware, as errors name it: `configCache`. */
  readonly middleware: string
  readonly cache: Cache<unknown>
  /** The context property the values land on. */
  readonly contextName: string
  readonly entries: readonly ContextEntry[]
  readonly prefetch: boolean
  readonly settleBudgetMs: number
  /**
   * The object the values are written into, holding the properties of what the context already had
   * under that name (secrets, and decrypted parameters, make one that never shows those values in logs).
   */
  readonly holderFor: (existing: unknown) => Record<string, unknown>
  /**
   * Asked for the handler's error before background work is settled: true drops every cached value
   * (secrets after a rotation, say). Only when the values are on the context: an error raised before
   * the middleware put them there (a caller's token refused by a middleware before it) came of none.
   */
  readonly clearOn?: (error: unknown) => boolean
}

type LambdaContextRecord = Record<string, unknown>

/** Reads and writes one property of the Lambda context. */
interface ContextProperty {
  read(context: LambdaContextRecord): unknown
  write(context: LambdaContextRecord, value: unknown): void
}

/**
 * The default names of configCache and secretsCache, each read and written at code of its own: at
 * code shared by every instance, V8 sees several names and looks each one up the generic
 * (megamorphic) way, about 5% of a warm invocation for the pair (`npm run bench -- warm`).
 */
const defaultNameProperties: Readonly<Record<string, ContextProperty>> = {
  config: {
    read: (context) => context.config,
    write: (context, value) => {
      context.config = value
    },
  },
  secrets: {
    read: (context) => context.secrets,
    write: (context, value) => {
      context.secrets = value
    },
  },
}

const contextProperty = (name: string): ContextProperty =>
  Object.hasOwn(defaultNameProperties, name)
    ? (defaultNameProperties[name] as ContextProperty)
    : {
        read: (context) => context[name],
        write: (context, value) => {
          context[name] = value
        },
      }

const isBytes = (value: unknown): value is Uint8Array => value instanceof Uint8Array

/**
 * What an invocation is handed of a cached value: bytes (a SecretBinary) as a copy of its own, since
 * JavaScript cannot freeze them as the engine freezes objects and arrays. A handler that zeroes a
 * key after use then changes neither the cached bytes nor those of an invocation running at once.
 */
const handedOver = (value: unknown): unknown => (isBytes(value) ? value.slice() : value)

const sameValues = (a: readonly unknown[], b: readonly unknown[]): boolean => {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let index = 0; index < a.length; index++) if (!Object.is(a[index], b[index])) return false
  return true
}

/**
 * A bit that tells the invocations a configCache or secretsCache served (the first 30 made in the
 * process; the others get 0 and serve every request), kept in a small integer the warm path sets
 * for nothing. See `servedBefore`.
 */
const servingBits = processWide('servingBits', () => ({ made: 0 }))
const maxServingBits = 30
const servingBit = (): number => {
  const index = servingBits.made++
  return index < maxServingBits ? 1 << index : 0
}

/**
 * Whether the middleware with `bit` already put its values on this invocation's context (in an
 * enclosing request: the same list of middlewares on a router and its routes); marks it as done.
 */
const servedBefore = (invocation: Invocation, bit: number): boolean => {
  if ((invocation.served & bit) !== 0) return true
  invocation.served |= bit
  return false
}

/**
 * The `before`/`after`/`onError` shared by configCache and secretsCache: every value loaded (or
 * served) in one `getMany` before the handler, refreshes settled after it within a budget.
 */
export const contextValuesMiddleware = (options: ContextValuesOptions): MiddlewareObj => {
  const { middleware, cache, contextName, entries, prefetch, settleBudgetMs, holderFor, clearOn } = options
  const property = contextProperty(contextName)
  const owner: ContextOwner = { description: `${middleware} ${JSON.stringify(contextName)}` }
  const origins = ownOrigins(owner, new Map(entries.map((entry) => [entry.property, entry.label])))
  const ownRecord: HolderRecord = { placedBy: owner, owners: [owner], origins }
  // Frozen: the cache answers a frozen array of keys asked again from its last read.
  const keys = Object.freeze(entries.map((entry) => entry.key))
  // During INIT, waited for by nobody: the first invocation joins these loads. One a freeze left
  // hanging is abandoned once replaced; a failure is only a head start lost.
  if (prefetch) cache.prefetch(keys)

  const holderOf = (existing: unknown, loaded: readonly unknown[]): Readonly<Record<string, unknown>> => {
    const values = holderFor(existing)
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index] as ContextEntry
      const value = loaded[index]
      if (value === undefined && !entry.optional) {
        throw new CacheError(`middy-cache: ${entry.label} for ${contextPath(contextName, entry.property)} was not found`)
      }
      values[entry.property] = handedOver(value)
    }
    return Object.freeze(values)
  }

  // The holder last built from the values alone, and those values: frozen, so invocations may share
  // it until a value changes, and a warm invocation builds nothing. Concurrent invocations only read it.
  // One that holds bytes is built for each invocation, each with copies of its own (see `handedOver`).
  let lastHolder: Readonly<Record<string, unknown>> | undefined
  let lastLoaded: readonly unknown[] = []
  let lastHoldsBytes = false

  const placeAlone = (context: LambdaContextRecord, loaded: readonly unknown[]): void => {
    if (lastHolder === undefined || lastHoldsBytes || !sameValues(lastLoaded, loaded)) {
      lastHolder = holderOf(undefined, loaded)
      lastHoldsBytes = loaded.some(isBytes)
      recordHolder(lastHolder, ownRecord)
    }
    // Kept even when equal: the cache hands back the very same array while its values hold, so the
    // next comparison is one identity check.
    lastLoaded = loaded
    property.write(context, lastHolder)
  }

  const placeOnContext = (request: Request, invocation: Invocation, loaded: readonly unknown[]): void => {
    const context = request.context as unknown as LambdaContextRecord
    const existing = property.read(context)
    // The warm path of a chain without a dataCache before this middleware: nothing to look up.
    if (existing === undefined && invocation.firstDataCacheName === undefined) {
      placeAlone(context, loaded)
      return
    }
    refuseDataCacheName(invocation, contextName, owner)
    // What this middleware put there itself, on a context handed in again, is not merged again.
    if (existing === undefined || holderRecord(existing)?.placedBy === owner) {
      placeAlone(context, loaded)
      return
    }
    // Another holder of the suite's values under this name, or an object something else put there: kept, with ours beside.
    const { kept, record } = mergeWith(existing, owner, origins, `context.${contextName}`)
    const merged = holderOf(kept, loaded)
    recordHolder(merged, record)
    property.write(context, merged)
  }

  const bit = servingBit()
  const clock = cache.clock
  // Chosen here, once: only a cache over the monotonic clock may take the reading its request shares.
  const readUncounted = clock === monotonicClock ? uncountedReading : (request: Request): number | undefined => uncountedReadingBy(request, clock)

  /**
   * The warm invocation no one counts (see `uncountedReading`): every value fresh in memory and the
   * context holding nothing of another under this name. Places them and says so; leaves everything
   * else to `putValuesOnContext`. A nested request (this middleware on a router and on its routes)
   * places the same frozen holder again.
   */
  const placedUncounted = (request: Request): boolean => {
    const now = readUncounted(request)
    if (now === undefined) return false
    const context = request.context as unknown as LambdaContextRecord
    const existing = property.read(context)
    if (existing !== undefined && existing !== lastHolder) return false
    // The holder as it is while the cache's answer it was built from holds: nothing to compare.
    if (lastHolder !== undefined && !lastHoldsBytes && cache.stillFresh(lastLoaded, now)) {
      property.write(context, lastHolder)
      return true
    }
    const fresh = cache.getManyIfFresh(keys, undefined, now)
    if (fresh === undefined) return false
    placeAlone(context, fresh)
    return true
  }

  /** Synchronous when every value is fresh in memory, the warm invocation's case: Middy then awaits nothing. */
  const putValuesOnContext = (request: Request): Promise<void> | undefined => {
    if (placedUncounted(request)) return undefined
    const invocation = enterInvocation(request)
    // A nested request (this middleware on a router and on its routes) finds them on the context it shares.
    if (servedBefore(invocation, bit)) return undefined
    const scope = invocation.scope
    const fresh = cache.getManyIfFresh(keys, scope, readingBefore(invocation, cache.clock))
    if (fresh !== undefined) {
      placeOnContext(request, invocation, fresh)
      return undefined
    }
    invocation.waitedInBefore = true
    return cache.getMany(keys, { scope }).then((loaded) => {
      placeOnContext(request, invocation, loaded)
      settleOnEarlyReturn(request, settleBudgetMs)
    })
  }

  const settleRefreshes = (request: Request): Promise<void> | undefined => {
    forgetUncountedReading(request)
    return endInvocation(request, settleBudgetMs)
  }

  /** Whether this middleware's values are on the context, alone or merged with others under its name. */
  const servedTo = (request: Request): boolean => holderRecord(property.read(request.context as unknown as LambdaContextRecord))?.owners.includes(owner) === true

  const settleAfterError = (request: Request): Promise<void> | undefined => {
    if (clearOn !== undefined && servedTo(request) && clearOn(request.error)) void cache.clear()
    return settleRefreshes(request)
  }

  return { before: putValuesOnContext, after: settleRefreshes, onError: settleAfterError }
}

/** What configCache and secretsCache make their cache and their middleware of. */
export interface ValuesCacheOptions extends Pick<ContextValuesOptions, 'entries' | 'holderFor' | 'clearOn'> {
  readonly middleware: 'configCache' | 'secretsCache'
  readonly kind: typeof CacheKind.Config | typeof CacheKind.Secrets
  /** The middleware's options, checked: the cache's `name` (else `defaultName`), `prefetch` and `settleBudget` are read here. */
  readonly options: CacheMiddlewareOptions<string>
  readonly defaultName: string
  /** The rest of the engine's options: freshness, loaders, logger. */
  readonly engine: Omit<CacheOptions<unknown>, 'name' | 'describeKey' | 'l1'>
}

/**
 * The memory of a cache that holds only the values it names (configCache and secretsCache take no
 * `l1`): room for every one, however many and however large. Under the engine's default bounds,
 * the values past them would be evicted as the others are stored, and loaded again by every invocation.
 */
const roomForAll = (entries: readonly ContextEntry[]): L1Options => ({
  maxEntries: Math.max(defaultMaxEntries, new Set(entries.map((entry) => entry.key)).size),
  maxBytes: Number.MAX_SAFE_INTEGER,
})

/**
 * The cache of configCache or secretsCache, registered for warmup, metrics and snapshots to find,
 * and the middleware that puts its values on the context. `prefetch` and `settleBudget` are checked
 * before the cache is registered: a construction that fails leaves nothing for warmup or a snapshot to find.
 */
export const valuesCacheMiddleware = ({ kind, options, defaultName, engine, ...contextValues }: ValuesCacheOptions): MiddlewareObj => {
  const prefetch = optionalBoolean('prefetch', options.prefetch, true)
  const settleBudgetMs = resolveSettleBudget(options.settleBudget)
  const contextName = options.name === undefined ? defaultName : options.name
  const cache = createCache<unknown>({ ...engine, name: contextName, l1: roomForAll(contextValues.entries), describeKey: describeEntryKeys(contextName, contextValues.entries) })
  registerCache({ cache, kind, secret: kind === CacheKind.Secrets })
  countInvocationsIfNameShared(cache.name, kind)
  return contextValuesMiddleware({ ...contextValues, cache, contextName: cache.name, prefetch, settleBudgetMs })
}
