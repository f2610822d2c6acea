import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { uniqueName } from '../harness/index.js'

/**
 * Two ends of one local connection: what one end writes waits in the other's socket until the event
 * loop reads it. A Unix domain socket, not loopback TCP: the kernel puts what is written in the
 * reader's queue before write returns, where loopback TCP hands it to the network stack, whose work a
 * busy machine may put off past a test's blocked event loop.
 */
export interface SocketPair {
  readonly reader: Socket
  readonly writer: Socket
  /** The next chunk `reader` reads, as text. */
  nextText(): Promise<string>
  close(): void
}

export const socketPair = async (): Promise<SocketPair> => {
  const server = createServer()
  // The server removes the file when it closes.
  const path = join(tmpdir(), `${uniqueName('socket-pair')}.sock`)
  server.listen(path)
  await once(server, 'listening')
  const reader = connect(path)
  const [[writer]] = (await Promise.all([once(server, 'connection'), once(reader, 'connect')])) as [[Socket], unknown]
  return {
    reader,
    writer,
    nextText: () =>
      new Promise((resolve) => {
        reader.once('data', (chunk) => {
          resolve(String(chunk))
        })
      }),
    close: () => {
      reader.destroy()
      writer.destroy()
      server.close()
    },
  }
}
