import { registeredCaches } from '../../src/index.js'

/** The engine cache the middleware built last registered, to wait for its prefetch or settle it. */
export const lastRegisteredCache = () => {
  const registration = registeredCaches().at(-1)
  if (registration === undefined) throw new Error('no cache registered')
  return registration.cache
}
