import { shortened, stringOf } from '../cache/errors.js'

const longestReason = 300

/** An error as a short line for an answer or a log: name and message, never a stack. */
export const reasonOf = (error: unknown): string => shortened(error instanceof Error ? `${error.name}: ${error.message}` : stringOf(error), longestReason)
