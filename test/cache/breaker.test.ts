import { CircuitBreaker, CircuitState, type Admission } from '../../src/cache/breaker.js'
import { manualClock } from '../support/clock.js'

const breakerWith = (failures: number, coolDownMs: number) => {
  const clock = manualClock()
  return { clock, breaker: new CircuitBreaker({ failures, coolDownMs }, clock.now) }
}

/** Lets an operation through, which the test expects to be allowed. */
const admitted = (breaker: CircuitBreaker): Admission => {
  const admission = breaker.admit()
  if (admission === undefined) throw new Error('the breaker refused an operation the test expected it to let through')
  return admission
}

describe('the circuit breaker of a shared tier', () => {
  test('opens after the configured consecutive failures; a success in between starts the count again', () => {
    const { breaker } = breakerWith(3, 1_000)
    breaker.failed(admitted(breaker))
    breaker.failed(admitted(breaker))
    breaker.succeeded(admitted(breaker))
    breaker.failed(admitted(breaker))
    breaker.failed(admitted(breaker))
    expect(breaker.state).toBe(CircuitState.Closed)
    breaker.failed(admitted(breaker))
    expect(breaker.state).toBe(CircuitState.Open)
    expect(breaker.admit()).toBeUndefined()
  })

  test('after the cool-down, read lazily from the clock, exactly one probe goes through', () => {
    const { breaker, clock } = breakerWith(1, 1_000)
    breaker.failed(admitted(breaker))
    clock.advance(999)
    expect(breaker.admit()).toBeUndefined()
    clock.advance(1)
    expect(breaker.state).toBe(CircuitState.HalfOpen)
    expect(breaker.admit()).toBeDefined()
    expect(breaker.admit()).toBeUndefined()
    expect(breaker.state).toBe(CircuitState.HalfOpen)
  })

  test('an operation that tells nothing (it spanned a freeze) neither counts nor clears failures; were it the probe, the next operation probes', () => {
    const { breaker, clock } = breakerWith(2, 1_000)
    breaker.failed(admitted(breaker))
    breaker.inconclusive(admitted(breaker))
    breaker.failed(admitted(breaker))
    expect(breaker.state).toBe(CircuitState.Open)
    clock.advance(1_000)
    breaker.inconclusive(admitted(breaker))
    expect(breaker.state).toBe(CircuitState.HalfOpen)
    expect(breaker.admit()).toBeDefined()
    expect(breaker.admit()).toBeUndefined()
  })

  test('a successful probe closes the circuit; a failed one opens it for another cool-down', () => {
    const { breaker, clock } = breakerWith(1, 1_000)
    breaker.failed(admitted(breaker))
    clock.advance(1_000)
    breaker.failed(admitted(breaker))
    expect(breaker.state).toBe(CircuitState.Open)
    clock.advance(999)
    expect(breaker.admit()).toBeUndefined()
    clock.advance(1)
    breaker.succeeded(admitted(breaker))
    expect(breaker.state).toBe(CircuitState.Closed)
    expect(breaker.admit()).toBeDefined()
    expect(breaker.admit()).toBeDefined()
  })
})

describe('the outcome of an operation let through before the circuit opened', () => {
  /** A breaker opened by one failure, with two operations let through before it opened still running. */
  const openedWithStragglers = () => {
    const { breaker, clock } = breakerWith(1, 1_000)
    const straggler = admitted(breaker)
    const another = admitted(breaker)
    breaker.failed(admitted(breaker))
    return { breaker, clock, straggler, another }
  }

  test('a failure neither restarts the cool-down nor ends the probe in flight, so that no second probe starts', () => {
    const { breaker, clock, straggler, another } = openedWithStragglers()
    clock.advance(500)
    breaker.failed(straggler)
    clock.advance(500)
    const probe = admitted(breaker)
    breaker.failed(another)
    expect(breaker.state).toBe(CircuitState.HalfOpen)
    expect(breaker.admit()).toBeUndefined()
    breaker.succeeded(probe)
    expect(breaker.state).toBe(CircuitState.Closed)
  })

  test('a success closes neither an open circuit nor a half-open one: only the probe does', () => {
    const { breaker, clock, straggler, another } = openedWithStragglers()
    breaker.succeeded(straggler)
    expect(breaker.state).toBe(CircuitState.Open)
    expect(breaker.admit()).toBeUndefined()
    clock.advance(1_000)
    const probe = admitted(breaker)
    breaker.succeeded(another)
    expect(breaker.state).toBe(CircuitState.HalfOpen)
    breaker.failed(probe)
    expect(breaker.state).toBe(CircuitState.Open)
  })

  test('one that tells nothing does not end the probe in flight', () => {
    const { breaker, clock, straggler } = openedWithStragglers()
    clock.advance(1_000)
    admitted(breaker)
    breaker.inconclusive(straggler)
    expect(breaker.admit()).toBeUndefined()
  })

  test('a failure after a probe closed the circuit again does not count toward opening it', () => {
    const { breaker, clock } = breakerWith(2, 1_000)
    const straggler = admitted(breaker)
    breaker.failed(admitted(breaker))
    breaker.failed(admitted(breaker))
    clock.advance(1_000)
    breaker.succeeded(admitted(breaker))
    breaker.failed(straggler)
    breaker.failed(admitted(breaker))
    expect(breaker.state).toBe(CircuitState.Closed)
    breaker.failed(admitted(breaker))
    expect(breaker.state).toBe(CircuitState.Open)
  })
})
