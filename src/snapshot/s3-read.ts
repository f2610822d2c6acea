import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { isAwsError } from '../cache/aws-errors.js'
import type { Clock } from '../cache/clock.js'
import { CacheError } from '../cache/errors.js'
import { hold } from '../lambda/deadline.js'
import { maxSnapshotBytes } from './codec.js'

export interface ObjectLocation {
  readonly bucket: string
  readonly key: string
}

/** Why there is no body to read. */
export const Absence = {
  /** NoSuchKey: the caller may list the bucket, and there is no such object. */
  NotFound: 'not-found',
  /** AccessDenied: S3's answer for a missing object to a caller without s3:ListBucket, or no s3:GetObject at all. */
  Denied: 'denied',
  /** Larger than `maxSnapshotBytes` compressed, so larger still inflated: no reader takes it, so it is not downloaded. */
  TooLarge: 'too-large',
} as const
export type Absence = (typeof Absence)[keyof typeof Absence]

/** The object's body, or why there is none. Rejects on any other failure, an abort included. */
export const getSnapshotObject = async (client: S3Client, location: ObjectLocation, signal: AbortSignal): Promise<Uint8Array | Absence> => {
  let answer
  try {
    answer = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }), { abortSignal: signal })
  } catch (error) {
    if (isAwsError(error, 'NoSuchKey')) return Absence.NotFound
    if (isAwsError(error, 'AccessDenied')) return Absence.Denied
    throw error
  }
  if (answer.Body === undefined) return Absence.NotFound
  // Checked before the body is buffered: this library never writes one so large.
  if ((answer.ContentLength ?? 0) > maxSnapshotBytes) {
    // Left unread, the body would hold its connection.
    const body = answer.Body as { destroy?: unknown }
    if (typeof body.destroy === 'function') (body as { destroy: () => void }).destroy()
    return Absence.TooLarge
  }
  return answer.Body.transformToByteArray()
}

/** How a timed read ended, and how long after its start (the read's, not the wait's). */
export type ReadOutcome<T> =
  | { readonly status: 'done'; readonly value: T; readonly durationMs: number }
  | { readonly status: 'timed-out'; readonly durationMs: number }
  | { readonly status: 'failed'; readonly error: unknown; readonly durationMs: number }

/**
 * A read started at once (at INIT) that nobody waits for longer than the first waiter's timeout:
 * then its request is aborted and every waiter gets `timed-out`. Its failure is kept as an outcome,
 * so a read that fails with nobody waiting raises no unhandled rejection.
 */
export class TimedRead<T> {
  readonly #now: Clock
  readonly #startedAt: number
  readonly #controller = new AbortController()
  readonly #outcome: Promise<ReadOutcome<T>>
  #waited: Promise<ReadOutcome<T>> | undefined

  constructor(read: (signal: AbortSignal) => Promise<T>, now: Clock) {
    this.#now = now
    this.#startedAt = now()
    this.#outcome = this.#run(read)
  }

  /**
   * Aborts the request if it is still under way: its outcome is then `failed`, at once, and no
   * timer of its wait is left. For an invocation that ends before the read did: across a freeze,
   * the timer would fire at the thaw and the request would hang on a socket that may be dead.
   */
  giveUp(): void {
    this.#controller.abort(new CacheError('middy-cache: the snapshot read was given up: the invocation that went on without it ended first'))
  }

  /** The outcome, waited for at most `timeoutMs` from the first call; every caller gets the same one. */
  outcome(timeoutMs: number): Promise<ReadOutcome<T>> {
    this.#waited ??= this.#waitAtMost(timeoutMs)
    return this.#waited
  }

  async #run(read: (signal: AbortSignal) => Promise<T>): Promise<ReadOutcome<T>> {
    const { signal } = this.#controller
    try {
      // Over at the abort, whether or not the request notices it.
      const value = await new Promise<T>((resolve, reject) => {
        // Aborted only with an Error: `giveUp`'s, or the wait's timeout's.
        const aborted = (): void => {
          reject(signal.reason as Error)
        }
        signal.addEventListener('abort', aborted, { once: true })
        read(signal).then(resolve, reject)
      })
      return { status: 'done', value, durationMs: this.#now() - this.#startedAt }
    } catch (error) {
      return { status: 'failed', error, durationMs: this.#now() - this.#startedAt }
    }
  }

  async #waitAtMost(timeoutMs: number): Promise<ReadOutcome<T>> {
    // `hold` keeps a ref'd timer (an invocation may await nothing else), cleared once the race is decided.
    const decided = new AbortController()
    const outcome = await Promise.race([this.#outcome, hold(timeoutMs, decided.signal).then(() => undefined)])
    decided.abort()
    if (outcome !== undefined) return outcome
    this.#controller.abort(new CacheError(`middy-cache: the snapshot read was given up after ${timeoutMs} ms`))
    return { status: 'timed-out', durationMs: this.#now() - this.#startedAt }
  }
}
