import { CircuitBreaker, CircuitState } from '../../src/cache/breaker.js'
import { manualClock } from '../support/clock.js'

const breakerWith = (failures: number, coolDownMs: number) => {
  const clock = manualClock()
  return { clock, breaker: new CircuitBreaker({ failures, coolDownMs }, clock.now) }
}

describe('the circuit breaker of a shared tier', () => {
  test('opens after the configured consecutive failures; a success in between starts the count again', () => {
    const { breaker } = breakerWith(3, 1_000)
    breaker.failed()
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    breaker.failed()
    expect(breaker.state).toBe(CircuitState.Closed)
    expect(breaker.allows()).toBe(true)
    breaker.failed()
    expect(breaker.state).toBe(CircuitState.Open)
    expect(breaker.allows()).toBe(false)
  })

  test('after the cool-down, read lazily from the clock, exactly one probe goes through', () => {
    const { breaker, clock } = breakerWith(1, 1_000)
    breaker.failed()
    clock.advance(999)
    expect(breaker.allows()).toBe(false)
    clock.advance(1)
    expect(breaker.state).toBe(CircuitState.HalfOpen)
    expect(breaker.allows()).toBe(true)
    expect(breaker.allows()).toBe(false)
    expect(breaker.state).toBe(CircuitState.HalfOpen)
  })

  test('an operation that tells nothing (it spanned a freeze) neither counts nor clears failures; were it the probe, the next operation probes', () => {
    const { breaker, clock } = breakerWith(2, 1_000)
    breaker.failed()
    breaker.inconclusive()
    breaker.failed()
    expect(breaker.state).toBe(CircuitState.Open)
    clock.advance(1_000)
    expect(breaker.allows()).toBe(true)
    breaker.inconclusive()
    expect(breaker.state).toBe(CircuitState.HalfOpen)
    expect(breaker.allows()).toBe(true)
    expect(breaker.allows()).toBe(false)
  })

  test('a successful probe closes the circuit; a failed one opens it for another cool-down', () => {
    const { breaker, clock } = breakerWith(1, 1_000)
    breaker.failed()
    clock.advance(1_000)
    expect(breaker.allows()).toBe(true)
    breaker.failed()
    expect(breaker.state).toBe(CircuitState.Open)
    clock.advance(999)
    expect(breaker.allows()).toBe(false)
    clock.advance(1)
    expect(breaker.allows()).toBe(true)
    breaker.succeeded()
    expect(breaker.state).toBe(CircuitState.Closed)
    expect(breaker.allows()).toBe(true)
    expect(breaker.allows()).toBe(true)
  })
})
