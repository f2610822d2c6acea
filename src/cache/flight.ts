import { timeoutWhileRunning } from './clock.js'
import { CacheError } from './errors.js'
import { ignore } from './options.js'

export const timedOut: unique symbol = Symbol('middy-cache.timedOut')

/**
 * Whether a load failed with `error` because it was abandoned: a loader that passes its signal on
 * fails once it aborts, with the signal's reason (fetch) or an AbortError (the AWS SDK, Node's own
 * APIs). The source neither failed nor answered: it was told to stop.
 */
export const failedByAbandon = (signal: AbortSignal, error: unknown): boolean =>
  signal.aborted && (error === signal.reason || (error instanceof Error && error.name === 'AbortError'))

/**
 * One load in progress, shared by every caller that wants the same key (single-flight). It can
 * outlive its `timeout` (callers then stop waiting) and can be abandoned: its signal aborts, its
 * promise rejects at once, and whatever the loader returns afterwards is dropped. It is abandoned
 * only once nobody wants it any more: every scope that tracks it has given up on it, and no caller
 * without a scope waits for it.
 */
export class Flight<V> {
  readonly promise: Promise<V>
  /** Callers without a scope waiting for the result: no scope gives up on their behalf, so they keep it running. */
  waiters = 0
  /** Scopes tracking the flight (invocations that started or joined it); see `release`. */
  #holders = 0
  /** When the load began, by the clock of the cache that started it. */
  readonly startedAt: number
  readonly #timeoutMs: number | undefined
  readonly #controller = new AbortController()
  readonly #stopTimer: (() => void) | undefined
  #settled = false
  #rejectNow: ((reason: Error) => void) | undefined

  constructor(
    run: (signal: AbortSignal) => Promise<V>,
    timeoutMs: number | undefined,
    startedAt: number,
    hooks: { onTimeout: () => void; onSettled: () => void },
  ) {
    this.#timeoutMs = timeoutMs
    this.startedAt = startedAt
    // Referenced, so that a loader hung on nothing that holds the event loop still times out rather
    // than letting the process exit (or a Lambda invocation end on an empty loop). It holds the
    // loop no longer than the load, and at most `timeout` of running time. A load left running at a
    // freeze (a prefetch when provisioned concurrency or SnapStart freezes INIT) is not judged by a
    // timer that fires at the thaw, as it had no time to run meanwhile: it is given its `timeout`
    // again from the thaw, and times out then if still silent. Nor is one whose answer was already
    // waiting to be read when a late timer fired.
    if (timeoutMs !== undefined) this.#stopTimer = timeoutWhileRunning(hooks.onTimeout, timeoutMs)
    this.promise = this.#run(run, hooks.onSettled)
    this.promise.catch(ignore)
  }

  get settled(): boolean {
    return this.#settled
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /**
   * The result, or `timedOut` once this caller has waited `timeout`: measured from the call, so a
   * caller that joins a load already running longer than that still waits its own `timeout` for it.
   * Time spent frozen does not count: a timer that fires at the thaw starts the wait over, as the
   * load had no time to run meanwhile.
   */
  wait(): Promise<V | typeof timedOut> {
    const timeoutMs = this.#timeoutMs
    if (timeoutMs === undefined || this.#settled) return this.promise
    return new Promise((resolve, reject) => {
      // Referenced for the same reason as the flight's own timer; stopped once the load settles.
      const stopTimer = timeoutWhileRunning(() => {
        resolve(timedOut)
      }, timeoutMs)
      this.promise.finally(stopTimer).then(resolve, reject)
    })
  }

  /** A scope starts tracking the flight: it is not abandoned before that scope gives up on it (`release`). */
  hold(): void {
    this.#holders++
  }

  /** A scope that tracked the flight gives up on it; the last one to do so abandons it (see `abandonIfUnwanted`). */
  release(): boolean {
    this.#holders--
    return this.abandonIfUnwanted()
  }

  /** Abandons the flight if it is still running and no scope tracks it and no caller waits for it; returns whether it did. */
  abandonIfUnwanted(): boolean {
    if (this.#settled || this.#controller.signal.aborted || this.#holders > 0 || this.waiters > 0) return false
    const reason = new CacheError('middy-cache: load abandoned at the end of the invocation')
    this.#controller.abort(reason)
    this.#rejectNow?.(reason)
    return true
  }

  async #run(run: (signal: AbortSignal) => Promise<V>, onSettled: () => void): Promise<V> {
    try {
      // Settled by the load, or at once by abandoning it, whichever comes first.
      return await new Promise<V>((resolve, reject) => {
        this.#rejectNow = reject
        run(this.#controller.signal).then(resolve, reject)
      })
    } finally {
      this.#settled = true
      this.#stopTimer?.()
      onSettled()
    }
  }
}
