import { CacheError, typeName } from './errors.js'

/** What a batch loader answers: values by key, or an array aligned with the keys it was given. */
export type BatchAnswer<V> = ReadonlyMap<string, V> | readonly (V | undefined)[]

/** The error for a `loadMany` of cache `cache` that answered, or did, what it may not: `loadMany of cache "products" <fault>`. */
export const loadManyError = (cache: string, fault: string): CacheError => new CacheError(`middy-cache: loadMany of cache "${cache}" ${fault}`)

/**
 * A Map keyed by anything but strings can hold none of the keys: keyed by the numeric ids of rows a
 * driver left untyped, say, which no type check stops. Read as it is, every key would be "not found".
 */
const refuseKeysOtherThanStrings = (cache: string, answer: ReadonlyMap<unknown, unknown>): void => {
  for (const key of answer.keys()) {
    if (typeof key !== 'string') {
      throw loadManyError(cache, `answered a Map with a key of type ${typeName(key)}: its keys must be the string keys it was given`)
    }
  }
}

/**
 * The values a batch answer holds for `keys`, in their order; a key a Map leaves out is "not found".
 * An array must hold one value per key: one of another length (only the rows found, say) is not
 * aligned, and read by position it would give keys each other's values.
 */
export const valuesOfBatch = <V>(cache: string, answer: BatchAnswer<V>, keys: readonly string[]): readonly V[] => {
  if (answer instanceof Map) {
    refuseKeysOtherThanStrings(cache, answer)
    return keys.map((key) => (answer as ReadonlyMap<string, V>).get(key) as V)
  }
  if (!Array.isArray(answer)) throw loadManyError(cache, 'must return a Map or an array aligned with the keys')
  if (answer.length !== keys.length) {
    throw loadManyError(
      cache,
      `answered ${answer.length} values for ${keys.length} keys: an array must hold one value per key, in their order (undefined for "not found"); or answer a Map by key`,
    )
  }
  return answer as readonly V[]
}

const namedBesideAtMost = 3

/**
 * How a load error names `key` when the `loadMany` call for `keys` failed: with the others the
 * loader was given together with it, since the source's own message (access denied on one
 * resource, say) may be about any of them.
 */
export const batchSubject = (key: string, keys: readonly string[], describe: (key: string) => string): string => {
  const others = keys.filter((other) => other !== key)
  if (others.length === 0) return describe(key)
  const named = others.slice(0, namedBesideAtMost).map(describe).join(', ')
  const more = others.length > namedBesideAtMost ? ` and ${others.length - namedBesideAtMost} more` : ''
  return `${describe(key)}, loaded together with ${named}${more},`
}
