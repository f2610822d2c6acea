/** Lambda's longest timeout: no wait within an invocation can be longer. */
export const longestInvocationMs = 15 * 60_000

/** Time kept back at the end of an invocation for Middy, the runtime and the response. */
export const reservedMs = 50

/** What the Lambda context can tell about the time left; absent outside Lambda. */
export interface RemainingTime {
  readonly getRemainingTimeInMillis?: () => number
}

/**
 * How long background work may still take: `wantedMs`, but never past the invocation's end minus
 * a reserve. Outside Lambda (no remaining time known) the wanted budget applies.
 */
export const budgetWithin = (context: RemainingTime | undefined, wantedMs: number): number => {
  const remaining = context?.getRemainingTimeInMillis?.()
  if (remaining === undefined || !Number.isFinite(remaining)) return wantedMs
  return Math.max(0, Math.min(wantedMs, remaining - reservedMs))
}
