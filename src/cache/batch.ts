import { CacheError } from './errors.js'

/** What a batch loader answers: values by key, or an array aligned with the keys it was given. */
export type BatchAnswer<V> = ReadonlyMap<string, V> | readonly (V | undefined)[]

/** The value a batch answer holds for `key`, asked at `index`; a key left out is "not found". */
export const pickFromBatch = <V>(cache: string, answer: BatchAnswer<V>, key: string, index: number): V => {
  if (answer instanceof Map) return (answer as ReadonlyMap<string, V>).get(key) as V
  if (Array.isArray(answer)) return (answer as readonly V[])[index] as V
  throw new CacheError(`middy-cache: loadMany of cache "${cache}" must return a Map or an array aligned with the keys`)
}
