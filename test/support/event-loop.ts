/**
 * Runs no callback for `ms`, as the event loop of a frozen or starved process sees it: what arrives
 * meanwhile waits in its socket, and when the loop runs again every due timer runs before any
 * socket is read.
 */
export const blockEventLoop = (ms: number): void => {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // blocked
  }
}
