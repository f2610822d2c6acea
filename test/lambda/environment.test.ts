import { initializationType, isColdStart } from '../../src/lambda/environment.js'
import { budgetWithin, reservedMs } from '../../src/lambda/index.js'
import { forgetProcessWideState } from '../support/process-state.js'

describe('the execution environment', () => {
  test('only the first invocation is a cold start, and it carries the INIT duration', () => {
    forgetProcessWideState()
    jest.isolateModules(() => {
      // A fresh copy of the module, without the process-wide state, is a fresh environment.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { countInvocation, invocationStart } = require('../../src/lambda/environment.js') as typeof import('../../src/lambda/environment.js')
      const first = invocationStart(countInvocation(), 1_234.5)
      const second = invocationStart(countInvocation(), 5_678)
      expect(first).toEqual({ coldStart: true, initDurationMs: 1_234.5, sequence: 1 })
      expect(second).toEqual({ coldStart: false, initDurationMs: undefined, sequence: 2 })
    })
  })

  test('the initialization type is read trimmed, as Powertools reads it', () => {
    const saved = process.env.AWS_LAMBDA_INITIALIZATION_TYPE
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = ' on-demand\n'
    try {
      expect(initializationType()).toBe('on-demand')
      expect(isColdStart({ coldStart: true, initDurationMs: 1, sequence: 1 }, initializationType())).toBe(true)
    } finally {
      if (saved === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE
      else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = saved
    }
  })
})

describe('budgetWithin', () => {
  test('gives the wanted budget when the invocation has time, less when it has not, never below zero', () => {
    expect(budgetWithin({ getRemainingTimeInMillis: () => 10_000 }, 100)).toBe(100)
    expect(budgetWithin({ getRemainingTimeInMillis: () => reservedMs + 30 }, 100)).toBe(30)
    expect(budgetWithin({ getRemainingTimeInMillis: () => 10 }, 100)).toBe(0)
  })

  test('outside Lambda, with no remaining time known, the wanted budget applies', () => {
    expect(budgetWithin(undefined, 100)).toBe(100)
    expect(budgetWithin({}, 100)).toBe(100)
    expect(budgetWithin({ getRemainingTimeInMillis: () => Number.NaN }, 100)).toBe(100)
  })
})
