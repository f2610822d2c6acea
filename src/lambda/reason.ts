import { stringOf } from '../cache/errors.js'

const longestReason = 300

/** An error as a short line for an answer or a log: name and message, never a stack. */
export const reasonOf = (error: unknown): string => {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : stringOf(error)
  return reason.length > longestReason ? `${reason.slice(0, longestReason - 3)}...` : reason
}
