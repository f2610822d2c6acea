/**
 * A function that collects what it is handed during one turn of the event loop and hands it all to
 * `flush` at the turn's end (`setImmediate`): what is ready together goes together, and nothing
 * waits for what is not ready yet. Each call resolves once the `flush` of its turn has.
 */
export const gathered = <T>(flush: (items: readonly T[]) => Promise<void>): ((item: T) => Promise<void>) => {
  let pending: { readonly items: T[]; readonly flushed: Promise<void> } | undefined
  return (item) => {
    if (pending === undefined) {
      const items: T[] = []
      const turnEnded = new Promise<void>((resolve) => setImmediate(resolve))
      pending = {
        items,
        flushed: turnEnded.then(() => {
          pending = undefined
          return flush(items)
        }),
      }
    }
    pending.items.push(item)
    return pending.flushed
  }
}
