import { createCache, type FreshnessOptions, type LoadContext } from '../../src/index.js'
import { manualClock } from './clock.js'
import { deferred } from './deferred.js'

/**
 * A cache whose entry 'k' is stale (ttl 1 s, read 1.5 s later), and whose next load waits for
 * `refresh`, recording in `seen` the signal it was given, which aborts when the load is abandoned.
 */
export const staleWithHeldRefresh = async (name: string, window: Pick<FreshnessOptions, 'staleWhileRevalidate' | 'staleIfError'>) => {
  const clock = manualClock()
  const refresh = deferred<string>()
  const seen: { signal?: AbortSignal } = {}
  const load = jest.fn((_key: string, { signal }: LoadContext) => {
    if (load.mock.calls.length === 1) return Promise.resolve('old')
    seen.signal = signal
    return refresh.promise
  })
  const cache = createCache({ name, load, ttl: '1s', ...window, now: clock.now })
  await cache.get('k')
  clock.advance(1_500)
  return { cache, load, refresh, seen }
}
