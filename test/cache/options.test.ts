import { CacheOptionsError, createCache, parseDuration } from '../../src/index.js'
import type { CacheOptions } from '../../src/index.js'
import { resolveLogger } from '../../src/cache/options.js'

const valid: CacheOptions<string> = { name: 'products', load: () => 'v', ttl: '5m' }
const withOptions = (options: Record<string, unknown>) => () => createCache({ ...valid, ...options })

describe('durations', () => {
  test.each([
    [30, 30_000],
    [0.5, 500],
    [0, 0],
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
  ])('%p is %p ms', (value, milliseconds) => {
    expect(parseDuration('ttl', value)).toBe(milliseconds)
  })

  test.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '5 minutes', '5', '-5s', '1w', '', null, {}, true])('%p is rejected, naming the option', (value) => {
    expect(() => parseDuration('staleIfError', value)).toThrow(CacheOptionsError)
    expect(() => parseDuration('staleIfError', value)).toThrow(/option "staleIfError"/)
  })
})

describe('option validation at construction', () => {
  test('valid options construct a cache named as asked', () => {
    expect(createCache(valid).name).toBe('products')
  })

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['negative ttl', { ttl: -1 }, /option "ttl" must be a finite duration of zero or more; got -1/],
    ['zero ttl', { ttl: 0 }, /option "ttl" must be 1 ms or more/],
    ['missing ttl', { ttl: undefined }, /option "ttl" is required/],
    ['ttl as text', { ttl: 'five minutes' }, /option "ttl" must be a number of seconds or a string such as '500ms'/],
    ['negative staleWhileRevalidate', { staleWhileRevalidate: '-1m' }, /option "staleWhileRevalidate"/],
    ['bad staleIfError', { staleIfError: {} }, /option "staleIfError".*got an object/],
    ['bad negativeTtl', { negativeTtl: '1y' }, /option "negativeTtl"/],
    ['ttl past a year', { ttl: '366d' }, /option "ttl" must be a duration of at most one year \('365d'\); got "366d"/],
    ['staleWhileRevalidate past a year', { staleWhileRevalidate: 365 * 86_400 + 1 }, /option "staleWhileRevalidate" must be a duration of at most one year/],
    ['staleIfError past a year', { staleIfError: 1e300 }, /option "staleIfError" must be a duration of at most one year \('365d'\); got 1e\+300/],
    ['negativeTtl past a year', { negativeTtl: '8761h' }, /option "negativeTtl" must be a duration of at most one year/],
    ['jitter of 1', { jitter: 1 }, /option "jitter" must be a fraction from 0 up to \(not including\) 1/],
    ['negative jitter', { jitter: -0.1 }, /option "jitter"/],
    ['jitter as text', { jitter: '10%' }, /option "jitter"/],
    ['zero timeout', { timeout: 0 }, /option "timeout" must be from 1 ms to/],
    ['huge timeout', { timeout: '30d' }, /option "timeout" must be from 1 ms to 2147483647 ms; got "30d"/],
    ['unknown option', { ttlSeconds: 5 }, /option "ttlSeconds" is not an option; known options: name, load/],
    ['misspelt option', { staleWhileRevalidat: '1m' }, /option "staleWhileRevalidat" is not an option \(did you mean "staleWhileRevalidate"\?\)/],
    ['loader not a function', { load: 'getProduct' }, /option "load" must be a function; got "getProduct"/],
    ['missing loader', { load: undefined }, /option "load" must be a function; got undefined/],
    ['loadMany not a function', { loadMany: {} }, /option "loadMany" must be a function/],
    ['now not a function', { now: 5 }, /option "now" must be a function/],
    ['describeKey not a function', { describeKey: 'the key' }, /option "describeKey" must be a function/],
    ['errorKey not a function', { errorKey: 'the key' }, /option "errorKey" must be a function/],
    ['empty name', { name: '' }, /option "name" must be 1 to 64 letters/],
    ['name with a colon', { name: 'a:b' }, /option "name".*got "a:b"/],
    ['name not a string', { name: 7 }, /option "name".*got 7/],
    ['maxEntries below 1', { l1: { maxEntries: 0 } }, /option "l1.maxEntries" must be a whole number of 1 or more; got 0/],
    ['fractional maxEntries', { l1: { maxEntries: 1.5 } }, /option "l1.maxEntries"/],
    ['maxBytes not a number', { l1: { maxBytes: '10MB' } }, /option "l1.maxBytes"/],
    ['misspelt l1 option', { l1: { maxEntry: 10 } }, /option "l1.maxEntry" is not an option \(did you mean "l1.maxEntries"\?\); known options: maxEntries, maxBytes/],
    ['l1 not an object', { l1: 100 }, /option "l1" must be an object/],
  ])('%s', (_case, options, message) => {
    expect(withOptions(options)).toThrow(CacheOptionsError)
    expect(withOptions(options)).toThrow(message)
  })

  test('every freshness window may be a whole year', () => {
    expect(withOptions({ ttl: '365d', staleWhileRevalidate: '365d', staleIfError: 365 * 86_400, negativeTtl: '8760h' })).not.toThrow()
  })

  test('options that are not an object are rejected', () => {
    expect(() => createCache(null as unknown as CacheOptions<string>)).toThrow(/option "options" must be an object/)
  })

  test('the error names the option in a field too', () => {
    let error: unknown
    try {
      withOptions({ jitter: 2 })()
    } catch (thrown) {
      error = thrown
    }
    expect(error).toMatchObject({ name: 'CacheOptionsError', option: 'jitter' })
  })
})

describe('the logger option', () => {
  test('a logger that throws never fails what it reports on', () => {
    const logger = resolveLogger({
      warn: () => {
        throw new Error('transport closed')
      },
    })
    expect(() => {
      logger.warn('middy-cache: something to report')
    }).not.toThrow()
  })
})
