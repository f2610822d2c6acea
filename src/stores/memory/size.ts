const bytesPerReference = 8

/**
 * Approximate bytes a value holds in memory: UTF-16 strings, 8-byte numbers and references, a
 * BigInt's digits, raw bytes for binary data (a view counts the whole buffer it keeps alive).
 * Shared and circular references count once. Never throws, whatever the value. Out of its sight,
 * so uncounted: what JavaScript cannot enumerate (`#private` fields, closures, symbol-keyed or
 * non-enumerable properties), the larger string a V8 substring may keep alive, and the empty
 * slots of an array.
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
        bytes += 8
        continue
      case 'bigint':
        // Its digits, which grow without bound: a huge one must not pass for a number under maxBytes.
        bytes += 8 + Math.ceil(item.toString(16).length / 2)
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
 * `size` and `byteLength` as the runtime's own getters read them: a subclass (of Blob, ArrayBuffer)
 * may override its getter with one that answers a string, NaN or a throw, and one such value would
 * make the sum NaN, which every bound compares false with: `l1.maxBytes` would hold no more.
 */
const intrinsicBytes =
  (prototype: object, name: string) =>
  (item: object): number => {
    // Read from the prototype with `item` as the receiver: the runtime's getter, not the subclass's.
    const bytes: unknown = Reflect.get(prototype, name, item)
    return typeof bytes === 'number' && bytes >= 0 && bytes < Number.POSITIVE_INFINITY ? bytes : bytesPerReference
  }
const blobBytes = intrinsicBytes(Blob.prototype, 'size')
const bufferBytes = intrinsicBytes(ArrayBuffer.prototype, 'byteLength')
const sharedBufferBytes = intrinsicBytes(SharedArrayBuffer.prototype, 'byteLength')

/**
 * The bytes of `item` itself, its members pushed onto `pending`. A getter or a proxy trap that
 * throws leaves what it guards counted as one reference: sizing never fails a load. Collections
 * count the members they yield, never their own `size` or `length`, which a subclass or a proxy
 * may answer with anything.
 */
const sizeOfObject = (item: object, pending: unknown[]): number => {
  let bytes = 0
  try {
    if (ArrayBuffer.isView(item)) {
      // A view keeps its whole buffer alive (a 10-byte slice of a 100 MB download, a small Buffer
      // of Node's 8 KB pool): the buffer is what counts, once however many views share it.
      pending.push(item.buffer)
    } else if (item instanceof ArrayBuffer) {
      bytes += bufferBytes(item)
    } else if (item instanceof SharedArrayBuffer) {
      bytes += sharedBufferBytes(item)
    } else if (item instanceof Blob) {
      bytes += blobBytes(item)
    } else if (item instanceof Map) {
      for (const [key, entry] of item) {
        pending.push(key, entry)
        bytes += 2 * bytesPerReference
      }
    } else if (item instanceof Set || Array.isArray(item)) {
      // An array's members, not every index up to its length: a sparse one (rows kept by numeric
      // id) holds a few members under a length of billions, which walking would take seconds over.
      for (const entry of Array.isArray(item) ? Object.values(item) : item) {
        pending.push(entry)
        bytes += bytesPerReference
      }
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
