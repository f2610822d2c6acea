import { CacheError } from './errors.js'

export const timedOut: unique symbol = Symbol('middy-cache.timedOut')

const ignore = (): void => undefined

/**
 * One load in progress, shared by every caller that wants the same key (single-flight). It can
 * outlive its `timeout` (callers then stop waiting) and can be abandoned: its signal aborts, its
 * promise rejects at once, and whatever the loader returns afterwards is dropped.
 */
export class Flight<V> {
  readonly promise: Promise<V>
  /** Resolves when the load outlives its timeout; undefined when loads have no timeout. */
  readonly timedOut: Promise<typeof timedOut> | undefined
  /** Callers currently waiting for the result; a flight with waiters is not abandoned. */
  waiters = 0
  readonly #controller = new AbortController()
  #timer: NodeJS.Timeout | undefined
  #settled = false
  #rejectNow: ((reason: Error) => void) | undefined

  constructor(
    run: (signal: AbortSignal) => Promise<V>,
    timeoutMs: number | undefined,
    hooks: { onTimeout: () => void; onSettled: () => void },
  ) {
    if (timeoutMs !== undefined) {
      this.timedOut = new Promise((resolve) => {
        this.#timer = setTimeout(() => {
          hooks.onTimeout()
          resolve(timedOut)
        }, timeoutMs).unref()
      })
    }
    this.promise = this.#run(run, hooks.onSettled)
    this.promise.catch(ignore)
  }

  get settled(): boolean {
    return this.#settled
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  abandon(): void {
    if (this.#settled) return
    const reason = new CacheError('middy-cache: load abandoned at the end of the invocation')
    this.#controller.abort(reason)
    this.#rejectNow?.(reason)
  }

  async #run(run: (signal: AbortSignal) => Promise<V>, onSettled: () => void): Promise<V> {
    try {
      // Settled by the load, or at once by `abandon`, whichever comes first.
      return await new Promise<V>((resolve, reject) => {
        this.#rejectNow = reject
        run(this.#controller.signal).then(resolve, reject)
      })
    } finally {
      this.#settled = true
      clearTimeout(this.#timer)
      onSettled()
    }
  }
}
