import { existsSync } from 'node:fs'
import { reachedFrom } from '../support/reached-from.js'


describe('optional dependencies load only from their own entry points', () => {
  test('middy-cache alone reaches neither ioredis nor the shared-tier drivers nor the ready loaders', async () => {
    const { modules, packages } = await reachedFrom('entrypoints/index.ts')
    expect(packages).not.toContain('ioredis')
    // The shared tier's own code (envelopes, leases, the breaker's use) comes with redisStore and dynamoStore;
    // turning entries into JSON and back, with them and with the cold-start snapshot.
    const absent = ['src/stores/redis/redis-store.ts', 'src/stores/dynamodb/dynamo-store.ts', 'src/sources/dynamodb-item.ts', 'src/sources/s3-object.ts', 'src/cache/shared-tier.ts', 'src/cache/envelope.ts', 'src/cache/json-envelope.ts', 'src/snapshot/portable-entry.ts']
    for (const module of absent) {
      // A module moved or renamed would pass unnoticed.
      expect(existsSync(module)).toBe(true)
      expect(modules).not.toContain(module)
    }
    expect(modules).toContain('middlewares/data-cache.ts')
  })

  test('middy-cache/redis brings ioredis and no AWS SDK client; middy-cache/dynamodb and middy-cache/s3 bring only their own client', async () => {
    const redis = await reachedFrom('entrypoints/redis.ts')
    expect(redis.packages).toEqual(expect.arrayContaining(['ioredis']))
    expect(redis.packages.filter((name) => name.startsWith('@aws-sdk/'))).toEqual([])
    const dynamodb = await reachedFrom('entrypoints/dynamodb.ts')
    expect(dynamodb.packages.filter((name) => name.startsWith('@aws-sdk/') || name === 'ioredis')).toEqual(['@aws-sdk/client-dynamodb'])
    const s3 = await reachedFrom('entrypoints/s3.ts')
    expect(s3.packages.filter((name) => name.startsWith('@aws-sdk/') || name === 'ioredis')).toEqual(['@aws-sdk/client-s3'])
  })
})
