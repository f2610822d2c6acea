/** Whether `value` is data as JSON writes it: a plain object or an array. */
const isPlainData = (value: unknown): value is object => {
  if (typeof value !== 'object' || value === null) return false
  if (Array.isArray(value)) return true
  const prototype: unknown = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/**
 * Freezes the plain objects and arrays `value` is made of, however deep, and returns it. A cached
 * value is shared by every later invocation and by concurrent ones: a handler that changed it in
 * place (a price, a flag set for one caller) would change what the others read. Anything else (a
 * class instance, a Map, bytes) is left as it is, since freezing could break its own workings;
 * so is an object that refuses to be frozen (a proxy). Getters are not called.
 */
export const freezeShared = <V>(value: V): V => {
  if (!isPlainData(value)) return value
  // Parts already frozen are walked too: `Object.freeze` (a loader's own, on a config object, say)
  // goes one level deep, and what such a part holds may still be open. Each part once, cycles included.
  const seen = new Set<object>()
  const open: object[] = [value]
  for (let next = open.pop(); next !== undefined; next = open.pop()) {
    if (seen.has(next)) continue
    seen.add(next)
    try {
      Object.freeze(next)
    } catch {
      continue
    }
    for (const name of Object.getOwnPropertyNames(next)) {
      const descriptor = Object.getOwnPropertyDescriptor(next, name)
      if (descriptor !== undefined && 'value' in descriptor && isPlainData(descriptor.value)) open.push(descriptor.value)
    }
  }
  return value
}

/**
 * `freezeShared` for what `JSON.parse` just made (an L2 payload, a snapshot record): nothing there
 * but plain objects, arrays and primitives, each part held once, no getter, no proxy, so the walk
 * needs no descriptors and no record of what it saw, which costs several times the freezing.
 */
export const freezeParsed = <V>(value: V): V => {
  // Bytes (a payload's "b") are no JSON part: left as they are, as freezeShared leaves them.
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value
  const open: object[] = [value]
  for (let next = open.pop(); next !== undefined; next = open.pop()) {
    Object.freeze(next)
    for (const part of Object.values(next) as unknown[]) if (typeof part === 'object' && part !== null) open.push(part)
  }
  return value
}
