const bytesPerReference = 8

/**
 * Approximate bytes a value holds in memory: UTF-16 strings, 8-byte numbers and references, raw
 * bytes for binary data. Shared and circular references count once. Never throws, whatever the value.
 */
export const estimateSize = (value: unknown): number => {
  const seen = new Set<object>()
  const pending: unknown[] = [value]
  let bytes = 0
  while (pending.length > 0) {
    const item = pending.pop()
    switch (typeof item) {
      case 'string':
        bytes += item.length * 2
        continue
      case 'number':
      case 'bigint':
        bytes += 8
        continue
      case 'boolean':
        bytes += 4
        continue
      case 'object':
        break
      default:
        continue
    }
    if (item === null || seen.has(item)) continue
    seen.add(item)
    bytes += sizeOfObject(item, pending)
  }
  return bytes
}

/**
 * The bytes of `item` itself, its members pushed onto `pending`. A getter or a proxy trap that
 * throws leaves what it guards counted as one reference: sizing never fails a load.
 */
const sizeOfObject = (item: object, pending: unknown[]): number => {
  let bytes = 0
  try {
      if (ArrayBuffer.isView(item) || item instanceof ArrayBuffer) {
        bytes += item.byteLength
      } else if (item instanceof Map) {
        for (const [key, entry] of item) pending.push(key, entry)
        bytes += item.size * 2 * bytesPerReference
      } else if (item instanceof Set) {
        for (const entry of item) pending.push(entry)
        bytes += item.size * bytesPerReference
      } else if (Array.isArray(item)) {
        for (const entry of item) pending.push(entry)
        bytes += item.length * bytesPerReference
      } else if (item instanceof Date) {
        bytes += bytesPerReference
      } else {
        for (const key of Object.keys(item)) {
          bytes += key.length * 2 + bytesPerReference
          pending.push((item as Record<string, unknown>)[key])
        }
      }
  } catch {
    bytes += bytesPerReference
  }
  return bytes
}
