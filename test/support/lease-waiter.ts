import type { L2Store } from '../../src/stores/l2-store.js'
import { createCache, createScope, Outcome, Tier } from '../../src/index.js'
import type { Deferred } from './deferred.js'
import { within } from './within.js'

/** A holder in one environment loading `k` under its lease, as a waiter in another meets it. */
export interface HeldLoad {
  /** The holder's get of `k`. */
  readonly held: Promise<unknown>
  /** What the holder's load answers through, once the waiter polled. */
  readonly loading: Deferred<string>
  /** Settles once the waiter sent what the test waits for (its polls). */
  readonly polled: Promise<unknown>
}

/**
 * A cache of another environment that misses `k` over `l2` while the holder loads it: once it has
 * polled, the holder's load answers, and the waiter takes that value from L2, loading nothing.
 */
export const waiterTakesHoldersValue = async (l2: L2Store, { held, loading, polled }: HeldLoad): Promise<void> => {
  const waitingLoad = jest.fn(() => 'loaded by the waiter')
  const waiting = createCache({ name: 'polled', load: waitingLoad, ttl: '1m', l2 })
  const scope = createScope()
  const waited = waiting.lookup('k', { scope })
  await within(polled, 'the waiter did not poll')
  loading.resolve('value of k')
  expect(await held).toBe('value of k')
  expect(await waited).toMatchObject({ value: 'value of k', outcome: Outcome.Hit, tier: Tier.L2 })
  expect(waitingLoad).not.toHaveBeenCalled()
  expect(scope.countersFor('polled')).toMatchObject({ l2Errors: 0, loads: 0 })
}
