import { isRecord } from '../shared/cache-options.js'

/** A header record as the Lambda payloads carry it: `headers` (one value) or `multiValueHeaders` (arrays). */
export type FieldRecord = Readonly<Record<string, unknown>>

/**
 * A header record from a payload: undefined when there is none (absent or null), and `false` when
 * there is something that is not a record (an array, a string), which no caller can read safely.
 */
export const fieldRecord = (value: unknown): FieldRecord | undefined | false => {
  if (value === undefined || value === null) return undefined
  return isRecord(value) ? value : false
}

/**
 * Whether payload 2.0's `cookies` (a request's or a response's) holds any: anything but an absent or
 * empty list counts, since it cannot be read as none.
 */
export const holdsCookies = (cookies: unknown): boolean => cookies !== undefined && cookies !== null && !(Array.isArray(cookies) && cookies.length === 0)

/** A header value as text: numbers and booleans are legal in Lambda responses; anything else is unreadable. */
const fieldText = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined
}

const joined = (values: readonly (string | undefined)[]): string | undefined => {
  const readable = values.filter((value) => value !== undefined)
  return readable.length === 0 ? undefined : readable.join(', ')
}

/** The keys of `record` naming the field `lowerName`, in any case. */
export const keysNaming = (record: FieldRecord | undefined, lowerName: string): string[] =>
  record === undefined ? [] : Object.keys(record).filter((key) => key.toLowerCase() === lowerName)

/**
 * Reads the header fields of a request or a response case-insensitively. API Gateway merges
 * `headers` and `multiValueHeaders`, the multi-value one winning for a name in both, and so does
 * this view.
 */
export class HeaderFields {
  readonly #single: FieldRecord | undefined
  readonly #multi: FieldRecord | undefined

  constructor(single: FieldRecord | undefined, multi: FieldRecord | undefined) {
    this.#single = single
    this.#multi = multi
  }

  /** Whether the field is there at all, whatever its value: present means someone set it. */
  has(name: string): boolean {
    const lowerName = name.toLowerCase()
    const present = (record: FieldRecord | undefined): boolean => keysNaming(record, lowerName).some((key) => record?.[key] !== undefined)
    return present(this.#multi) || present(this.#single)
  }

  /** The field's values joined by ', ' (RFC 9110 §5.3), or undefined when it has no readable value. */
  get(name: string): string | undefined {
    const multiValues = this.#multiValues(name)
    return joined(multiValues.length > 0 ? multiValues : this.#singleValues(name))
  }

  /**
   * The values of a list field in either record, joined: for `Vary`, whose names a response may
   * spread over both, and all of which must reach the client.
   */
  getFromBoth(name: string): string | undefined {
    return joined([...this.#singleValues(name), ...this.#multiValues(name)])
  }

  #multiValues(name: string): (string | undefined)[] {
    return keysNaming(this.#multi, name.toLowerCase()).flatMap((key) => {
      const values = this.#multi?.[key]
      return Array.isArray(values) ? values.map(fieldText) : [fieldText(values)]
    })
  }

  #singleValues(name: string): (string | undefined)[] {
    return keysNaming(this.#single, name.toLowerCase()).map((key) => fieldText(this.#single?.[key]))
  }
}
