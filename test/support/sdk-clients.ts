/** Anything with `destroy()`: an AWS SDK client. */
interface Destroyable {
  destroy(): void
}

/**
 * Clients made by a test, destroyed after it whether it passed or failed: a client left open keeps
 * its sockets, and Jest waits for them. Call `destroyAll` in an `afterEach`.
 */
export const testClients = (): { readonly made: <T extends Destroyable>(client: T) => T; readonly destroyAll: () => void } => {
  const clients: Destroyable[] = []
  return {
    made: (client) => {
      clients.push(client)
      return client
    },
    destroyAll: () => {
      for (const client of clients.splice(0)) client.destroy()
    },
  }
}
