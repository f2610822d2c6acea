import { once } from 'node:events'
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis'
import { unlessAborted } from '../../cache/background.js'
import { monotonicClock } from '../../cache/clock.js'
import { isRejected } from '../../cache/concurrency.js'
import { boundedDuration, type Duration } from '../../cache/duration.js'
import { CacheOptionsError, mustBe, printable } from '../../cache/errors.js'
import { isRecord, rejectUnknownOptions } from '../../cache/options.js'
import { checkedUrl } from '../../cache/urls.js'
import { l2OptionNames, resolveL2Settings, resolvePrefix, type L2Options } from '../l2-options.js'
import { SharedTier, type TierHost, type TieredStore } from '../../cache/shared-tier.js'
import type { L2Settings, L2Store, LeaseAttempt, LeaseState, StoreMisconfiguration } from '../l2-store.js'
import { answersPlainRedis } from './plain-probe.js'
import { isReadOnlyReply, isScriptRefusal, isTlsHandshakeFailure, misconfigurationOf, refusalOf } from './replies.js'

/**
 * ioredis options as its constructors accept them under `exactOptionalPropertyTypes` (its own
 * `RedisOptions` declares `replyMapping` as possibly undefined, which the constructors refuse).
 */
export type RedisConnectionOptions = Omit<RedisOptions, 'replyMapping'>

/** ioredis cluster options, with per-node options as its constructor accepts them (see RedisConnectionOptions). */
export type RedisClusterOptions = Omit<ClusterOptions, 'redisOptions'> & {
  readonly redisOptions?: Omit<NonNullable<ClusterOptions['redisOptions']>, 'replyMapping'>
}

export interface RedisStoreOptions extends L2Options {
  /** `redis://` or `rediss://` (TLS), user and password included: Redis, Valkey, ElastiCache. Undefined (an unset variable) counts as not given. */
  readonly url?: string | undefined
  /** A client or cluster you made; used as it is (your timeouts, your queue) and never closed by the store. */
  readonly client?: Redis | Cluster
  /** Cluster mode: seed nodes, and ioredis cluster options. */
  readonly cluster?: { readonly nodes: readonly ClusterNode[]; readonly options?: RedisClusterOptions }
  /** ioredis options for the connection made from `url` or `cluster`: tls, username, password, db... */
  readonly redis?: RedisConnectionOptions
  /** How long connecting may take before ioredis retries. Default '1s'. */
  readonly connectTimeout?: Duration
  /** Put before every key, so that several applications can share one Redis. Default 'middy-cache:'. */
  readonly prefix?: string
}

const optionNames = [...l2OptionNames, 'url', 'client', 'cluster', 'redis', 'connectTimeout', 'prefix'] as const
const longestConnectTimeoutMs = 60_000
const clusterOptionNames = ['nodes', 'options'] as const
const defaultTimeoutMs = 50
/** Redis's own limit for a string value. */
const maxPayloadBytes = 512 * 1024 * 1024
/** A hash tag is read up to the first '{' and '}': the prefix must hold neither. */
const hashTagBraces = { characters: /[{}]/, rule: "'{' or '}'" } as const
/** Compare-and-delete: a lease is released only by the holder whose token it still carries. */
const releaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
const ignore = (): void => undefined

const orUndefined = (payload: Buffer | null): Buffer | undefined => payload ?? undefined

/** Redis's answer to a read of a key that holds another type (a hash, a list: another program's, say). */
const isWrongType = (error: unknown): boolean => error instanceof Error && error.message.startsWith('WRONGTYPE')

/** Redis's answer to INCR on a key that holds no counter: another type, or a string that is no integer. */
const holdsNoCounter = (error: unknown): boolean => isWrongType(error) || (error instanceof Error && error.message.startsWith('ERR value is not an integer'))

/**
 * `read`, or `instead` when the key holds another type: Redis answered, so it is no outage, and the
 * key holds nothing this store wrote (the next SET, which replaces a key of any type, heals it).
 */
const unlessWrongType = async <T>(read: Promise<T>, instead: T): Promise<T> => {
  try {
    return await read
  } catch (error) {
    if (isWrongType(error)) return instead
    throw error
  }
}

