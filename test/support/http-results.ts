/** A response's fields as a test reads them: any object, whatever the handler returned. */
type Fields = Record<string, unknown>

const asFields = (value: unknown): Fields => (typeof value === 'object' && value !== null ? (value as Fields) : {})

/**
 * Every value of header `name` in a Lambda HTTP result, in any spelling, from `headers` and
 * `multiValueHeaders` alike (a test asserts where they sit separately when that matters).
 */
export const headerValues = (result: unknown, name: string): unknown[] => {
  const { headers, multiValueHeaders } = asFields(result)
  const matching = (record: unknown) => Object.entries(asFields(record)).filter(([key]) => key.toLowerCase() === name.toLowerCase())
  const multiValues = matching(multiValueHeaders).flatMap(([, values]): unknown[] => (Array.isArray(values) ? (values as unknown[]) : [values]))
  return [...matching(headers).map(([, value]) => value), ...multiValues]
}

/** The single value of header `name`, or undefined when absent; fails the test when the header is there twice. */
export const headerOf = (result: unknown, name: string): unknown => {
  const values = headerValues(result, name)
  if (values.length > 1) throw new Error(`header ${name} appears ${values.length} times: ${JSON.stringify(values)}`)
  return values[0]
}

/** The names of every header a result carries, lower-cased and sorted. */
export const headerNames = (result: unknown): string[] => {
  const { headers, multiValueHeaders } = asFields(result)
  return [...Object.keys(asFields(headers)), ...Object.keys(asFields(multiValueHeaders))].map((name) => name.toLowerCase()).sort()
}

/** The status code of a result. */
export const statusOf = (result: unknown): unknown => asFields(result).statusCode

/** The body of a result. */
export const bodyOf = (result: unknown): unknown => asFields(result).body
