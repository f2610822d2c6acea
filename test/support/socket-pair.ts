import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'

/** Two ends of one loopback TCP connection: what one end writes waits in the other's socket until the event loop reads it. */
export interface SocketPair {
  readonly reader: Socket
  readonly writer: Socket
  /** The next chunk `reader` reads, as text. */
  nextText(): Promise<string>
  close(): void
}

export const socketPair = async (): Promise<SocketPair> => {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  const reader = connect(port, '127.0.0.1')
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
