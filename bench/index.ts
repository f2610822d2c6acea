import { benchCacheMetrics } from './cache-metrics.js'
import { benchL1Hit } from './l1-hit.js'
import { benchL2Hit } from './l2-hit.js'

await benchL1Hit()
await benchCacheMetrics()
await benchL2Hit()
