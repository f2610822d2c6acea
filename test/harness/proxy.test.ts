import { connect } from 'node:net'
import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { freePort, redisPing, startTcpProxy, uniqueName, type TcpProxy } from './index.js'

// The proxy sits in front of the global redis-server; only the proxy's network misbehaves.
const target = (): { host: string; port: number } => {
  const url = new URL(process.env.REDIS_URL!)
  return { host: url.hostname, port: Number(url.port) }
}

/** Resolves with the connect error code, or 'connected'. */
const tryConnect = (port: number): Promise<string> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve('connected')
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code ?? error.message)
    })
  })

describe('startTcpProxy', () => {
  let proxy: TcpProxy
  const clients: Redis[] = []
  const client = (options: { commandTimeout?: number } = {}): Redis => {
    // disconnectTimeout: disconnect() arms a timer for a socket that may already be closed (by the proxy); keep it short.
    const created = new Redis(proxy.url('redis'), { maxRetriesPerRequest: 1, retryStrategy: () => 50, disconnectTimeout: 100, ...options })
    clients.push(created)
    return created
  }

  beforeEach(async () => {
    proxy = await startTcpProxy({ target: target() })
  })

  afterEach(async () => {
    for (const created of clients.splice(0)) created.disconnect()
    await proxy.close()
  })

  test('forwards both ways', async () => {
    const key = uniqueName('proxy')
    const viaProxy = client()
    await viaProxy.set(key, 'through the proxy', 'EX', 60)
    const direct = new Redis(process.env.REDIS_URL!)
    try {
      expect(await direct.get(key)).toBe('through the proxy')
    } finally {
      direct.disconnect()
    }
    expect(await viaProxy.get(key)).toBe('through the proxy')
    expect(proxy.connections).toBe(1)
  })

  test('setLatency delays each chunk in each direction', async () => {
    const redis = client()
    await redis.ping() // connect first, so only the round trip is timed
    proxy.setLatency(100)
    const started = performance.now()
    await redis.ping()
    // 100 ms on the way in and 100 ms on the way out; only a lower bound is stable.
    expect(performance.now() - started).toBeGreaterThanOrEqual(200)
    expect(() => {
      proxy.setLatency(-1)
    }).toThrow(/latency/)
  })

  test('dropConnections breaks an open connection; the client reconnects', async () => {
    const redis = client()
    await redis.ping()
    const closed = new Promise<void>((resolve) => redis.once('close', resolve))
    proxy.dropConnections()
    await closed
    expect(['reconnecting', 'connecting', 'connect', 'ready']).toContain(redis.status)
    await expect(redis.ping()).resolves.toBe('PONG')
  })

  test('blackhole makes commands time out; lifting it lets the held bytes through', async () => {
    const redis = client({ commandTimeout: 200 })
    await redis.ping()
    proxy.setBlackhole(true)
    await expect(redis.ping()).rejects.toThrow(/timed out/i)
    // New connections are accepted but get nothing back either.
    await expect(redisPing(proxy.host, proxy.port, 200)).rejects.toThrow(/no PING reply/)
    proxy.setBlackhole(false)
    await expect(redis.ping()).resolves.toBe('PONG')
  })

  test('silenceOpenConnections: an open connection gets nothing back, ever, and stays open; a new one works', async () => {
    const redis = client({ commandTimeout: 200 })
    await redis.ping()
    proxy.silenceOpenConnections()
    await expect(redis.ping()).rejects.toThrow(/timed out/i)
    expect(redis.status).toBe('ready')
    await expect(redisPing(proxy.host, proxy.port, 1_000)).resolves.toBeUndefined()
  })

  test('setTarget: new connections go to the new target, open ones stay with the old', async () => {
    const redis = client()
    await redis.ping()
    proxy.setTarget({ host: '127.0.0.1', port: await freePort() })
    await expect(redisPing(proxy.host, proxy.port, 1_000)).rejects.toThrow()
    await expect(redis.ping()).resolves.toBe('PONG')
  })

  test('setRefusing closes the port, and opens it again on the same port', async () => {
    await proxy.setRefusing(true)
    expect(await tryConnect(proxy.port)).toBe('ECONNREFUSED')
    await proxy.setRefusing(false)
    await expect(redisPing(proxy.host, proxy.port)).resolves.toBeUndefined()
  })

  test('close() drops connections and frees the port', async () => {
    const redis = client()
    await redis.ping()
    const closed = new Promise<void>((resolve) => redis.once('close', resolve))
    await proxy.close()
    await closed
    expect(proxy.connections).toBe(0)
    expect(await tryConnect(proxy.port)).toBe('ECONNREFUSED')
  })
})
