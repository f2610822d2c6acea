/**
 * What a function writes to stdout and stderr, kept per invocation as Lambda's log capture does:
 * EMF lines and logs reach the runtime with the invocation's result, so each is attributed to the
 * invocation that wrote it.
 */
export interface OutputCapture {
  /** The lines written since the last call. */
  take(): string[]
}

type Write = typeof process.stdout.write

export const captureOutput = (): OutputCapture => {
  let pending = ''
  const capture = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    const callback = rest.at(-1)
    if (typeof callback === 'function') (callback as () => void)()
    return true
  }) as Write
  process.stdout.write = capture
  process.stderr.write = capture
  return {
    take() {
      const lines = pending.split('\n').filter((line) => line !== '')
      pending = ''
      return lines
    },
  }
}
