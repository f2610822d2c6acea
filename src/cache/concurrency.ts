/**
 * Runs `work` on every item, at most `atOnce` of them at a time, each started as soon as an earlier
 * one settles; the outcomes come in the items' order. Never rejects: a `work` that throws, even
 * before its first await, is a rejected outcome.
 */
export const settleAtMost = async <T, R>(items: readonly T[], atOnce: number, work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> => {
  const outcomes: PromiseSettledResult<R>[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      try {
        outcomes[index] = { status: 'fulfilled', value: await work(items[index] as T) }
      } catch (reason) {
        outcomes[index] = { status: 'rejected', reason }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(atOnce, items.length) }, worker))
  return outcomes
}

/** Whether a settled outcome (of `settleAtMost`, or `Promise.allSettled`) is a failure. */
export const isRejected = <T>(outcome: PromiseSettledResult<T>): outcome is PromiseRejectedResult => outcome.status === 'rejected'
