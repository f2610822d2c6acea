import middy from '@middy/core'
import { httpCache, type HttpCacheOptions } from '../../middlewares/http-cache.js'
import type { HttpRequestSpec } from './http-events.js'
import { invoke } from './invoke.js'

/** Makes one of the HTTP event shapes httpCache meets (see `httpEventFactories`). */
export type EventFactory = (spec?: HttpRequestSpec) => unknown

/** Invokes a handler answering `response` behind httpCache, through real Middy. */
export const respondThroughHttpCache = (options: HttpCacheOptions, response: unknown, event: unknown): Promise<unknown> =>
  invoke(
    middy()
      .use(httpCache(options))
      .handler(() => Promise.resolve(response)),
    event,
  )
