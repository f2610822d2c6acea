import { Redis } from 'ioredis'

/**
 * Redis keeps real time while the demo moves the world's clock on: after a jump of `ms`, it deletes
 * the keys whose expiry falls within it (say, a stampede lease taken a moment ago), as Redis would
 * have expired them had the time really passed. Values whose expiry lies beyond stay.
 */
export const expireRedisKeysWithin = async (url: string, ms: number): Promise<number> => {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    let expired = 0
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 1000)
      cursor = next
      const remaining = await Promise.all(keys.map((key) => redis.pttl(key)))
      const due = keys.filter((_, index) => (remaining[index] ?? -1) >= 0 && (remaining[index] ?? -1) <= ms)
      if (due.length > 0) expired += await redis.del(...due)
    } while (cursor !== '0')
    return expired
  } finally {
    redis.disconnect()
  }
}
