import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import type { SSMClient } from '@aws-sdk/client-ssm'

/** Counts the commands an AWS SDK v3 client really sends, by command name. */
export interface RequestCounter {
  readonly counts: Map<string, number>
  count(command: string): number
  total(): number
}

export const countRequests = (client: SSMClient | SecretsManagerClient): RequestCounter => {
  const counts = new Map<string, number>()
  const stack = client.middlewareStack as SSMClient['middlewareStack']
  stack.add(
    (next, context) => (args) => {
      const command = context.commandName ?? 'unknown'
      counts.set(command, (counts.get(command) ?? 0) + 1)
      return next(args)
    },
    { step: 'initialize', name: 'middyCacheTestRequestCounter' },
  )
  return {
    counts,
    count: (command) => counts.get(command) ?? 0,
    total: () => [...counts.values()].reduce((sum, count) => sum + count, 0),
  }
}
