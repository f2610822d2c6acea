const inspectCustom = Symbol.for('nodejs.util.inspect.custom')
const redactedMark = '[redacted]'

const namesOnly = (values: object): Record<string, string> =>
  Object.fromEntries(Object.keys(values).map((name) => [name, redactedMark]))

/**
 * The prototype of every redacted object: JSON.stringify and util.inspect (so console.log and most
 * loggers) see the names with the values hidden, while property access returns the real values.
 */
const redactedPrototype: object = Object.freeze(
  Object.create(Object.prototype, {
    toJSON: {
      value(this: object) {
        return namesOnly(this)
      },
    },
    [inspectCustom]: {
      value(this: object) {
        return namesOnly(this)
      },
    },
  }) as object,
)

/** An object holding `values` that never shows them in JSON or in util.inspect. */
export const redacted = <T extends Record<string, unknown>>(values: T): T => Object.assign(Object.create(redactedPrototype) as T, values)
