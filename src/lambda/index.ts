export { budgetWithin, reservedMs, type RemainingTime } from './budget.js'
export { environmentId, initializationType, startInvocation, type InvocationStart } from './environment.js'