/** A value key's payload; nothing when the key holds another type. */
const payloadOf = (read: Promise<Buffer | null>): Promise<Buffer | undefined> => unlessWrongType(read.then(orUndefined), undefined)

/**
 * An integer reply (PTTL's, INCR's) as a number: ioredis types it so, but a client made with
 * `stringNumbers` (yours, say) answers it as a string, which no comparison with a number would match.
 */
const integerOf = (reply: Promise<number>): Promise<number> => reply.then(Number)

/** PTTL's answer for a key that never expires. */
const foreverMs = -1

/** What INCR counts from: an integer's decimal digits. */
const counterText = /^-?\d+$/

/** A counter key's value: 0 when there is none, NaN when it holds no integer (another string, '' included, or another type). */
const counterOf = (value: string | null): number => (value === null ? 0 : counterText.test(value) ? Number(value) : Number.NaN)

/**
 * Options for the connection the store owns: lazy (nothing happens at module load), failing fast
 * rather than queueing while disconnected. Not auto-pipelined: ioredis holds each command back a
 * turn of the event loop to gather others, which cost an L2 get about a fifth of its time on
 * loopback, while the commands sent together (a batch's GETs, a lease's three) go out at once anyway
 * and share one round trip. No ioredis `commandTimeout` either: the engine already bounds every
 * operation by the tier's timeout, and a second timer per command cost an L2 get about as much
 * again; a command a silent server never answers is dropped with its connection, which is replaced
 * once the breaker opens (`unanswered`).
 */
const ownedConnectionOptions = (connectTimeoutMs: number): RedisConnectionOptions => ({
  lazyConnect: true,
  enableAutoPipelining: false,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: connectTimeoutMs,
  // A dead socket (a thawed environment's, say) is dropped quickly rather than waited on.
  disconnectTimeout: 100,
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 2_000),
})

/**
 * The connection the store uses, and the address its warnings name; `connectTimeoutMs` for one it
 * made, which it may replace.
 */
type Connection = { client: Redis | Cluster; address: string } & ({ owned: false } | { owned: true; connectTimeoutMs: number })

/** A node as ioredis takes it (a port, 'host:port', or { host, port }), as a warning names it. */
const addressOf = (node: ClusterNode): string => {
  if (typeof node === 'number') return `localhost:${node}`
  if (typeof node === 'string') return node
  return `${node.host ?? 'localhost'}:${node.port ?? 6379}`
}

const clientAddress = (client: Redis | Cluster): string => {
  if (client instanceof Cluster) return 'the cluster given as client'
  const { path, host, port } = client.options
  return path ?? `${host ?? 'localhost'}:${port ?? 6379}`
}

