import { isScriptRefusal, misconfigurationOf, refusalOf } from '../../src/stores/redis/replies.js'

/**
 * Redis's answers as other versions word them than the redis-server the integration tests run (7.0),
 * where each of these refusals is produced in 7.0's wording (Valkey's unknown command is worded as
 * 7.0's): Redis 6.2 and before, Redis 7.2 and Valkey's ACL refusals, ElastiCache on Redis before 6.0.
 */

/** A ReplyError as ioredis makes it: an Error whose message is the reply. */
const reply = (message: string): Error => new Error(message)

const endpoint = { address: 'cache.example:6379', prefix: 'middy-cache:', handshakeHungUp: undefined, answersWithoutTls: false, clientGiven: false } as const

describe("Redis's refusals as other versions word them", () => {
  test("EVAL renamed away, in Redis 5 to 6.2's wording (backquotes, commas): a refusal of the script, cut before the script, key and token it quotes", () => {
    const error = reply('ERR unknown command `eval`, with args beginning with: `if redis.call(\'get\', KEYS[1]) == ARGV[1] then return redis.call(\'del\', KEYS[1]) end return 0`, `1`, `middy-cache:{k}:lease`, `token-1`, ')
    expect(isScriptRefusal(error)).toBe(true)
    expect(refusalOf(error)).toBe('ERR unknown command `eval`')
    expect(misconfigurationOf(error, endpoint)?.kind).toBe('unknown command EVAL')
    expect(misconfigurationOf(error, endpoint)?.advice).toContain('Redis at cache.example:6379 has no EVAL command (ERR unknown command')
  })

  test("an ACL user without EVAL, in Redis 7.2 and Valkey's wording, which names the user: a refusal of the script, and the advice names EVAL", () => {
    const error = reply("NOPERM User app has no permissions to run the 'eval' command")
    expect(isScriptRefusal(error)).toBe(true)
    expect(refusalOf(error)).toBe("NOPERM User app has no permissions to run the 'eval' command")
    expect(misconfigurationOf(error, endpoint)).toMatchObject({ kind: 'NOPERM EVAL' })
  })

  test("a command the script runs that the ACL user may not, in Redis 7.2 and Valkey's wording: not a refusal of the script itself, cut before the script's name", () => {
    const error = reply("NOPERM User app has no permissions to run the 'get' command script: 2e47b373b4dbd63ee966d2eb9fe24ed6a138ad4e, on @user_script:1.")
    expect(isScriptRefusal(error)).toBe(false)
    expect(refusalOf(error)).toBe("NOPERM User app has no permissions to run the 'get' command")
    expect(misconfigurationOf(error, endpoint)).toMatchObject({ kind: 'NOPERM GET' })
  })

  test("keys outside the ACL user's patterns, in Redis 7.2 and Valkey's wording: the advice names the prefix's pattern", () => {
    expect(misconfigurationOf(reply('NOPERM No permissions to access a key'), endpoint)).toMatchObject({ kind: 'NOPERM the keys ~middy-cache:*' })
  })

  test('a wrong password before Redis 6.0 (an ElastiCache AUTH token): told as WRONGPASS is', () => {
    const misconfiguration = misconfigurationOf(reply('ERR invalid password'), endpoint)
    expect(misconfiguration?.kind).toBe('WRONGPASS')
    expect(misconfiguration?.advice).toContain("Redis at cache.example:6379 refuses the store's user and password")
  })

  test('what is neither of these (a command refused as no other, a syntax error) is no misconfiguration and no refusal', () => {
    const error = reply("ERR wrong number of arguments for 'set' command")
    expect(refusalOf(error)).toBeUndefined()
    expect(misconfigurationOf(error, endpoint)).toBeUndefined()
  })
})
