/**
 * How long a test waits for something that should happen at once: far past what a busy machine adds,
 * and well inside jest's 20 s test timeout, so that the test's own message is the one seen.
 */
export const generousWaitMs = 5_000

/**
 * `promise`, or a failure that says `whatDidNotHappen` once it has not settled for `ms`: a regression
 * that leaves a test waiting then fails with what broke, rather than with jest's timeout. Not a bound
 * on how fast anything is: `ms` is generous, and the timer goes as soon as `promise` settles.
 */
export const within = async <T>(promise: Promise<T>, whatDidNotHappen: string, ms = generousWaitMs): Promise<T> => {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${whatDidNotHappen} (waited ${ms} ms)`))
    }, ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}
