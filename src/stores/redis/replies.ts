import type { StoreMisconfiguration } from '../l2-store.js'

/** The commands of the store's operations and of ioredis's handshake (INFO, its ready check). */
const commandsRun = 'GET, SET, DEL, PTTL, INCR, EVAL and INFO'

/**
 * What the store asks of Redis, for an ACL user that may run only these: its commands, and in cluster
 * mode the one by which ioredis learns the slots. AUTH, HELLO and QUIT need no permission.
 */
const commandsUsed = (prefix: string): string => `${commandsRun} on the keys ~${prefix}*, and CLUSTER|SLOTS in cluster mode`

/**
 * Redis's answer to a command it does not have (renamed away or disabled), which names the command
 * as the client sent it: quoted '…' since Redis 7.0 and in Valkey, `…` in Redis 5 to 6.2.
 */
const unknownCommand = /^ERR unknown command ['`]([\w|-]+)['`]/

/**
 * An error told by its shape: Node's own (a socket's, TLS's) come from another realm than the code
 * when it runs in a sandbox (a test runner's), and fail `instanceof Error` there.
 */
const isFailure = (value: unknown): value is Error => typeof value === 'object' && value !== null && 'message' in value && typeof value.message === 'string'

/**
 * Redis's answers that refuse a kind of command while it serves the others: out of memory under
 * `noeviction` (writes, `SET NX` included; reads, deletes and scripts that only delete still run),
 * persistence failing (`MISCONF`: writes), a replica (`READONLY`: every write), an ACL user without
 * a command's permission (`NOPERM`: EVAL, say; inside a script, Redis 7.0 words it otherwise), a
 * command renamed away or not offered (`ERR unknown command`).
 */
const refusalReply = /^(?:OOM|MISCONF|NOPERM|READONLY) |^ERR unknown command|^ERR The user executing the script can't run/

/** Redis 7.0's answer when a script runs a command the ACL user may not. */
const scriptNoPermission = "ERR The user executing the script can't run"

/**
 * Redis's refusal to run the store's script at all: an ACL user without EVAL, or EVAL renamed away
 * or not offered. Not a refusal of what the script does (a replica's, out of memory): that one
 * refuses the same work done without the script.
 */
export const isScriptRefusal = (error: unknown): boolean => isFailure(error) && /^NOPERM .*['`]eval(?:sha)?['`] command|^ERR unknown command ['`]eval['`]/i.test(error.message)

/** A replica's answer to a write: reached through a reader endpoint, or a primary a failover demoted. */
export const isReadOnlyReply = (error: unknown): boolean => isFailure(error) && error.message.startsWith('READONLY ')

/**
 * What Redis said, if `error` is its refusal of one kind of command, cut before what Redis quotes
 * after it: an unknown command's first arguments (a script, a key, a token) or a script's name.
 */
export const refusalOf = (error: unknown): string | undefined => {
  if (!isFailure(error) || !refusalReply.test(error.message)) return undefined
  return error.message.split(/, with args| script: /, 1)[0]
}

/** What a warning about the store's setup may say of it. */
export interface Endpoint {
  /** Where it connects: host and port (never the user and password). */
  readonly address: string
  readonly prefix: string
  /** The failure of a connection's handshake reset by the server after another was: an endpoint that wants TLS. */
  readonly handshakeHungUp: Error | undefined
  /** Its TLS handshakes went unanswered, and a plain connection to it got Redis's answer: an endpoint without TLS. */
  readonly answersWithoutTls: boolean
  /** The connection is a client the user passed, which the store neither replaces nor closes. */
  readonly clientGiven: boolean
}

/** `error`, then what it stands for: a cluster's last node error, a cause ("not connected" carries the connection's failure). */
const failuresIn = (error: unknown): Error[] => {
  const failures: Error[] = []
  for (let current = error; isFailure(current) && !failures.includes(current); ) {
    failures.push(current)
    current = 'lastNodeError' in current ? current.lastNodeError : current.cause
  }
  return failures
}

/** Node's codes for a TLS certificate it does not accept: self-signed, of an unknown authority, expired, for another name. */
const certificateCode = /CERT/

const codeOf = (failure: Error): string | undefined => ('code' in failure && typeof failure.code === 'string' ? failure.code : undefined)

/**
 * A TLS connection's failure before its handshake was answered: ioredis's connect timeout, which
 * runs until the handshake ends, or a reply that is no TLS.
 */
export const isTlsHandshakeFailure = (error: unknown): boolean => {
  if (!isFailure(error)) return false
  const code = codeOf(error)
  return code === 'ETIMEDOUT' || code === 'EPROTO' || (code?.startsWith('ERR_SSL_') ?? false)
}

