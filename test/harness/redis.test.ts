import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { isAlive, redisPing, startRedis, uniqueName, type RedisHandle } from './index.js'

/** A client that fails fast: short command timeout, quick reconnects. */
const fastClient = (url: string): Redis =>
  new Redis(url, { commandTimeout: 300, maxRetriesPerRequest: 1, retryStrategy: () => 50 })

test('the global REDIS_URL serves SET and GET', async () => {
  const client = new Redis(process.env.REDIS_URL!)
  try {
    const key = uniqueName('harness')
    await client.set(key, 'value', 'EX', 60)
    expect(await client.get(key)).toBe('value')
  } finally {
    client.disconnect()
  }
})

describe('a private redis-server', () => {
  let redis: RedisHandle
  let client: Redis

  beforeAll(async () => {
    redis = await startRedis()
    client = fastClient(redis.url)
  })

  afterAll(async () => {
    client.disconnect()
    await redis.stop()
  })

  test('listens on its own loopback port', async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`)
    expect(redis.port).not.toBe(6379)
    expect(isAlive(redis.pid)).toBe(true)
    await client.set('k', 'v')
    expect(await client.get('k')).toBe('v')
  })

  test('pause() makes commands time out, resume() brings it back', async () => {
    redis.pause()
    try {
      expect(redis.paused).toBe(true)
      await expect(client.get('k')).rejects.toThrow(/timed out/i)
    } finally {
      redis.resume()
    }
    expect(redis.paused).toBe(false)
    await expect(client.get('k')).resolves.toBe('v')
  })

  test('kill() then restart() serves again on the same port with a new pid and no data', async () => {
    const { port, pid } = redis
    await redis.kill()
    expect(redis.running).toBe(false)
    expect(isAlive(pid)).toBe(false)
    await expect(redisPing(redis.host, port)).rejects.toThrow(/ECONNREFUSED/)

    await redis.restart()
    expect(redis.port).toBe(port)
    expect(redis.pid).not.toBe(pid)
    expect(redis.pids).toEqual([pid, redis.pid])
    // The client reconnects on its own; nothing was persisted.
    await expect(client.get('k')).resolves.toBeNull()
  })

  test('kill() ends a paused server', async () => {
    const { pid } = redis
    redis.pause()
    await redis.kill()
    expect(isAlive(pid)).toBe(false)
    await redis.start()
    await expect(redisPing(redis.host, redis.port)).resolves.toBeUndefined()
  })

  test('start() refuses to start a second process', async () => {
    await expect(redis.start()).rejects.toThrow(/already runs/)
  })
})

test('stop() leaves no process behind, even a paused one, and removes its directory', async () => {
  const redis = await startRedis()
  const { pid, dir } = redis
  redis.pause() // SIGTERM alone would stay pending on a stopped process
  await redis.stop()
  expect(() => process.kill(pid, 0)).toThrow()
  expect(existsSync(dir)).toBe(false)
  await redis.stop() // idempotent
})

test('a missing redis-server binary fails with how to install it', async () => {
  await expect(startRedis({ binary: 'middy-cache-no-such-redis-server' })).rejects.toThrow(
    /middy-cache-no-such-redis-server is not installed.*apt-get install redis-server/,
  )
})

test('a redis-server that cannot start fails with its own output', async () => {
  await expect(startRedis({ args: ['--no-such-option', 'x'], startupTimeoutMs: 5000 })).rejects.toThrow(
    /redis-server did not come up on 127\.0\.0\.1:\d+ .*exited early[\s\S]*no-such-option/,
  )
})

test('a port in use fails with redis-server\'s bind error', async () => {
  // Hangs up at once, so that its connections never keep close() waiting.
  const squatter = createServer((socket) => socket.destroy())
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve))
  try {
    const address = squatter.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    // A fixed port is never swapped for another one: the caller asked for it.
    await expect(startRedis({ port: address.port })).rejects.toThrow(/Address already in use/)
  } finally {
    await new Promise((resolve) => squatter.close(resolve))
  }
})
