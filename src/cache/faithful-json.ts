import { shortened } from './errors.js'
import { isRecord } from './options.js'
import { isPrototypeKey } from './safe-json.js'

/**
 * What JSON would change in a value, and the steps to it, innermost first: they are gathered on the
 * way back out of the walk, so a value JSON carries as it is costs no path at all.
 */
interface Change {
  readonly what: string
  readonly steps: (string | number)[]
}

const change = (what: string): Change => ({ what, steps: [] })

/** `found`, seen from one level further out: the key or index that leads to it comes first. */
const within = (found: Change | undefined, step: string | number): Change | undefined => {
  found?.steps.push(step)
  return found
}

/** `a Date`, `an Item`: the name of what made `value`, whose prototype JSON would not bring back. */
export const instanceName = (value: object): string => {
  const prototype: unknown = Object.getPrototypeOf(value)
  const name = isRecord(prototype) && typeof prototype.constructor === 'function' ? prototype.constructor.name : ''
  return name === '' ? 'an object with a custom prototype' : withArticle(name)
}

export const withArticle = (name: string): string => `${/^[AEIOU]/i.test(name) ? 'an' : 'a'} ${name}`

/** What JSON would change in a value that holds no other value: a primitive, or null. */
const changeInPrimitive = (value: unknown): Change | undefined => {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'object':
      return undefined
    case 'number':
      // JSON writes NaN and the infinities as null, and -0 as 0.
      if (Number.isFinite(value) && (value !== 0 || 1 / value > 0)) return undefined
      return change(`is ${value === 0 ? '-0' : String(value)}`)
    case 'undefined':
      // Left out of an object (a spread would copy it), null in an array.
      return change('is undefined')
    default:
      return change(`is ${withArticle(typeof value === 'bigint' ? 'BigInt' : typeof value)}`)
  }
}

/**
 * What JSON would change in `object` itself, its members aside: it is carried as it is when it is a
 * plain object or an ordinary array, met once on its path (no cycle), with no toJSON and no property a
 * spread would copy but JSON leaves out (a symbol key). Properties a spread leaves out too
 * (non-enumerable ones) are no part of the data.
 */
const changeInShape = (object: object, holding: Set<object>): Change | undefined => {
  if (holding.has(object)) return change('is a circular reference')
  const prototype: unknown = Object.getPrototypeOf(object)
  if (Array.isArray(object) ? prototype !== Array.prototype : prototype !== Object.prototype && prototype !== null) return change(`is ${instanceName(object)}`)
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return change('has a toJSON method')
  for (const symbol of Object.getOwnPropertySymbols(object)) {
    if (Object.getOwnPropertyDescriptor(object, symbol)?.enumerable === true) return change(`has a symbol key (${String(symbol)})`)
  }
  return undefined
}

/** Whether `key` names one of `array`'s elements: `"2"` does, `"-1"`, `"02"` and `"4294967295"` (past the longest array) do not. */
const isElementKey = (array: readonly unknown[], key: string): boolean => {
  const index = Number(key)
  return Number.isInteger(index) && index >= 0 && index < array.length && String(index) === key
}

/**
 * What JSON would drop from an `array` with no empty slot: a property set on it beside its elements
 * (`rows.total = 3`, a RegExp match's `index`), as it writes the elements alone. JavaScript lists
 * such properties only after a name for every element: measured, about a quarter of what
 * JSON.stringify then spends on the array, and as much past some 10,000 elements, where V8 keeps
 * no names ready. Elements come first, in order: the last key names one unless a property sits beside them.
 */
const changeBesideElements = (array: readonly unknown[]): Change | undefined => {
  const keys = Object.keys(array)
  const last = keys.at(-1)
  if (last === undefined || isElementKey(array, last)) return undefined
  const beside = keys.find((key) => !isElementKey(array, key)) as string
  return within(change('is a property of an array beside its elements'), beside)
}

/**
 * What JSON would change in `value`, its members included. One call per level of nesting (the
 * helpers it calls return before it goes a level deeper), so the walk goes deeper than
 * JSON.stringify before the stack runs out: it never refuses a value for its depth alone.
 */
const changeIn = (value: unknown, holding: Set<object>): Change | undefined => {
  if (typeof value !== 'object' || value === null) return changeInPrimitive(value)
  const shape = changeInShape(value, holding)
  if (shape !== undefined) return shape
  holding.add(value)
  let found: Change | undefined
  if (Array.isArray(value)) {
    for (let index = 0; found === undefined && index < value.length; index++) {
      const element: unknown = value[index]
      found = within(element === undefined && !Object.hasOwn(value, index) ? change('is an empty slot') : changeIn(element, holding), index)
    }
    found ??= changeBesideElements(value)
  } else {
    for (const key of Object.keys(value)) {
      const member: unknown = (value as Record<string, unknown>)[key]
      // Carried, but every reader refuses the whole text as poisoned (parseJsonSafely).
      found = isPrototypeKey(key, member) ? change(`has a ${JSON.stringify(key)} key, which every reader refuses`) : within(changeIn(member, holding), key)
      if (found !== undefined) break
    }
  }
  holding.delete(value)
  return found
}

const identifier = /^[A-Za-z_$][\w$]*$/

/** `.price`, `[2]`, `["unit price"]`: escaped, so that a key from data cannot forge a log line. */
const stepText = (step: string | number): string => {
  if (typeof step === 'number') return `[${step}]`
  return identifier.test(step) ? `.${step}` : `[${JSON.stringify(shortened(step, 40))}]`
}

/**
 * The first part of `value` that JSON.parse would not bring back as it was written, with the path to
 * it (`value.items[2].price is NaN`); undefined when JSON carries `value` as it is. Walks what
 * JSON.stringify would, in its order, once (a cycle is found, not followed): its cost is linear in
 * the value's size. A getter or a proxy trap that throws throws here.
 */
export const whatJsonWouldChange = (value: unknown): string | undefined => {
  const found = changeIn(value, new Set())
  return found === undefined ? undefined : `value${found.steps.reverse().map(stepText).join('')} ${found.what}`
}