const adviceFor = (failure: Error, endpoint: Endpoint): StoreMisconfiguration | undefined => {
  const at = `Redis at ${endpoint.address}`
  const reply = failure.message
  // Redis before 6.0 (an ElastiCache AUTH token, say) words a wrong password as ERR.
  if (reply.startsWith('WRONGPASS ') || reply === 'ERR invalid password') {
    return { kind: 'WRONGPASS', advice: `${at} refuses the store's user and password (WRONGPASS: a wrong password, no such user, or a user turned off): correct them in url (redis://user:password@host:port) or in redis: { username, password }` }
  }
  if (reply.startsWith('NOAUTH ')) {
    return { kind: 'NOAUTH', advice: `${at} requires a user and password (NOAUTH), and the store gives none: put them in url (redis://user:password@host:port) or in redis: { username, password }` }
  }
  if (reply.startsWith('NOPERM ') || reply.startsWith(scriptNoPermission)) {
    // Redis names the command it refused (never its arguments), and never a key.
    const command = /'([\w|-]+)' command/.exec(reply)?.[1]
    const denied = command !== undefined ? command.toUpperCase() : reply.startsWith(scriptNoPermission) ? 'GET or DEL, which its lease script runs' : `the keys ~${endpoint.prefix}*`
    return { kind: `NOPERM ${denied}`, advice: `${at} does not let the store's ACL user use ${denied} (NOPERM): allow it ${commandsUsed(endpoint.prefix)}` }
  }
  if (reply.startsWith('READONLY ') && endpoint.clientGiven) {
    return {
      kind: 'READONLY',
      advice: `${at}, which the client given to the store is connected to, is a read-only replica: connect that client to the primary endpoint, not a reader endpoint, and give it ioredis's reconnectOnError (error) => error.message.startsWith('READONLY') so that it reconnects when a failover demotes its node (the store never replaces or closes a client you give it)`,
    }
  }
  if (reply.startsWith('READONLY ')) {
    return { kind: 'READONLY', advice: `${at} is a read-only replica: point the store at the primary endpoint, not a reader endpoint (after a failover, the store reconnects to the node the endpoint names by itself)` }
  }
  if (reply.startsWith('OOM ')) {
    return {
      kind: 'OOM',
      advice: `${at} is out of memory and evicts nothing (OOM: used memory reached maxmemory under maxmemory-policy noeviction): give it more memory, or a policy that evicts, such as volatile-lru (every value and lease the store writes expires) or allkeys-lru`,
    }
  }
  if (reply.startsWith('MISCONF ')) {
    return { kind: 'MISCONF', advice: `${at} cannot save its RDB snapshot, and refuses writes until one succeeds (MISCONF): its log says why (a full disk, a directory it may not write to)` }
  }
  if (reply.startsWith('BUSY ')) {
    return {
      kind: 'BUSY',
      advice: `${at} is running a script or function past its busy-reply-threshold (BUSY), and answers nothing else until it ends: end it with SCRIPT KILL or FUNCTION KILL, and look for the client that runs it (the store's own script reads and deletes one key)`,
    }
  }
  const missing = unknownCommand.exec(reply)?.[1]?.toUpperCase()
  if (missing !== undefined) {
    return { kind: `unknown command ${missing}`, advice: `${at} has no ${missing} command (ERR unknown command: renamed away or disabled, by rename-command say): the store runs ${commandsRun}` }
  }
  if (reply.includes('cluster support disabled')) {
    return { kind: 'not a cluster', advice: `${at} is not in cluster mode (CLUSTER SLOTS: "${reply}"): give redisStore a url, not cluster` }
  }
  if (reply.startsWith('MOVED ')) {
    return { kind: 'cluster mode', advice: `${at} is in cluster mode, and holds only some of the store's keys (MOVED): give redisStore cluster: { nodes: [{ host, port }] } (a configuration endpoint will do as the one node), not a url` }
  }
  const code = codeOf(failure)
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { kind: code, advice: `${at} presents a TLS certificate for another name (${code}): connect by a name the certificate holds` }
  }
  if (code !== undefined && certificateCode.test(code)) {
    return { kind: 'certificate', advice: `${at} presents a TLS certificate the function does not trust (${code}): give its certificate authority in redis: { tls: { ca } }` }
  }
  if (endpoint.answersWithoutTls && isTlsHandshakeFailure(failure)) {
    return { kind: 'TLS not offered', advice: `${at} never answers the TLS handshake (${code ?? failure.message}), yet answers a plain connection: an endpoint without TLS (in-transit encryption off) is reached with redis://, not rediss://` }
  }
  if (failure === endpoint.handshakeHungUp) {
    return { kind: 'TLS required', advice: `${at} hangs up on every handshake (${code ?? failure.message}): an endpoint that requires TLS (in-transit encryption; ElastiCache Serverless always does) is reached with rediss://, not redis://` }
  }
  return undefined
}

/**
 * What to fix when `error` says the store is set up wrong: credentials, ACL permissions, a command
 * renamed away, a replica, cluster mode on one side only, TLS; or that Redis cannot do what it is
 * asked for now: out of memory, unable to persist, busy with a script. Quotes Redis only where it
 * names no key and no value.
 */
export const misconfigurationOf = (error: unknown, endpoint: Endpoint): StoreMisconfiguration | undefined => {
  for (const failure of failuresIn(error)) {
    const found = adviceFor(failure, endpoint)
    if (found !== undefined) return found
  }
  return undefined
}
