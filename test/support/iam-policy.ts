import type { Json } from './serverless-template.js'

/** One authorisation IAM makes: an action on one resource, with the condition keys the request carries. */
export interface Authorisation {
  readonly action: string
  readonly resource: string
  readonly context: Readonly<Record<string, string>>
}

/** An Allow statement with its intrinsic functions worked out. */
export interface Statement {
  readonly Sid?: string
  readonly Effect: string
  readonly Action: string | readonly string[]
  readonly Resource: string | readonly string[]
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>
}

const listOf = (value: string | readonly string[]): readonly string[] => (typeof value === 'string' ? [value] : value)

const escapeRegExp = (text: string): string => text.replaceAll(/[.+^${}()|[\]\\]/g, '\\$&')

/** IAM's wildcards: `*` any run of characters, `?` one character. */
const globMatches = (pattern: string, value: string, ignoreCase: boolean): boolean =>
  new RegExp(`^${escapeRegExp(pattern).replaceAll('*', '.*').replaceAll('?', '.')}$`, ignoreCase ? 'i' : '').test(value)

/** The condition operators serverless.yml uses; any other is not met, so that a check never passes on one it cannot read. */
const conditionMet = (operator: string, key: string, expected: readonly string[], context: Readonly<Record<string, string>>): boolean => {
  const actual = context[key]
  if (actual === undefined) return false
  if (operator === 'StringEquals') return expected.includes(actual)
  if (operator === 'StringLike') return expected.some((pattern) => globMatches(pattern, actual, false))
  return false
}

const statementAllows = (statement: Statement, request: Authorisation): boolean =>
  statement.Effect === 'Allow' &&
  listOf(statement.Action).some((action) => globMatches(action, request.action, true)) &&
  listOf(statement.Resource).some((resource) => globMatches(resource, request.resource, false)) &&
  Object.entries(statement.Condition ?? {}).every(([operator, keys]) => Object.entries(keys).every(([key, expected]) => conditionMet(operator, key, listOf(expected), request.context)))

/** The statements (none: denied) that allow `request`. */
export const allowingStatements = (statements: readonly Statement[], request: Authorisation): Statement[] => statements.filter((statement) => statementAllows(statement, request))

/** Statements as a role's policy holds them, once worked out. */
export const asStatements = (resolved: readonly (Json | undefined)[]): Statement[] => resolved.filter((statement): statement is Json => statement !== undefined) as unknown as Statement[]

/** Every action a statement grants, one by one. */
export const actionsOf = (statement: Statement): readonly string[] => listOf(statement.Action)
