import { CacheError, kindOf } from '../../src/cache/errors.js'
import { hasPlainPrototype } from '../../src/cache/freeze.js'
import { processWide } from '../../src/cache/process-state.js'
import { CacheKind, registeredCaches } from '../../src/cache/registry.js'
import { readInvocationCounts, type Invocation } from './invocation.js'
import { isRedacted } from './redacted.js'

/**
 * A middleware of this suite that puts values on the context, as errors name it:
 * `configCache "config"`. One object per middleware: two instances of one name are two owners.
 */
export interface ContextOwner {
  readonly description: string
}

/** Who put one property of a holder on the context. */
export interface PropertyOrigin {
  /** Undefined: something other than this suite's caches. */
  readonly owner: ContextOwner | undefined
  /** As errors name it: `configCache "config" (parameter "/shop/table")`. */
  readonly description: string
}

/** What the suite knows of an object it put on a context to hold configCache's or secretsCache's values. */
export interface HolderRecord {
  /** The middleware that put the holder there. */
  readonly placedBy: ContextOwner
  /** Every middleware of the suite whose values it holds. */
  readonly owners: readonly ContextOwner[]
  readonly origins: ReadonlyMap<string, PropertyOrigin>
}

const elsewhere = "something other than this suite's caches (another middleware, or the context the function was invoked with)"

// Shared by every copy of the package in the process: a copy that merges into a holder another
// made knows whose values it holds.
const holders = processWide('contextHolders', () => new WeakMap<object, HolderRecord>())

export const recordHolder = (holder: object, record: HolderRecord): void => {
  holders.set(holder, record)
}

/** The record of `value` when it is a holder the suite put on a context. */
export const holderRecord = (value: unknown): HolderRecord | undefined => (typeof value === 'object' && value !== null ? holders.get(value) : undefined)

/** The origins of the properties of a holder that a middleware (`owner`) made alone. */
export const ownOrigins = (owner: ContextOwner, labels: ReadonlyMap<string, string>): ReadonlyMap<string, PropertyOrigin> =>
  new Map([...labels].map(([property, label]) => [property, { owner, description: `${owner.description} (${label})` }]))

/** A value as errors about the context name it: its kind (an object made by a class told apart from a plain one), never its contents (it may be a secret). */
const kindHeld = (value: unknown): string => (typeof value === 'object' && value !== null && !Array.isArray(value) && !hasPlainPrototype(value) ? 'an instance of a class' : kindOf(value))

const listed = (descriptions: readonly string[]): string =>
  descriptions.length <= 2 ? descriptions.join(' and ') : `${descriptions.slice(0, -1).join(', ')} and ${descriptions.at(-1) ?? ''}`

/** Two caches of one chain that would each replace the other's values under one name. */
const nameCollision = (name: string, owners: readonly ContextOwner[]): CacheError =>
  new CacheError(
    `middy-cache: ${listed(owners.map((owner) => owner.description))} in one chain share the name ${JSON.stringify(name)}, which is each one's property on the context ` +
      `(context.${name}, or context.caches.${name} for a dataCache) and its cache in metrics: give one of them another name; only configCache and secretsCache ` +
      'instances share a name, to merge their values into one object',
  )

/** The error for a cache whose property on the context (`where`) already holds a value something else put there. */
export const occupiedError = (owner: ContextOwner, where: string, existing: unknown, why: string): CacheError =>
  new CacheError(`middy-cache: ${owner.description} cannot use ${where}: it already holds ${kindHeld(existing)} from ${elsewhere}, ${why}; give the cache another name`)

/** The name a dataCache takes on the context, made once with the cache: taking it allocates nothing. */
export interface DataCacheName {
  readonly name: string
  readonly owner: ContextOwner
}

/** The dataCache that took `name` in this invocation, if one did. */
const dataCacheNamed = (invocation: Invocation, name: string): ContextOwner | undefined => {
  const first = invocation.firstDataCacheName
  if (first === undefined) return undefined
  return first.name === name ? first.owner : invocation.moreDataCacheNames?.get(name)
}

