import { connect } from 'node:net'

/** The first byte of a RESP simple string or error: a PING is answered `+PONG`, or `-NOAUTH`, `-DENIED`... */
const respReply = /^[+-]/

/**
 * Whether `host:port` answers a PING sent without TLS in Redis's protocol within `timeoutMs`: asked
 * when TLS handshakes with it go unanswered, which is what a Redis without TLS does with them (it
 * waits for the end of a command line that never comes), and what a stopped server or an endpoint
 * out of reach does too. A TLS endpoint answers a plain PING with an alert, or hangs up; a stopped
 * one answers nothing. Never rejects, and holds no event loop open.
 */
export const answersPlainRedis = (host: string, port: number, timeoutMs: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host, port })
    const end = (answered: boolean): void => {
      socket.destroy()
      resolve(answered)
    }
    socket.unref()
    socket.setTimeout(timeoutMs, () => {
      end(false)
    })
    socket.once('connect', () => {
      socket.write('PING\r\n')
    })
    socket.once('data', (chunk: Buffer) => {
      end(respReply.test(chunk.toString('latin1', 0, 1)))
    })
    socket.once('error', () => {
      end(false)
    })
    socket.once('close', () => {
      end(false)
    })
  })
