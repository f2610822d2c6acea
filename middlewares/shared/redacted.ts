import { processWideKey } from '../../src/cache/process-state.js'

const inspectCustom = Symbol.for('nodejs.util.inspect.custom')
// Shared by every copy of the package in the process: a copy that adds values to a holder another
// made still finds what that one hid.
const hiddenKey = processWideKey('hidden')
const redactedMark = '[redacted]'

/** What a redacted object hides: every value it holds, or the values of the names listed. */
export type Hidden = 'all' | ReadonlySet<string>

const shownValues = (values: object, hidden: Hidden): Record<string, unknown> =>
  Object.fromEntries(Object.entries(values).map(([name, value]) => [name, hidden === 'all' || hidden.has(name) ? redactedMark : value]))

/**
 * The prototype of redacted objects: JSON.stringify and util.inspect (so console.log and most
 * loggers) see the hidden values as '[redacted]', while property access returns the real values.
 */
const redactingPrototype = (hidden: Hidden): object =>
  Object.freeze(
    Object.create(Object.prototype, {
      toJSON: {
        value(this: object) {
          return shownValues(this, hidden)
        },
      },
      [inspectCustom]: {
        value(this: object) {
          return shownValues(this, hidden)
        },
      },
      [hiddenKey]: { value: hidden },
    }) as object,
  )

const hidingAll = redactingPrototype('all')

/** An object holding `values` that never shows those of `hidden` (all of them unless named) in JSON or in util.inspect. */
const redacted = <T extends Record<string, unknown>>(values: T, hidden: Hidden = 'all'): T =>
  Object.assign(Object.create(hidden === 'all' ? hidingAll : redactingPrototype(hidden)) as T, values)

/** Whether `value` is an object holding values it hides, whichever copy of the package made it. */
export const isRedacted = (value: object): boolean => hiddenKey in value

/** The names whose values `holder` hides; none unless it is a redacted object. */
const hiddenNamesOf = (holder: object): ReadonlySet<string> => {
  const hidden = (holder as { readonly [hiddenKey: symbol]: Hidden | undefined })[hiddenKey]
  if (hidden === undefined) return new Set()
  return hidden === 'all' ? new Set(Object.keys(holder)) : hidden
}

/**
 * A new object holding the properties of `existing` (what the context already had under a name),
 * for more values to be written into: the values `existing` hid stay hidden, and so do `hidden`.
 */
export const holderHiding = (existing: unknown, hidden: Hidden): Record<string, unknown> => {
  const kept: Record<string, unknown> = typeof existing === 'object' && existing !== null ? { ...existing } : {}
  if (hidden === 'all') return redacted(kept)
  const hiddenNames = typeof existing === 'object' && existing !== null ? new Set([...hiddenNamesOf(existing), ...hidden]) : hidden
  return hiddenNames.size === 0 ? kept : redacted(kept, hiddenNames)
}
