import { fieldRecord, HeaderFields, keysNaming, type FieldRecord } from './header-fields.js'
import { ResponseHeaderRecords } from './http-request.js'

/**
 * Whether a new field goes to `multiValueHeaders`: where the service reads only that record, or,
 * where it merges both, when the response uses only that one.
 */
const newFieldsInMulti = (records: ResponseHeaderRecords, single: FieldRecord | undefined, multi: FieldRecord | undefined): boolean =>
  records === ResponseHeaderRecords.MultiValueHeaders || (records === ResponseHeaderRecords.Both && single === undefined && multi !== undefined)

/**
 * The header fields of a structured response (`headers` and `multiValueHeaders`), read and changed
 * case-insensitively on copies: the handler's object is never changed, since it may be a constant
 * shared by every invocation.
 */
export class ResponseHeaders {
  #single: Record<string, unknown> | undefined
  #multi: Record<string, unknown> | undefined
  readonly #readsBoth: boolean
  readonly #newFieldsInMulti: boolean

  private constructor(single: FieldRecord | undefined, multi: FieldRecord | undefined, records: ResponseHeaderRecords) {
    this.#single = single === undefined ? undefined : { ...single }
    this.#multi = multi === undefined ? undefined : { ...multi }
    this.#readsBoth = records === ResponseHeaderRecords.Both
    this.#newFieldsInMulti = newFieldsInMulti(records, single, multi)
  }

  /**
   * The headers of `response`, to be sent where `records` says the service reads them; undefined
   * when they are not records (an array, a string), which cannot be added to safely.
   */
  static of(response: FieldRecord, records: ResponseHeaderRecords): ResponseHeaders | undefined {
    const single = fieldRecord(response.headers)
    const multi = fieldRecord(response.multiValueHeaders)
    return single === false || multi === false ? undefined : new ResponseHeaders(single, multi, records)
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

  /** A view of the records as they are now (`set` may create either). */
  #fields(): HeaderFields {
    return new HeaderFields(this.#single, this.#multi)
  }

  /**
   * Sets a field, under the handler's own spelling, so that no second spelling of one name reaches
   * the client. Where the service reads both records, the field stays where the handler put it; a
   * new one, and any field for a service reading only one record, goes to a record the service reads
   * (see `newFieldsInMulti`): the response's own layout may be one it ignores.
   */
  set(name: string, value: string): void {
    const lowerName = name.toLowerCase()
    const singleKey = keysNaming(this.#single, lowerName)[0]
    const multiKey = keysNaming(this.#multi, lowerName)[0]
    this.delete(name)
    if (this.#readsBoth && (singleKey !== undefined || multiKey !== undefined)) {
      if (singleKey !== undefined && this.#single !== undefined) this.#single[singleKey] = value
      if (multiKey !== undefined && this.#multi !== undefined) this.#multi[multiKey] = [value]
      return
    }
    const spelling = singleKey ?? multiKey ?? name
    if (this.#newFieldsInMulti) {
      this.#multi ??= {}
      this.#multi[spelling] = [value]
      return
    }
    this.#single ??= {}
    this.#single[spelling] = value
  }

  /**
   * Where the service reads only one record, moves a field the handler set to that record, so that
   * a field httpCache honours (and so does not set itself) reaches the client: its value in the
   * record the service reads, else its value in the other. Where the service reads both, a no-op.
   */
  deliver(name: string): void {
    if (this.#readsBoth) return
    const readsMulti = this.#newFieldsInMulti
    if (keysNaming(readsMulti ? this.#single : this.#multi, name.toLowerCase()).length === 0) return
    const read = readsMulti ? new HeaderFields(undefined, this.#multi) : new HeaderFields(this.#single, undefined)
    const value = read.get(name) ?? this.get(name)
    if (value !== undefined) this.set(name, value)
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
