import { Redis } from 'ioredis'
import { redisStore, type L2Store, type RedisStoreOptions } from '../../entrypoints/redis.js'
import { uniqueName } from '../harness/index.js'

export const sharedRedisUrl = (): string => {
  const url = process.env.REDIS_URL
  if (url === undefined) throw new Error('REDIS_URL is not set: the jest global setup starts a private redis-server')
  return url
}

/** A client to look at (or spoil) what the stores wrote. */
export const rawRedis = (url = sharedRedisUrl()): Redis =>
  new Redis(url, { disconnectTimeout: 100, maxRetriesPerRequest: 0 })

const opened = new Set<L2Store>()

/** Closes every store `environments` opened; call in afterEach. */
export const closeEnvironments = async (): Promise<void> => {
  const stores = [...opened]
  opened.clear()
  await Promise.all(stores.map((store) => store.close()))
}

/**
 * The timeout of the stores `environments` opens: one no round trip to a running Redis meets on a busy
 * machine (a test whose subject is a timeout sets its own), yet under the default lease ttl (5 s), as
 * a store's timeout is in use: a lease is given back without the script only while it has more left.
 */
export const patientTimeout = '2s'

/**
 * Stores that stand for separate Lambda environments: each has its own connection, all share one
 * Redis (the global one unless `url` says otherwise) and one key prefix, unique to the test.
 */
export const environments = (options: Omit<RedisStoreOptions, 'prefix' | 'client' | 'cluster'> = {}) => {
  const prefix = `${uniqueName('l2')}:`
  return {
    prefix,
    store: (overrides: Omit<RedisStoreOptions, 'prefix' | 'client' | 'cluster' | 'url'> = {}): L2Store => {
      const store = redisStore({ url: sharedRedisUrl(), timeout: patientTimeout, ...options, ...overrides, prefix })
      opened.add(store)
      return store
    },
  }
}

/** A logger that keeps what it was told. */
export const recordingLogger = (): { warn: (message: string) => void; messages: string[] } => {
  const messages: string[] = []
  return { warn: (message) => { messages.push(message) }, messages }
}

/**
 * Time for several simulated environments: each has its own monotonic clock (they start apart, as
 * separate processes' clocks do), and `advance` moves them all and the wall clock (Date.now) alike,
 * so that freshness stored as wall-clock envelopes can be checked without waiting.
 */
export const linkedTime = () => {
  const realNow = Date.now.bind(Date)
  let offset = 0
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset)
  const clocks: { current: number }[] = []
  return {
    /** A monotonic clock for one more environment. */
    clock: (): (() => number) => {
      const clock = { current: 1_000 + clocks.length * 7_919 }
      clocks.push(clock)
      return () => clock.current
    },
    advance: (ms: number): void => {
      offset += ms
      for (const clock of clocks) clock.current += ms
    },
  }
}

/** Tells `heard` whether each lease attempt `store` makes from now on took the lease. */
const onLeaseAttempts = (store: L2Store, heard: (acquired: boolean) => void): void => {
  const acquireLease = store.acquireLease.bind(store)
  jest.spyOn(store, 'acquireLease').mockImplementation(async (...request) => {
    const attempt = await acquireLease(...request)
    heard(attempt.acquired)
    return attempt
  })
}

/**
 * Whether each lease attempt `store` makes from now on took the lease, in order: an environment that
 * found no other holding the key took it at its first attempt, where one kept waiting polls.
 */
export const leaseAttempts = (store: L2Store): readonly boolean[] => {
  const attempts: boolean[] = []
  onLeaseAttempts(store, (acquired) => {
    attempts.push(acquired)
  })
  return attempts
}

/** Settles once an attempt of `store` at a lease found another environment holding it: `store` waits for that one now. */
export const leaseFoundHeld = (store: L2Store): Promise<void> =>
  new Promise((resolve) => {
    onLeaseAttempts(store, (acquired) => {
      if (!acquired) resolve()
    })
  })

/**
 * Settles once `store` has given `times` leases back (each release answered, or failed), the store's
 * own give-backs in the background included: what the releases left is then looked at, not polled for.
 */
export const leaseGivenBack = (store: L2Store, times = 1): Promise<void> =>
  new Promise((resolve) => {
    const releaseLease = store.releaseLease.bind(store)
    let settled = 0
    const counted = (): void => {
      if (++settled === times) resolve()
    }
    jest.spyOn(store, 'releaseLease').mockImplementation((...request) => {
      const released = releaseLease(...request)
      released.then(counted, counted)
      return released
    })
  })

/**
 * How many times the Redis `admin` is connected to ran each command since its counts were last reset
 * (CONFIG RESETSTAT), those a script ran included (the lease's release runs GET and DEL).
 */
export const commandCalls = async (admin: Redis): Promise<(command: string) => number> => {
  const stats = await admin.info('commandstats')
  return (command) => Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0)
}
