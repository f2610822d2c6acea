import { createServer } from 'node:net'

export const LOOPBACK = '127.0.0.1'

/**
 * Asks the kernel for a free TCP port on loopback: listen on port 0, read the
 * port it chose, close. Another process may take the port before the caller
 * binds it, so service starters retry on "address in use".
 */
export async function freePort(host: string = LOOPBACK): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        server.close()
        reject(new Error(`freePort: unexpected server address ${String(address)}`))
        return
      }
      const { port } = address
      server.close((error) => {
        if (error) reject(error)
        else resolve(port)
      })
    })
  })
}
