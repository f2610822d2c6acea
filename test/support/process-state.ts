/**
 * Drops the state the package keeps once per process (on globalThis, see src/cache/process-state.ts),
 * as a new execution environment starts without it. A test that loads a fresh copy of the modules
 * to stand for a new environment calls it first: the copy then makes its own registry, counters and
 * flushers, while copies loaded before keep those they hold.
 */
export const forgetProcessWideState = (): void => {
  for (const key of Object.getOwnPropertySymbols(globalThis)) {
    if (Symbol.keyFor(key)?.startsWith('middy-cache.') === true) Reflect.deleteProperty(globalThis, key)
  }
}

export type Suite = typeof import('../../entrypoints/index.js')

/**
 * A fresh copy of the suite without the process-wide state, as a new execution environment loads
 * it: its own registry, counters and flushers, and a first invocation that is the cold one.
 */
export const freshSuite = (): Suite => {
  let suite: Suite | undefined
  forgetProcessWideState()
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    suite = require('../../entrypoints/index.js') as Suite
  })
  if (suite === undefined) throw new Error('isolateModules did not run')
  return suite
}