/**
 * Takes `claim.name` for a dataCache (`claim.owner`) in this invocation: refused when another
 * dataCache of the chain took it, or when `existing` (the context's property of that name) holds a
 * configCache's or secretsCache's values. The same dataCache may take it again: a Middy handler
 * called from the handler joins its invocation (see `invocationOf`), and runs its middlewares once more.
 */
export const claimDataCacheName = (invocation: Invocation, claim: DataCacheName, existing: unknown): void => {
  const { name, owner } = claim
  const other = dataCacheNamed(invocation, name)
  if (other === owner) return
  if (other !== undefined) throw nameCollision(name, [other, owner])
  const holder = holderRecord(existing)
  if (holder !== undefined) throw nameCollision(name, [...holder.owners, owner])
  if (invocation.firstDataCacheName === undefined) invocation.firstDataCacheName = claim
  else (invocation.moreDataCacheNames ??= new Map<string, ContextOwner>()).set(name, owner)
}

/** For configCache and secretsCache: refuses a name a dataCache of the chain took in this invocation. */
export const refuseDataCacheName = (invocation: Invocation, name: string, owner: ContextOwner): void => {
  const other = dataCacheNamed(invocation, name)
  if (other !== undefined) throw nameCollision(name, [other, owner])
}

/**
 * Has every invocation counted in a state of its own once a dataCache and a configCache or
 * secretsCache (of `kind`) take `name` in the process, whichever was made first. In one chain they
 * are refused (`refuseDataCacheName`); a configCache on a route whose router's chain holds such a
 * dataCache that put nothing under the name learns of it only from the invocation's state, which a
 * warm invocation that counts nothing never joins: it would be refused only when it loads.
 */
export const countInvocationsIfNameShared = (name: string, kind: CacheKind): void => {
  const isData = kind === CacheKind.Data
  if (registeredCaches().some((other) => other.cache.name === name && (other.kind === CacheKind.Data) !== isData)) readInvocationCounts()
}

/** What a holder merging a middleware's values into what the context held is made of. */
export interface Merge {
  /** The properties to keep. */
  readonly kept: object
  /** The record of the holder made from them and the middleware's values. */
  readonly record: HolderRecord
}

/**
 * How the values of `owner` (whose properties are `origins`) merge with what the context already
 * holds at `where`, which `owner` did not put there: another holder of values of the suite, or a
 * plain object something else put there. Refuses anything else, whose value would be lost, and a
 * property that both hold, one of whose values would be.
 */
export const mergeWith = (existing: unknown, owner: ContextOwner, origins: ReadonlyMap<string, PropertyOrigin>, where: string): Merge => {
  const holder = holderRecord(existing)
  const kept = existing as object
  let base: Pick<HolderRecord, 'owners' | 'origins'>
  if (holder !== undefined) base = holder
  else if (typeof existing === 'object' && existing !== null && (hasPlainPrototype(existing) || isRedacted(existing))) {
    base = { owners: [], origins: new Map(Object.keys(existing).map((property) => [property, { owner: undefined, description: elsewhere }])) }
  } else {
    throw occupiedError(owner, where, existing, 'which holds no properties its values could be merged with')
  }
  for (const [property, origin] of origins) {
    const taken = base.origins.get(property)
    // A property of this very middleware's is its value of an earlier invocation, on a context the caller handed in again.
    if (taken !== undefined && taken.owner !== origin.owner) {
      throw new CacheError(`middy-cache: ${taken.description} and ${origin.description} both put a value on ${where}.${property}: give one of the two properties another name`)
    }
  }
  return {
    kept,
    record: { placedBy: owner, owners: [...base.owners.filter((other) => other !== owner), owner], origins: new Map([...base.origins, ...origins]) },
  }
}
