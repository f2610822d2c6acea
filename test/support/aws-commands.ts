/** The part of an AWS SDK v3 client a test adds a counting middleware to; every client fits. */
interface WithMiddlewareStack {
  readonly middlewareStack: {
    add(
      middleware: (next: (args: never) => Promise<unknown>, context: { readonly commandName?: string }) => (args: never) => Promise<unknown>,
      options: { readonly step: 'initialize'; readonly name: string },
    ): void
  }
}

/** Counts the commands `client` sends, by name (GetObjectCommand, QueryCommand...). */
export const countCommands = (client: WithMiddlewareStack): Map<string, number> => {
  const counts = new Map<string, number>()
  client.middlewareStack.add(
    (next, context) => (args) => {
      const command = context.commandName ?? 'unknown'
      counts.set(command, (counts.get(command) ?? 0) + 1)
      return next(args)
    },
    { step: 'initialize', name: 'testCommandCounter' },
  )
  return counts
}
