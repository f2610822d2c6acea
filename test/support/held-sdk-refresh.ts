import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import type { SSMClient } from '@aws-sdk/client-ssm'
import { deferred, type Deferred } from './deferred.js'

/** Holds a client's refreshes (see `holdRefreshes`). */
export interface HeldRefreshes {
  /** Lets the refresh held now (and any later one, until `holdNext`) go to the endpoint. */
  release(): void
  /** Holds the next refresh again. */
  holdNext(): void
}

/** Longest hold: a refresh the test never releases goes out then, and the test fails on what it saw, not by hanging. */
const longestHoldMs = 5_000

/**
 * Holds every `command` request of `client` after the first (the load; the later ones are refreshes)
 * until the test releases it, then calls `onAnswered` once the endpoint answered. A test that
 * releases from its handler sees, in the order of its records, whether the invocation waited for
 * the refresh (the handler would run after the answer) or ran beside it.
 */
export const holdRefreshes = (client: SSMClient | SecretsManagerClient, command: string, onAnswered: () => void): HeldRefreshes => {
  let gate: Deferred<undefined> = deferred()
  let sent = 0
  const stack = client.middlewareStack as SSMClient['middlewareStack']
  stack.add(
    (next, context) => async (args) => {
      if (context.commandName !== command || ++sent === 1) return next(args)
      const held = gate
      const fallback = setTimeout(() => {
        held.resolve(undefined)
      }, longestHoldMs)
      await held.promise
      clearTimeout(fallback)
      const answer = await next(args)
      onAnswered()
      return answer
    },
    { step: 'initialize', name: 'middyCacheTestHoldRefreshes' },
  )
  return {
    release: () => {
      gate.resolve(undefined)
    },
    holdNext: () => {
      gate = deferred()
    },
  }
}
