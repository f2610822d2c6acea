import { isRecord, isSdkClient } from '../cache/options.js'

/**
 * Where a call's abort signal rides from a Powertools provider's `sdkOptions` to the client's `send`:
 * the provider spreads `sdkOptions` into the command input, and a spread keeps symbol keys. A symbol,
 * so that it names no member of any input the SDK serializes.
 */
const abortSignalKey: unique symbol = Symbol('middy-cache abort signal')

interface CarriesSignal {
  [abortSignalKey]?: AbortSignal
}

/** `sdkOptions` for a Powertools provider's get: `options`, carrying `signal` to an `abortableClient`'s `send`. */
export const withAbortSignal = <O extends object>(options: O, signal: AbortSignal): O => ({ ...options, [abortSignalKey]: signal })

/** What a provider's client is here: an AWS SDK v3 client, which `send`s with per-call options. */
interface SendingClient {
  send(command: { readonly input: object }, options?: { readonly abortSignal?: AbortSignal }): Promise<unknown>
}

/**
 * `client` as a Powertools provider is to be given it, since its get takes no abort signal: every
 * property is the client's own (so Powertools still takes it for an SDK client, and the client's
 * config, credentials and middleware apply) but `send`, which takes the signal `withAbortSignal`
 * put in the command input out of it (nothing in the SDK sees it there) and gives it to the client's
 * own `send` as the call's `abortSignal`. The client itself is not changed.
 */
export const abortableClient = <C extends SendingClient>(client: C): C => {
  const send: SendingClient['send'] = (command, options) => {
    const input: CarriesSignal = command.input
    const signal = input[abortSignalKey]
    if (signal === undefined) return client.send(command, options)
    Reflect.deleteProperty(input, abortSignalKey)
    return client.send(command, { ...options, abortSignal: signal })
  }
  return new Proxy(client, {
    get: (target, property, receiver): unknown => (property === 'send' ? send : Reflect.get(target, property, receiver)),
  })
}

/**
 * Whether `value` is a client a Powertools provider keeps: an SDK v3 client of `service` (see
 * `isSdkClient`) with the middleware stack Powertools adds its user agent to. Powertools takes one
 * without it (a wrapper with only `send` and `config`) for no client and swaps it, with only a
 * warning, for a default client of its own: what its provider reads would come from wherever that
 * one points, while the calls sent here went to the client given.
 */
export const isProviderClient = (value: unknown, service: string): boolean =>
  isRecord(value) &&
  isRecord(value.middlewareStack) &&
  typeof value.middlewareStack.identify === 'function' &&
  typeof value.middlewareStack.addRelativeTo === 'function' &&
  isSdkClient(value, service)
