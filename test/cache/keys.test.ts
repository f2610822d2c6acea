import { CacheError, createCache, Outcome } from '../../src/index.js'
import { maxPlainKeyLength, storeKeyOf } from '../../src/cache/keys.js'

const echo = (key: string): string => `value of ${key.slice(0, 20)}:${key.length}`

describe('keys', () => {
  test('any string is a key, the empty string included', async () => {
    const cache = createCache({ name: 'strings', load: echo, ttl: '1h' })
    for (const key of ['', ' ', 'ü/日本/🙂', '__proto__', 'constructor', 'a\nb', '\u0000lead']) {
      expect(await cache.get(key)).toBe(echo(key))
      expect((await cache.lookup(key)).outcome).toBe(Outcome.Hit)
    }
  })

  test('very long keys are stored hashed, and two long keys never share an entry', async () => {
    const load = jest.fn(echo)
    const cache = createCache({ name: 'long', load, ttl: '1h' })
    const first = 'k'.repeat(100_000)
    const second = 'k'.repeat(99_999) + 'j'
    expect(storeKeyOf(first).length).toBeLessThan(64)
    expect(storeKeyOf(first)).not.toBe(storeKeyOf(second))
    await cache.get(first)
    await cache.get(second)
    expect((await cache.lookup(first)).value).toBe(echo(first))
    expect((await cache.lookup(second)).value).toBe(echo(second))
    expect(load).toHaveBeenCalledTimes(2)
    expect(cache.stats().bytes).toBeLessThan(1_000)
  })

  test('a plain key can never equal a hashed one', () => {
    const long = 'x'.repeat(maxPlainKeyLength + 1)
    expect(storeKeyOf('x'.repeat(maxPlainKeyLength))).toBe('x'.repeat(maxPlainKeyLength))
    expect(storeKeyOf(long).startsWith('\u0000')).toBe(true)
    expect(storeKeyOf(storeKeyOf(long))).not.toBe(storeKeyOf(long))
  })

  test('keys that differ only in lone surrogates, which UTF-8 turns alike, never share an entry, short or long', async () => {
    const cache = createCache({ name: 'surrogates', load: (key: string) => `${key.length}:${key.charCodeAt(key.length - 2).toString(16)},${key.charCodeAt(key.length - 1).toString(16)}`, ttl: '1h' })
    for (const stem of ['u', 'u'.repeat(maxPlainKeyLength)]) {
      const keys = [`${stem}\ud800`, `${stem}\udc00`, `${stem}\ufffd`, `${stem}\ud800\u0080`]
      const values = await cache.getMany(keys)
      expect(new Set(values).size).toBe(keys.length)
      for (const [index, key] of keys.entries()) expect((await cache.lookup(key)).value).toBe(values[index])
      expect(new Set(keys.map(storeKeyOf)).size).toBe(keys.length)
    }
    expect(storeKeyOf('\ud800\u0080')).not.toBe(storeKeyOf('\u0000\u0600\u0000'))
  })

  test('the cache name keeps caches apart: one key, two caches, two values', async () => {
    const users = createCache({ name: 'users', load: (id) => `user ${id}`, ttl: '1h' })
    const orders = createCache({ name: 'orders', load: (id) => `order ${id}`, ttl: '1h' })
    expect(await users.get('42')).toBe('user 42')
    expect(await orders.get('42')).toBe('order 42')
  })

  test('a key that is not a string is rejected with an error naming the cache', async () => {
    const cache = createCache({ name: 'typed', load: echo, ttl: '1h' })
    const error: unknown = await cache.get(42 as unknown as string).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(CacheError)
    expect((error as Error).message).toMatch(/"typed".*string keys.*number/)
    await expect(cache.getMany([undefined as unknown as string])).rejects.toThrow(/"typed" needs string keys; got undefined/)
  })

  test("errors name a key as JSON writes it: a key from the event cannot forge a log line with control characters, nor blur where it ends with a quote", async () => {
    const key = '7" ok\n[ERROR] forged\u001b[31m\ud800'
    const cache = createCache({ name: 'escaped', load: () => Promise.reject(new Error('down')), ttl: '1h' })
    const error: unknown = await cache.get(key).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ message: 'middy-cache: loading "7\\" ok\\n[ERROR] forged\\u001b[31m\\ud800" for cache "escaped" failed: down', key })
    const slow = createCache({ name: 'escaped-slow', load: () => new Promise<string>(() => undefined), ttl: '1h', timeout: '10ms' })
    await expect(slow.get('a\rb')).rejects.toThrow('middy-cache: loading "a\\rb" for cache "escaped-slow" timed out after 10 ms')
    await slow.settle(0)
  })

  test('set and delete reject a key that is not a string, as get does, rather than throwing at the call', async () => {
    const cache = createCache({ name: 'typed-writes', load: echo, ttl: '1h' })
    let written: Promise<void> | undefined
    let deleted: Promise<boolean> | undefined
    expect(() => {
      written = cache.set(null as unknown as string, 'v')
      deleted = cache.delete(7 as unknown as string)
    }).not.toThrow()
    await expect(written).rejects.toThrow(/cache "typed-writes" needs string keys; got null/)
    await expect(deleted).rejects.toThrow(/cache "typed-writes" needs string keys; got number/)
    expect(cache.stats().entries).toBe(0)
  })
})
