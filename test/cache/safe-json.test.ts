import { parseJsonSafely } from '../../src/cache/safe-json.js'

describe('parseJsonSafely', () => {
  test.each([
    ['a __proto__ key', '{"a":{"__proto__":{"polluted":true}}}'],
    ['a constructor.prototype key', '{"constructor":{"prototype":{"polluted":true}}}'],
    ['a __proto__ key spelt with unicode escapes', '{"\\u005f_proto__":{"polluted":true}}'],
    ['a constructor key spelt with unicode escapes', '{"\\u0063onstructor":{"prototype":{}}}'],
  ])('refuses %s', (_what, text) => {
    expect(parseJsonSafely(text)).toBeUndefined()
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  test('reads a constructor key that changes no prototype, and anything that is not JSON as undefined', () => {
    expect(parseJsonSafely('{"constructor":"fine","n":[1,2]}')).toEqual({ constructor: 'fine', n: [1, 2] })
    expect(parseJsonSafely('{"truncated":')).toBeUndefined()
  })

  test('text that names those keys only inside longer strings takes the plain parse, without the checking one', () => {
    const parse = jest.spyOn(JSON, 'parse')
    try {
      const text = JSON.stringify({ log: 'the constructor ran; __proto__ was untouched' })
      expect(parseJsonSafely(text)).toEqual({ log: 'the constructor ran; __proto__ was untouched' })
      expect(parse).toHaveBeenCalledTimes(1)
      expect(parse.mock.calls[0]).toEqual([text])
    } finally {
      parse.mockRestore()
    }
  })
})
