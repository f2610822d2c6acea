export { budgetWithin, longestInvocationMs, reservedMs, type RemainingTime } from './budget.js'
export { countInvocation, environmentId, initializationType, invocationStart, type InvocationStart } from './environment.js'
