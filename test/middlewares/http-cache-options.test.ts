import { httpCache } from '../../middlewares/http-cache.js'
import { CacheOptionsError } from '../../src/index.js'

/** Builds httpCache from options a JavaScript caller (or a cast) could pass, and returns what it threw. */
const thrownBy = (options: unknown): unknown => {
  try {
    httpCache(options as Parameters<typeof httpCache>[0])
  } catch (error) {
    return error
  }
  throw new Error('httpCache accepted the options')
}

describe('httpCache options are validated at construction', () => {
  test.each<[string, unknown, string, RegExp]>([
    ['options that are no object', 'public', 'options', /must be an object/],
    ['options that are an array', [60], 'options', /must be an object/],
    ['a misspelt option', { maxage: 60 }, 'maxage', /did you mean "maxAge"/],
    ['another misspelt option', { staleWhileRevalidation: 60 }, 'staleWhileRevalidation', /did you mean "staleWhileRevalidate"/],
    ['an option of another middleware', { ttl: '5m' }, 'ttl', /is not an option/],
    ['a duration HTTP cannot say', { maxAge: '500ms' }, 'maxAge', /whole seconds/],
    ['a fractional number of seconds', { sMaxAge: 1.5 }, 'sMaxAge', /whole seconds/],
    ['a negative duration', { maxAge: -1 }, 'maxAge', /zero or more/],
    ['a duration that is no duration', { staleIfError: 'a day' }, 'staleIfError', /'5m'/],
    ['a duration past 2^31 seconds', { maxAge: 2 ** 31 + 1 }, 'maxAge', /at most 2147483648 seconds/],
    ['a duration of the wrong type', { staleWhileRevalidate: true }, 'staleWhileRevalidate', /number of seconds/],
    ['a negativeTtl HTTP cannot say', { negativeTtl: '500ms' }, 'negativeTtl', /whole seconds/],
    ['a negative negativeTtl', { negativeTtl: -30 }, 'negativeTtl', /zero or more/],
    ['a negativeTtl that is no duration', { negativeTtl: 'a minute' }, 'negativeTtl', /'5m'/],
    ['a null negativeTtl', { negativeTtl: null }, 'negativeTtl', /number of seconds/],
    ['a negativeTtl past 2^31 seconds', { negativeTtl: 2 ** 31 + 1 }, 'negativeTtl', /at most 2147483648 seconds/],
    ['a misspelt negativeTtl', { negativeTTL: '30s' }, 'negativeTTL', /did you mean "negativeTtl"/],
    ['negativeTtl with statusCodes listing neither 404 nor 410', { statusCodes: [200, 301], negativeTtl: '30s' }, 'negativeTtl', /404 and 410.*statusCodes/],
    ['public and private together', { public: true, private: true }, 'private', /cannot be combined with public/],
    ['private with a shared-cache age', { private: true, sMaxAge: 60 }, 'sMaxAge', /only to shared caches/],
    ['public that is no boolean', { public: 'yes' }, 'public', /true or false/],
    ['private that is no boolean', { private: 1 }, 'private', /true or false/],
    ['cacheAuthorized that is no boolean', { cacheAuthorized: 'true' }, 'cacheAuthorized', /true or false/],
    ['cacheAuthorized that is no boolean, beside private', { private: true, cacheAuthorized: 'no' }, 'cacheAuthorized', /true or false/],
    ['etag that is no boolean', { etag: 0 }, 'etag', /true or false/],
    ['vary as one string', { vary: 'Accept-Encoding' }, 'vary', /array of request header names/],
    ['vary with *', { vary: ['Accept', '*'] }, 'vary[1]', /cannot be '\*'/],
    ['vary with a name that is no token', { vary: ['Accept Language'] }, 'vary[0]', /header name/],
    ['vary with a name that is no string', { vary: [42] }, 'vary[0]', /header name/],
    ['statusCodes empty', { statusCodes: [] }, 'statusCodes', /non-empty array/],
    ['statusCodes as one number', { statusCodes: 200 }, 'statusCodes', /non-empty array/],
    ['a status code out of range', { statusCodes: [200, 99] }, 'statusCodes[1]', /from 100 to 599/],
    ['a status code that is no integer', { statusCodes: [200.5] }, 'statusCodes[0]', /from 100 to 599/],
    ['a status code as a string', { statusCodes: ['200'] }, 'statusCodes[0]', /from 100 to 599/],
  ])('%s throws a CacheOptionsError naming the option', (_case, options, option, message) => {
    const error = thrownBy(options)
    expect(error).toBeInstanceOf(CacheOptionsError)
    expect(error).toMatchObject({ option })
    expect((error as Error).message).toContain(`option "${option}"`)
    expect((error as Error).message).toMatch(message)
  })

  test('no options at all, and every option at once, are accepted', () => {
    expect(httpCache()).toEqual({ after: expect.any(Function) as unknown })
    expect(() =>
      httpCache({
        maxAge: '1m',
        sMaxAge: '1h',
        staleWhileRevalidate: '5m',
        staleIfError: '1d',
        public: true,
        vary: ['Accept-Encoding', 'Accept-Language'],
        statusCodes: [200, 404],
        cacheAuthorized: true,
        etag: false,
        negativeTtl: '30s',
      }),
    ).not.toThrow()
  })

  test('statusCodes without 404 and 410 are accepted when negativeTtl is left at its default, and negativeTtl with either one of them', () => {
    expect(() => httpCache({ statusCodes: [200, 301] })).not.toThrow()
    expect(() => httpCache({ statusCodes: [200, 410], negativeTtl: 0 })).not.toThrow()
    expect(() => httpCache({ statusCodes: [404], negativeTtl: '1d' })).not.toThrow()
  })
})
