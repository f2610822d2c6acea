export { redisStore, type RedisClusterOptions, type RedisConnectionOptions, type RedisStoreOptions } from '../src/stores/redis/index.js'
export type { L2Options } from '../src/stores/l2-options.js'
export type { L2Store } from '../src/stores/l2-store.js'
