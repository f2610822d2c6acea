import type { AttributeValue } from '@aws-sdk/client-dynamodb'

/** A key attribute's value as callers write it. */
export type KeyValue = string | number | Uint8Array

/** Whether `value` is a key attribute's value of a type DynamoDB keys have. */
export const isKeyValue = (value: unknown): value is KeyValue => typeof value === 'string' || typeof value === 'number' || value instanceof Uint8Array

/** DynamoDB's longest partition key value, in bytes (a sort key's is 1,024). */
const longestKeyBytes = 2_048

/** Whether some item can hold `value` in a key attribute: none holds an empty or oversized string or bytes, nor a number that is not finite. */
export const canBeKey = (value: KeyValue): boolean => {
  if (typeof value === 'number') return Number.isFinite(value)
  const bytes = typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength
  return bytes > 0 && bytes <= longestKeyBytes
}

export const toKeyAttribute = (value: KeyValue): AttributeValue => {
  if (typeof value === 'string') return { S: value }
  if (typeof value === 'number') return { N: String(value) }
  return { B: value }
}

/**
 * A DynamoDB attribute as a plain value: S string, N number (beyond 2^53 precision is lost), BOOL,
 * NULL null, B bytes, M object, L array; string, number and binary sets become arrays, so that
 * the value can also travel through a shared tier as JSON.
 */
export const fromAttribute = (value: AttributeValue): unknown => {
  if (value.S !== undefined) return value.S
  if (value.N !== undefined) return Number(value.N)
  if (value.BOOL !== undefined) return value.BOOL
  if (value.NULL !== undefined) return null
  if (value.B !== undefined) return value.B
  if (value.M !== undefined) return fromAttributes(value.M)
  if (value.L !== undefined) return value.L.map(fromAttribute)
  if (value.SS !== undefined) return [...value.SS]
  if (value.NS !== undefined) return value.NS.map(Number)
  if (value.BS !== undefined) return [...value.BS]
  return undefined
}

/**
 * An item (or map) as a plain object. Its attributes become own properties whatever their names: an
 * attribute named `__proto__` (any string is a valid attribute name) stays data, never a prototype.
 */
export const fromAttributes = (item: Readonly<Record<string, AttributeValue>>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(item).map(([name, value]) => [name, fromAttribute(value)]))
