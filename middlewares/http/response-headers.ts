import { fieldRecord, HeaderFields, keysNaming, type FieldRecord } from './header-fields.js'

/**
 * The header fields of a structured response (`headers` and `multiValueHeaders`), read and changed
 * case-insensitively on copies: the handler's object is never changed, since it may be a constant
 * shared by every invocation.
 */
export class ResponseHeaders {
  #single: Record<string, unknown> | undefined
  readonly #multi: Record<string, unknown> | undefined

  private constructor(single: FieldRecord | undefined, multi: FieldRecord | undefined) {
    this.#single = single === undefined ? undefined : { ...single }
    this.#multi = multi === undefined ? undefined : { ...multi }
  }

  /** The headers of `response`; undefined when they are not records (an array, a string), which cannot be added to safely. */
  static of(response: FieldRecord): ResponseHeaders | undefined {
    const single = fieldRecord(response.headers)
    const multi = fieldRecord(response.multiValueHeaders)
    return single === false || multi === false ? undefined : new ResponseHeaders(single, multi)
  }

  has(name: string): boolean {
    return this.#fields().has(name)
  }

  get(name: string): string | undefined {
    return this.#fields().get(name)
  }

  /** See `HeaderFields.getFromBoth`. */
  getFromBoth(name: string): string | undefined {
    return this.#fields().getFromBoth(name)
  }

  /** A view of the records as they are now (`set` may create `headers`). */
  #fields(): HeaderFields {
    return new HeaderFields(this.#single, this.#multi)
  }

  /**
   * Sets a field, under the handler's own spelling wherever the handler already put it, so that no
   * second spelling of one name reaches the client. A new field goes to `headers`, or to
   * `multiValueHeaders` when the response uses only that (an ALB target group with multi-value
   * headers on accepts nothing else).
   */
  set(name: string, value: string): void {
    const lowerName = name.toLowerCase()
    const singleKey = keysNaming(this.#single, lowerName)[0]
    const multiKey = keysNaming(this.#multi, lowerName)[0]
    this.delete(name)
    if (singleKey !== undefined && this.#single !== undefined) this.#single[singleKey] = value
    if (multiKey !== undefined && this.#multi !== undefined) this.#multi[multiKey] = [value]
    if (singleKey !== undefined || multiKey !== undefined) return
    if (this.#single === undefined && this.#multi !== undefined) {
      this.#multi[name] = [value]
      return
    }
    this.#single ??= {}
    this.#single[name] = value
  }

  delete(name: string): void {
    const lowerName = name.toLowerCase()
    for (const record of [this.#single, this.#multi]) {
      for (const key of keysNaming(record, lowerName)) delete record?.[key]
    }
  }

  /** A copy of `response` carrying these headers. */
  applyTo<R extends FieldRecord>(response: R): R {
    return {
      ...response,
      ...(this.#single === undefined ? {} : { headers: this.#single }),
      ...(this.#multi === undefined ? {} : { multiValueHeaders: this.#multi }),
    }
  }
}
