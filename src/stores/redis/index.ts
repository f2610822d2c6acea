export { redisStore, type RedisClusterOptions, type RedisConnectionOptions, type RedisStoreOptions } from './redis-store.js'
