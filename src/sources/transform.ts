import { CacheError, mustBe } from '../cache/errors.js'

/** How a raw parameter or secret value is decoded before it is cached. */
export const Transform = {
  /** Parsed with JSON.parse. */
  Json: 'json',
  /** Base64 decoded to a UTF-8 string (bytes stay bytes); base64 of bytes that are not UTF-8 text is an error. */
  Binary: 'binary',
} as const
export type Transform = (typeof Transform)[keyof typeof Transform]

const transforms: readonly string[] = Object.values(Transform)

/** The spec of a JSON value named `name`, for `json<T>(name, options)` and `jsonSecret<T>(name, options)`. */
export const jsonSpec = <O extends object>(name: string, options: O): O & { readonly name: string; readonly transform: typeof Transform.Json } => ({ ...options, name, transform: Transform.Json })

/** A `transform` option: undefined, 'json' or 'binary'. */
export const transformOption = (option: string, value: unknown): Transform | undefined => {
  if (value !== undefined && (typeof value !== 'string' || !transforms.includes(value))) throw mustBe(option, "'json' or 'binary'", value)
  return value as Transform | undefined
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * The UTF-8 text of `bytes`, or undefined when they are not UTF-8: decoded anyway, each byte out of
 * place would become U+FFFD, and a wrong value would be served as the right one.
 */
export const utf8Text = (bytes: Uint8Array): string | undefined => {
  try {
    return utf8.decode(bytes)
  } catch {
    return undefined
  }
}

/** Padded base64, checked once whitespace is dropped (the `base64` tool wraps its output at 76 characters). */
const base64Text = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const whitespace = /\s+/g

/** Text from base64: Buffer would skip what is not base64 and decode the rest, handing over noise as the value. */
const fromBase64 = (raw: string, label: string): string => {
  const text = raw.replace(whitespace, '')
  if (!base64Text.test(text)) throw new CacheError(`middy-cache: ${label} is not valid base64`)
  const decoded = utf8Text(Buffer.from(text, 'base64'))
  if (decoded === undefined) {
    throw new CacheError(`middy-cache: ${label} decodes from base64 to bytes that are not UTF-8 text: give it no transform and decode it yourself (Buffer.from(value, 'base64'))`)
  }
  return decoded
}

/**
 * Decodes `raw` once, at load time, so every cached read is free. `label` names the value in the
 * error, e.g. `parameter "/shop/flags"`.
 */
export const decodeValue = (raw: string | Uint8Array, transform: Transform | undefined, label: string): unknown => {
  switch (transform) {
    case undefined:
      return raw
    case Transform.Binary:
      return typeof raw === 'string' ? fromBase64(raw, label) : raw
    case Transform.Json: {
      const text = typeof raw === 'string' ? raw : utf8Text(raw)
      if (text === undefined) throw new CacheError(`middy-cache: ${label} is not valid JSON: its bytes are not UTF-8 text`)
      try {
        return JSON.parse(text) as unknown
      } catch (error) {
        // Not the SyntaxError as cause: V8 quotes the text around the fault in its message, and the
        // text may be a secret, which loggers would then print with the cause chain.
        throw new CacheError(`middy-cache: ${label} is not valid JSON${faultPosition(error)}`)
      }
    }
  }
}

/** Where JSON.parse stopped, when V8 says: ' at position 12', or nothing. */
const faultPosition = (error: unknown): string => {
  const position = error instanceof SyntaxError ? /at position (\d+)/.exec(error.message)?.[1] : undefined
  return position === undefined ? '' : ` at position ${position}`
}