const connectionOf = (options: Record<string, unknown>): Connection => {
  const given = ['url', 'client', 'cluster'].filter((name) => options[name] !== undefined)
  if (given.length !== 1) {
    throw new CacheOptionsError('url', `or 'client' or 'cluster': exactly one must say where Redis is; got ${given.length === 0 ? 'none' : given.join(' and ')}`)
  }
  if (options.client !== undefined) {
    if (!(options.client instanceof Redis) && !(options.client instanceof Cluster)) {
      throw mustBe('client', 'an ioredis Redis or Cluster', options.client)
    }
    if (options.redis !== undefined || options.connectTimeout !== undefined) {
      throw new CacheOptionsError(options.redis === undefined ? 'connectTimeout' : 'redis', "applies to a connection the store makes, not to a 'client' you pass")
    }
    return { client: options.client, address: clientAddress(options.client), owned: false }
  }
  if (options.redis !== undefined && !isRecord(options.redis)) throw mustBe('redis', 'ioredis options such as { tls: {} }', options.redis)
  // Past a minute, no invocation would wait for it; past 2^31-1 ms, setTimeout would fire at once.
  const connectTimeoutMs = boundedDuration('connectTimeout', options.connectTimeout, 1_000, 1, longestConnectTimeoutMs)
  const redisOptions: RedisConnectionOptions = { ...ownedConnectionOptions(connectTimeoutMs), ...(options.redis as RedisConnectionOptions | undefined) }
  if (options.url !== undefined) {
    const client = new Redis(checkedUrl('url', options.url, ['redis:', 'rediss:'], 'a redis:// or rediss:// URL'), redisOptions)
    return { client, address: clientAddress(client), owned: true, connectTimeoutMs }
  }
  if (!isRecord(options.cluster)) throw mustBe('cluster', 'an object such as { nodes: [{ host, port }] }', options.cluster)
  rejectUnknownOptions(options.cluster, clusterOptionNames, 'cluster.')
  const { nodes, options: clusterOptions } = options.cluster
  if (!Array.isArray(nodes) || nodes.length === 0) throw new CacheOptionsError('cluster.nodes', `must list at least one node; got ${printable(nodes)}`)
  if (clusterOptions !== undefined && !isRecord(clusterOptions)) throw mustBe('cluster.options', 'ioredis cluster options', clusterOptions)
  // Cluster-wide settings go at the top level; the rest applies to each node's connection.
  const { lazyConnect, enableAutoPipelining, enableOfflineQueue, retryStrategy, ...perNode } = redisOptions
  const chosen = clusterOptions as RedisClusterOptions | undefined
  const cluster = new Cluster(nodes as ClusterNode[], {
    lazyConnect,
    enableAutoPipelining,
    enableOfflineQueue,
    // ioredis's cluster ready check (CLUSTER INFO) waits out a cluster that says it failed, whose
    // commands fail anyway (CLUSTERDOWN), as operations the breaker judges; and refused (an ACL user
    // without CLUSTER INFO) it reconnects for ever, with no error to tell why.
    enableReadyCheck: false,
    ...(retryStrategy === undefined || retryStrategy === null ? {} : { clusterRetryStrategy: retryStrategy }),
    ...chosen,
    redisOptions: { ...perNode, ...chosen?.redisOptions },
  })
  const first = addressOf((nodes as ClusterNode[])[0] ?? 6379)
  return { client: cluster, address: nodes.length === 1 ? first : `${first} (and ${nodes.length - 1} more nodes)`, owned: true, connectTimeoutMs }
}

/** The shared tier on Redis (or Valkey, ElastiCache, cluster mode) through ioredis. */
class RedisStore implements TieredStore {
  readonly kind = 'redis'
  readonly settings: L2Settings
  /** The connection in use: one the store made is replaced when it reached a replica (see `#replaceConnection`). */
  #client: Redis | Cluster
  /** The connection being made to replace `#client`, until it is ready, and what settles once it took over (or failed to). */
  #replacement: { readonly connection: Redis; readonly done: Promise<void> } | undefined
  /**
   * The leases (token and key: a batch takes its leases under one token) being given back in the
   * background: a give-back a replica refuses again is not tried a second time, which through a
   * reader endpoint would loop, a new connection each time.
   */
  readonly #givingBack = new Set<string>()
  #closed = false
  /** How long a connection the store made may take to get ready; undefined for yours, which the store neither replaces nor closes. */
  readonly #connectTimeoutMs: number | undefined
  readonly #prefix: string
  readonly #address: string
  /** When the connection last reached 'connect': its handshake (AUTH, the ready check) began. */
  #handshakeBegan = Number.POSITIVE_INFINITY
  /** Why the connection failed since it was last ready: the cause of an operation failed at once meanwhile ("not connected"). */
  #connectionFailure: Error | undefined
  /** The handshake's failure when the server reset it, as it did the one before: see `Endpoint.handshakeHungUp`. */
  #handshakeHungUp: Error | undefined
  /** Whether the endpoint was asked if it answers plain Redis since the connection was last ready: see `#probeWithoutTls`. */
  #probedWithoutTls = false
  /** It does: see `Endpoint.answersWithoutTls`. */
  #answersWithoutTls = false
  /**
   * The wait for the connection being made, shared by every operation that needs it: one listener on
   * the client however many operations wait (concurrent invocations would each add one, and Node
   * warns of a leak past ten). Settles at the next 'ready' or 'error'.
   */
  #ready: Promise<void> | undefined

  constructor(settings: L2Settings, connection: Connection, prefix: string) {
    const { client } = connection
    this.settings = settings
    this.#client = client
    this.#connectTimeoutMs = connection.owned ? connection.connectTimeoutMs : undefined
    this.#prefix = prefix
    this.#address = connection.address
    if (connection.owned) this.#watch(client, connection.connectTimeoutMs)
  }

