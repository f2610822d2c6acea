import { timeoutAfterPendingIo } from './clock.js'
import type { Flight } from './flight.js'

/** What settling background work came to. */
export interface SettleReport {
  /** Loads that finished within the budget. */
  readonly completed: number
  /**
   * Loads still running when the budget ran out, now aborted and dropped. One that another scope
   * still tracks, or another caller still waits for, is counted in neither: it runs on for them.
   */
  readonly abandoned: number
}

/**
 * Waits at most `budgetMs` for the flights still running, then gives up on those that are not done
 * by `giveUp`, which tells whether it abandoned the flight. Never rejects.
 */
export const settleFlights = async (flights: Iterable<Flight<unknown>>, budgetMs: number, giveUp: (flight: Flight<unknown>) => boolean): Promise<SettleReport> => {
  const running = [...flights].filter((flight) => !flight.settled)
  if (running.length === 0) return { completed: 0, abandoned: 0 }
  let timer: NodeJS.Timeout | undefined
  // A load whose answer already waits to be read when a late budget timer fires is done, not abandoned.
  // Referenced, and cleared below whatever wins: a load hung on nothing that holds the event loop
  // would otherwise let the loop run empty within the budget, and on Lambda an empty loop while the
  // handler's promise is pending ends the invocation with an error, its answer lost.
  const budget = new Promise<void>((resolve) => {
    timer = timeoutAfterPendingIo(resolve, budgetMs)
  })
  await Promise.race([Promise.allSettled(running.map((flight) => flight.promise)), budget])
  clearTimeout(timer)
  let completed = 0
  let abandoned = 0
  for (const flight of running) {
    if (flight.settled) completed++
    else if (giveUp(flight)) abandoned++
  }
  return { completed, abandoned }
}

/**
 * `work`'s result, or undefined as soon as `signal` aborts, whichever comes first; the same as
 * awaiting `work` without a signal. Leaves no listener behind.
 */
export const unlessAborted = <T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> => {
  if (signal === undefined) return work
  return new Promise<T | undefined>((resolve, reject) => {
    const aborted = (): void => {
      resolve(undefined)
    }
    // Handled whichever comes first, so that `work` failing later is never an unhandled rejection.
    work
      .finally(() => {
        signal.removeEventListener('abort', aborted)
      })
      .then(resolve, reject)
    if (signal.aborted) aborted()
    else signal.addEventListener('abort', aborted, { once: true })
  })
}

/**
 * Loads started or joined on behalf of one owner (a scope) that may still be running when the owner
 * is done. The owner holds each until it settles: a load several owners share (concurrent
 * invocations of a Managed Instance) is abandoned only when the last of them gives up on it.
 */
export class BackgroundWork {
  readonly #flights = new Set<Flight<unknown>>()
  /**
   * Once settled, the owner is done (its invocation ended): a load it starts or joins afterwards (a
   * get the handler did not await, which went on past an L2 read) is not held for it, since no
   * settle of its would ever let go; it stays anyone's to abandon (`cache.settle`, another scope).
   */
  #settled = false

  track(flight: Flight<unknown>): void {
    if (this.#settled || flight.settled || this.#flights.has(flight)) return
    this.#flights.add(flight)
    flight.hold()
  }

  get pending(): number {
    let pending = 0
    for (const flight of this.#flights) if (!flight.settled) pending++
    return pending
  }

  /** Waits at most `budgetMs` for the loads tracked, then gives up on those still running, abandoning the ones no one else wants. */
  settle(budgetMs: number): Promise<SettleReport> {
    this.#settled = true
    const flights = [...this.#flights]
    this.#flights.clear()
    return settleFlights(flights, budgetMs, release)
  }
}

const release = (flight: Flight<unknown>): boolean => flight.release()
