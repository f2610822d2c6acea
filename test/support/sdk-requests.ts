import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import type { SSMClient } from '@aws-sdk/client-ssm'

/** Counts the commands an AWS SDK v3 client really sends, by command name. */
export interface RequestCounter {
  readonly counts: Map<string, number>
  count(command: string): number
  total(): number
  /** The most requests of `command` that were awaiting their answers at one time. */
  mostAtOnce(command: string): number
}

export const countRequests = (client: SSMClient | SecretsManagerClient): RequestCounter => {
  const counts = new Map<string, number>()
  const pending = new Map<string, number>()
  const mostPending = new Map<string, number>()
  const stack = client.middlewareStack as SSMClient['middlewareStack']
  stack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown'
      counts.set(command, (counts.get(command) ?? 0) + 1)
      const now = (pending.get(command) ?? 0) + 1
      pending.set(command, now)
      mostPending.set(command, Math.max(mostPending.get(command) ?? 0, now))
      try {
        return await next(args)
      } finally {
        pending.set(command, (pending.get(command) ?? 1) - 1)
      }
    },
    { step: 'initialize', name: 'middyCacheTestRequestCounter' },
  )
  return {
    counts,
    count: (command) => counts.get(command) ?? 0,
    total: () => [...counts.values()].reduce((sum, count) => sum + count, 0),
    mostAtOnce: (command) => mostPending.get(command) ?? 0,
  }
}