  /**
   * Follows a connection the store made. Its errors reach the engine as failed operations (without a
   * listener ioredis would also log each one), and are kept until it is ready again, as the cause of
   * the operations failed at once meanwhile: one of those may be the first to tell why (bad
   * credentials, say), when the operation that waited for the connection gave up first.
   */
  #watch(client: Redis | Cluster, connectTimeoutMs: number): void {
    let handshakeResets = 0
    client.on('error', (error: Error) => {
      if (client !== this.#client) return
      this.#connectionFailure = error
      const code = 'code' in error ? error.code : undefined
      // Reset by the server in its handshake, twice in a row: a server that wants TLS does this to a plain connection.
      if (client.status === 'connect' && (code === 'ECONNRESET' || code === 'EPIPE') && ++handshakeResets >= 2) this.#handshakeHungUp = error
      // ioredis is 'connecting' until a TLS handshake ends.
      if (client.status === 'connecting' && isTlsHandshakeFailure(error)) this.#probeWithoutTls(client, connectTimeoutMs)
    })
    client.on('connect', () => {
      if (client === this.#client) this.#handshakeBegan = monotonicClock()
    })
    client.on('ready', () => {
      handshakeResets = 0
      if (client !== this.#client) return
      this.#connectionFailure = undefined
      this.#handshakeHungUp = undefined
      this.#probedWithoutTls = false
      this.#answersWithoutTls = false
    })
  }

  /**
   * A TLS handshake failed unanswered, as it does with an endpoint without TLS (rediss:// where
   * redis:// was meant), and with a stopped one or one out of reach. Whether the endpoint answers
   * plain Redis tells the first apart, for the warning to name it: asked once until the connection
   * is ready, over a connection of its own that sends nothing but PING.
   */
  #probeWithoutTls(client: Redis | Cluster, timeoutMs: number): void {
    if (this.#probedWithoutTls || !(client instanceof Redis)) return
    const { tls, path, host, port } = client.options
    if (tls === undefined || path !== undefined) return
    this.#probedWithoutTls = true
    answersPlainRedis(host ?? 'localhost', port ?? 6379, timeoutMs).then((answered) => {
      if (client === this.#client && client.status !== 'ready') this.#answersWithoutTls = answered
    }, ignore)
  }

  /** The engine's shared-tier code comes with the store: a cache without L2 neither bundles nor loads it. */
  sharedTier<V>(host: TierHost<V>): SharedTier<V> {
    return new SharedTier(this, host)
  }

  async get(key: string, signal: AbortSignal): Promise<Uint8Array | undefined> {
    if (this.#client.status !== 'ready') await this.#connected(signal)
    return payloadOf(this.#client.getBuffer(this.#valueKey(key)))
  }

  async getMany(keys: readonly string[], signal: AbortSignal): Promise<(Uint8Array | undefined)[]> {
    if (this.#client.status !== 'ready') await this.#connected(signal)
    // One GET per key, all sent before any answer: one round trip; MGET would fail across cluster slots.
    return Promise.all(keys.map((key) => payloadOf(this.#client.getBuffer(this.#valueKey(key)))))
  }

  async set(key: string, payload: Uint8Array, ttlMs: number, signal: AbortSignal): Promise<void> {
    if (this.#client.status !== 'ready') await this.#connected(signal)
    await this.#written(this.#client.set(this.#valueKey(key), Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), 'PX', ttlMs))
  }

  async delete(key: string, signal: AbortSignal): Promise<void> {
    if (this.#client.status !== 'ready') await this.#connected(signal)
    await this.#written(this.#client.del(this.#valueKey(key)))
  }

  async acquireLease(key: string, token: string, ttlMs: number, signal: AbortSignal): Promise<LeaseAttempt> {
    if (this.#client.status !== 'ready') await this.#connected(signal)
    const leaseKey = this.#leaseKey(key)
    let answer: [string | null, number, Uint8Array | undefined]
    const taking = this.#written(this.#client.set(leaseKey, token, 'PX', ttlMs, 'NX'))
    try {
      // Sent together, in this order, to one node (the hash tag puts both keys in one slot): one round trip.
      answer = await Promise.all([taking, integerOf(this.#client.pttl(leaseKey)), payloadOf(this.#client.getBuffer(this.#valueKey(key)))])
    } catch (error) {
      // No answer (the connection dropped with the commands sent, say): the lease may have been
      // taken, by an attempt that can neither write the value nor release it. Unless the SET itself
      // was refused (out of memory), which took nothing; answers come in order, so it is settled.
      const refused = await taking.then(
        () => false,
        (takingError: unknown) => this.refusal(takingError) !== undefined,
      )
      if (!refused) this.#giveBackLater(key, token, ttlMs)
      throw error
    }
    const [taken, leaseTtlMs, payload] = answer
    if (taken !== 'OK') {
      // Every lease is written with an expiry: a lease key without one (of any type) is another
      // program's, held by no environment, and would make every miss on this key wait out `lease.wait`.
      if (leaseTtlMs !== foreverMs) return { acquired: false, payload }
      await this.#written(this.#client.set(leaseKey, token, 'PX', ttlMs))
    }
    // Taken, but the answer came after the engine stopped waiting (its timeout): it will neither
    // write the value nor give the lease back, and every other environment would wait out
    // `lease.wait` for it. Given back as soon as the answer shows it was taken.
    if (signal.aborted) this.#giveBackLater(key, token, ttlMs)
    return { acquired: true, payload }
  }

  /**
   * The leases of `keys` under one `token`, each taken as `acquireLease` takes it, every key's
   * commands sent before any answer: one round trip, which the engine waits for under one timeout
   * and counts as one operation, as a lone lease. When any attempt fails, the leases taken beside it
   * are given back before it rejects with the first failure (in the background once the engine
   * stopped waiting, or when the release fails); a lease whose answer was lost is given back by its
   * own attempt, as `acquireLease` gives back a lone one, once the store has reconnected.
   */
  async acquireLeases(keys: readonly string[], token: string, ttlMs: number, signal: AbortSignal): Promise<LeaseAttempt[]> {
    const attempts = await Promise.allSettled(keys.map((key) => this.acquireLease(key, token, ttlMs, signal)))
    const answered = attempts.flatMap((attempt) => (attempt.status === 'fulfilled' ? [attempt.value] : []))
    const failure = attempts.find(isRejected)
    if (failure === undefined) return answered
    const taken = keys.filter((_, index) => {
      const attempt = attempts[index]
      return attempt?.status === 'fulfilled' && attempt.value.acquired
    })
    await Promise.all(
      taken.map(async (key) => {
        try {
          signal.throwIfAborted()
          await this.releaseLease(key, token, signal)
        } catch {
          this.#giveBackLater(key, token, ttlMs)
        }
      }),
    )
    throw failure.reason
  }

  /**
   * PTTL of the lease, then GET of the value, sent together to one node: one round trip. Redis runs
   * them in that order, and a holder writes its value before it gives the lease back, so a lease
   * seen gone comes with the value its holder wrote. A lease key without an expiry is another
   * program's, held by no environment, as `acquireLease` takes it.
   */
  async peekLease(key: string, signal: AbortSignal): Promise<LeaseState> {
    if (this.#client.status !== 'ready') await this.#connected(signal)
    const [leaseTtlMs, payload] = await Promise.all([integerOf(this.#client.pttl(this.#leaseKey(key))), payloadOf(this.#client.getBuffer(this.#valueKey(key)))])
    return { held: leaseTtlMs >= 0, payload }
  }

  /**
   * Releases in the background a lease an attempt the engine no longer follows may hold, over the
   * connection as it comes back if it dropped (the breaker replaces one that stopped answering),
   * for no longer than the lease would last anyway. Under its token: no one else's lease is touched.
   */
  #giveBackLater(key: string, token: string, ttlMs: number): void {
    const lease = JSON.stringify([token, key])
    if (this.#givingBack.has(lease)) return
    this.#givingBack.add(lease)
    const signal = AbortSignal.timeout(ttlMs)
    this.#readyAgain(signal)
      .then(() => this.releaseLease(key, token, signal))
      .catch(ignore)
      .finally(() => this.#givingBack.delete(lease))
  }

  /**
   * Once the connection is ready, through the failed attempts (each an 'error') ioredis may make
   * first, and the one that replaces it if it reached a replica; rejects when `signal` aborts.
   */
  async #readyAgain(signal: AbortSignal): Promise<void> {
    if (this.#replacement !== undefined) {
      await unlessAborted(this.#replacement.done, signal)
      signal.throwIfAborted()
    }
    while (this.#client.status !== 'ready') {
      try {
        await once(this.#client, 'ready', { signal })
      } catch {
        signal.throwIfAborted()
      }
    }
  }

  /**
   * Rejects with Redis's refusal when it runs no script for this client, even once the lease is given
   * back without it (`#releaseWithoutScript`): the engine then takes no more leases, which could
   * only be given back that way. Rejects with a replica's (READONLY) too, which has the connection
   * replaced as a write's does: a failover demoted the primary the lease was taken on, and carried
   * the lease to the new one, where it is given back in the background once the new connection is
   * ready, rather than hold every other environment's miss on its key for `lease.wait`.
   */
  async releaseLease(key: string, token: string, signal: AbortSignal): Promise<void> {
    if (this.#client.status !== 'ready') await this.#connected(signal)
    const leaseKey = this.#leaseKey(key)
    try {
      await this.#written(this.#client.eval(releaseScript, 1, leaseKey, token))
    } catch (error) {
      if (isScriptRefusal(error)) await this.#releaseWithoutScript(leaseKey, token, signal).catch(ignore)
      else if (isReadOnlyReply(error) && this.#replacement !== undefined && this.settings.lease !== undefined) this.#giveBackLater(key, token, this.settings.lease.ttlMs)
      throw error
    }
  }

  /**
   * Gives a lease back without the script, which Redis refused: the lease taken before the store
   * learnt of that would otherwise hold every other environment's miss on its key until its ttl.
   * DEL only when GET and PTTL, read together, show the lease still holds `token` with more than
   * the operation's timeout to go: not atomic as the script is, but no other environment can take
   * a lease that has not expired, and the DEL lands within that time. A lease another holds, or
   * one about to expire anyway, is left as it is.
   */
  async #releaseWithoutScript(leaseKey: string, token: string, signal: AbortSignal): Promise<void> {
    const [holder, leftMs] = await Promise.all([this.#client.get(leaseKey), integerOf(this.#client.pttl(leaseKey))])
    if (holder === token && leftMs > this.settings.timeoutMs && !signal.aborted) await this.#client.del(leaseKey)
  }

  async readCounter(key: string, signal: AbortSignal): Promise<number> {
    if (this.#client.status !== 'ready') await this.#connected(signal)
    return unlessWrongType(this.#client.get(this.#prefix + key).then(counterOf), Number.NaN)
  }

  async incrementCounter(key: string, restartAt: number, signal: AbortSignal): Promise<number> {
    if (this.#client.status !== 'ready') await this.#connected(signal)
    const counterKey = this.#prefix + key
    try {
      return await integerOf(this.#written(this.#client.incr(counterKey)))
    } catch (error) {
      if (!holdsNoCounter(error)) throw error
      await this.#written(this.#client.set(counterKey, String(restartAt)))
      return restartAt
    }
  }

  refusal(error: unknown): string | undefined {
    return refusalOf(error)
  }

  misconfiguration(error: unknown): StoreMisconfiguration | undefined {
    return misconfigurationOf(error, {
      address: this.#address,
      prefix: this.#prefix,
      handshakeHungUp: this.#handshakeHungUp,
      answersWithoutTls: this.#answersWithoutTls,
      clientGiven: this.#connectTimeoutMs === undefined,
    })
  }

  /** A write's answer; a replica's refusal (READONLY) has the connection replaced. */
  async #written<T>(command: Promise<T>): Promise<T> {
    try {
      return await command
    } catch (error) {
      if (isReadOnlyReply(error)) this.#replaceConnection()
      throw error
    }
  }

  /**
   * The connection reached a replica. After a failover that is the old primary, demoted, while the
   * endpoint names the new one, which a new connection reaches. It is made beside the one in use,
   * which serves reads until it is ready: reconnecting in place would fail every operation
   * meanwhile, and open the breaker under traffic. Through a reader endpoint the new connection
   * reaches a replica again, and is replaced at the next refused write: one per kind and cool-down,
   * since the engine skips what the store refuses. Only a connection this store made, and not a
   * cluster's, whose nodes ioredis follows itself.
   */
  #replaceConnection(): void {
    const current = this.#client
    if (this.#connectTimeoutMs === undefined || this.#closed || this.#replacement !== undefined || !(current instanceof Redis)) return
    const replacement = current.duplicate()
    this.#watch(replacement, this.#connectTimeoutMs)
    const done = replacement.connect().then(
      () => {
        this.#replacement = undefined
        if (this.#closed) {
          replacement.disconnect()
          return
        }
        this.#client = replacement
        this.#quit(current).catch(ignore)
      },
      () => {
        this.#replacement = undefined
        replacement.disconnect()
      },
    )
    this.#replacement = { connection: replacement, done }
  }

  /**
   * A connection that says 'ready' but answers nothing is replaced: a dead socket (a failover, a
   * lost NAT mapping) would otherwise stay until the kernel gives up retransmitting, some fifteen
   * minutes, and every probe would time out on it. So is one whose handshake has gone unanswered
   * for the connect timeout: ioredis stops that timeout once the socket connects, and would wait
   * for the ready check as long. Only a connection this store made: yours is yours.
   */
  unanswered(): void {
    if (this.#connectTimeoutMs === undefined) return
    const status = this.#client.status
    const handshakeStalled = status === 'connect' && monotonicClock() - this.#handshakeBegan >= this.#connectTimeoutMs
    if (status === 'ready' || handshakeStalled) this.#client.disconnect(true)
  }

  async close(): Promise<void> {
    if (this.#connectTimeoutMs === undefined) return
    this.#closed = true
    this.#replacement?.connection.disconnect()
    await this.#quit(this.#client)
  }

  /** Closes `client` once the commands sent on it are answered. */
  async #quit(client: Redis | Cluster): Promise<void> {
    if (client.status === 'wait' || client.status === 'end') {
      client.disconnect()
      return
    }
    // A server that stopped answering never answers QUIT either: given up on after the tier's timeout.
    const quit = client.quit().then(
      () => 'quit' as const,
      () => 'failed' as const,
    )
    let timer: NodeJS.Timeout | undefined
    const gaveUp = new Promise<'gave up'>((resolve) => {
      timer = setTimeout(resolve, this.settings.timeoutMs, 'gave up')
    })
    const ended = await Promise.race([quit, gaveUp])
    clearTimeout(timer)
    if (ended !== 'quit') client.disconnect()
  }

  /**
   * Connects on first use and waits for a connection being made, no longer than the operation may
   * take. A connection that was lost fails at once, its failure the cause: ioredis reconnects on its
   * own schedule, and until then waiting would only slow the invocation.
   */
  async #connected(signal: AbortSignal): Promise<void> {
    const client = this.#client
    switch (client.status) {
      case 'wait':
        client.connect().catch(ignore)
        break
      case 'connecting':
      case 'connect':
        break
      default:
        throw new Error(`Redis is not connected (${client.status})`, this.#connectionFailure === undefined ? undefined : { cause: this.#connectionFailure })
    }
    this.#ready ??= once(client, 'ready')
      .then(ignore)
      .finally(() => {
        this.#ready = undefined
      })
    await unlessAborted(this.#ready, signal)
    signal.throwIfAborted()
  }

  /** `{key}`: a hash tag, so that an entry and its lease live in one cluster slot. */
  #valueKey(key: string): string {
    return `${this.#prefix}{${key}}`
  }

  #leaseKey(key: string): string {
    return `${this.#prefix}{${key}}:lease`
  }
}

/**
 * A shared tier on Redis: `redisStore({ url })`, `redisStore({ client })` or `redisStore({ cluster })`.
 * Make it once, at module scope: its one connection is reused by every invocation of the environment.
 */
export const redisStore = (options: RedisStoreOptions): L2Store => {
  if (!isRecord(options)) throw mustBe('options', 'an object such as { url: process.env.REDIS_URL }', options)
  rejectUnknownOptions(options, optionNames)
  const prefix = resolvePrefix(options.prefix, hashTagBraces)
  const settings = resolveL2Settings(options, { timeoutMs: defaultTimeoutMs, maxPayloadBytes })
  return new RedisStore(settings, connectionOf(options), prefix)
}
