import { types } from 'node:util'

/** Whether `value` is an object made by `{}`, JSON.parse or Object.create(null), not by a class: its prototype is Object's, or none. */
export const hasPlainPrototype = (value: object): boolean => {
  const prototype: unknown = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/** Whether `value` is data as JSON writes it: a plain object or an array. */
const isPlainData = (value: unknown): value is object => typeof value === 'object' && value !== null && (Array.isArray(value) || hasPlainPrototype(value))

/** An array made by `[]`, `Array.from`, `JSON.parse` and the like: neither a subclass nor a proxy. */
const isOrdinaryArray = (part: object): part is readonly unknown[] =>
  Array.isArray(part) && !types.isProxy(part) && Object.getPrototypeOf(part) === Array.prototype

// Annex B of ECMAScript, which every server runtime implements, and which TypeScript's lib leaves out.
const lookupGetter = (Object.prototype as unknown as { readonly __lookupGetter__: (this: object, key: PropertyKey) => unknown }).__lookupGetter__

/**
 * How many more holes than members an array may show before it is taken for a sparse one (rows
 * kept by numeric id under a length of billions), whose members are then found by name.
 */
const sparseSlack = 1024

/**
 * Pushes onto `open` the plain data the elements of an ordinary `array` hold, and returns true; or
 * false, part way, once the array shows itself mostly holes. No name and no descriptor is made per
 * element: on an array of a million numbers (a lookup table loaded at INIT) those took a third of a
 * second, ten times this walk. An element is read only when it is a data property of its own, which
 * `__lookupGetter__` tells from an accessor with no descriptor made: no getter is called.
 */
const pushElements = (array: readonly unknown[], open: object[]): boolean => {
  let holes = 0
  for (let index = 0; index < array.length; index++) {
    if (!Object.hasOwn(array, index)) {
      holes++
      if (holes > index + 1 - holes + sparseSlack) return false
    } else if (lookupGetter.call(array, index) === undefined) {
      const element = array[index]
      if (isPlainData(element)) open.push(element)
    }
  }
  return true
}

/** What `freezeShared` leaves as it is, told by its type: a function, and objects with workings of their own. */
type LeftAsItIs = ((...args: never[]) => unknown) | Date | RegExp | ReadonlyMap<unknown, unknown> | ReadonlySet<unknown> | PromiseLike<unknown> | ArrayBufferLike | ArrayBufferView

/**
 * A value of type T as the caches hand it out (see `freezeShared`): every plain object and array
 * read-only, however deep. Readonly properties still pass where mutable ones are asked for;
 * read-only arrays do not, since what takes one may push to it, which would throw. What is not
 * frozen keeps its type: functions, Dates, Maps, Sets, bytes. An instance of a class of your own is
 * typed read-only too: no type tells it from plain data (one that tried, by its private members,
 * would stop a `Cache<Product>` from passing as a `Cache<unknown>`).
 */
export type Frozen<T> = T extends LeftAsItIs ? T : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T

/**
 * Freezes the plain objects and arrays `value` is made of, however deep, and returns it. A cached
 * value is shared by every later invocation and by concurrent ones: a handler that changed it in
 * place (a price, a flag set for one caller) would change what the others read. Anything else (a
 * class instance, a Map, bytes) is left as it is, since freezing could break its own workings;
 * so is an object that refuses to be frozen (a proxy). Getters are not called. An ordinary array is
 * walked by its elements alone: a property set on one beside them (a RegExp match's `groups`) cannot
 * be replaced, but what it holds is not frozen, since no JavaScript API lists an array's other
 * properties without a name made for every element. Anything else is walked by every own property.
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
    if (isOrdinaryArray(next) && pushElements(next, open)) continue
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
