import { RefusableKind, StoreRefusals } from '../../src/cache/refusals.js'
import { manualClock } from '../support/clock.js'

const refusalsWith = (backOffMs: number) => {
  const clock = manualClock()
  return { clock, refusals: new StoreRefusals(backOffMs, clock.now) }
}

describe("a shared tier's record of the kinds of operation its store refuses", () => {
  test('a refused kind is skipped for the back-off, read lazily from the clock; the other kinds go on', () => {
    const { refusals, clock } = refusalsWith(1_000)
    expect(refusals.admit(RefusableKind.Write)).toBe(true)
    refusals.refused(RefusableKind.Write)
    expect(refusals.refuses(RefusableKind.Write)).toBe(true)
    expect(refusals.admit(RefusableKind.Write)).toBe(false)
    expect(refusals.admit(RefusableKind.Delete)).toBe(true)
    expect(refusals.refuses(RefusableKind.Delete)).toBe(false)
    clock.advance(999)
    expect(refusals.admit(RefusableKind.Write)).toBe(false)
  })

  test('after the back-off exactly one operation probes; an answer ends the refusal', () => {
    const { refusals, clock } = refusalsWith(1_000)
    refusals.refused(RefusableKind.TakeLease)
    clock.advance(1_000)
    expect(refusals.admit(RefusableKind.TakeLease)).toBe(true)
    expect(refusals.admit(RefusableKind.TakeLease)).toBe(false)
    refusals.answered(RefusableKind.TakeLease)
    expect(refusals.refuses(RefusableKind.TakeLease)).toBe(false)
    expect(refusals.admit(RefusableKind.TakeLease)).toBe(true)
    expect(refusals.admit(RefusableKind.TakeLease)).toBe(true)
  })

  test('a probe refused again backs off again, from then', () => {
    const { refusals, clock } = refusalsWith(1_000)
    refusals.refused(RefusableKind.GiveLeaseBack)
    clock.advance(1_500)
    expect(refusals.admit(RefusableKind.GiveLeaseBack)).toBe(true)
    refusals.refused(RefusableKind.GiveLeaseBack)
    clock.advance(999)
    expect(refusals.admit(RefusableKind.GiveLeaseBack)).toBe(false)
    clock.advance(1)
    expect(refusals.admit(RefusableKind.GiveLeaseBack)).toBe(true)
  })

  test('a probe that got no answer (a timeout) leaves the kind refused, and lets the next operation probe', () => {
    const { refusals, clock } = refusalsWith(1_000)
    refusals.refused(RefusableKind.Write)
    clock.advance(1_000)
    expect(refusals.admit(RefusableKind.Write)).toBe(true)
    refusals.inconclusive(RefusableKind.Write)
    expect(refusals.refuses(RefusableKind.Write)).toBe(true)
    expect(refusals.admit(RefusableKind.Write)).toBe(true)
    expect(refusals.admit(RefusableKind.Write)).toBe(false)
  })

  test('only the first refusal of each kind asks for a warning, also after the store took that kind again in between', () => {
    const { refusals, clock } = refusalsWith(1_000)
    expect(refusals.refused(RefusableKind.Write)).toBe(true)
    clock.advance(1_000)
    refusals.admit(RefusableKind.Write)
    expect(refusals.refused(RefusableKind.Write)).toBe(false)
    refusals.answered(RefusableKind.Write)
    expect(refusals.refused(RefusableKind.Write)).toBe(false)
    expect(refusals.refused(RefusableKind.TakeLease)).toBe(true)
  })
})
