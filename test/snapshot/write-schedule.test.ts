import { WriteSchedule } from '../../src/snapshot/write-schedule.js'

const hour = 3_600_000
const wall = 1_800_000_000_000
/** Draws this environment's refresh at the start of the spread: exactly half maxAge. */
const noSpread = (): number => 0
/** The snapshot known holds what the caches take back. */
const current = (): boolean => false

describe('when an environment writes a snapshot', () => {
  test('at once when none usable is known, then not again within half maxAge', () => {
    const schedule = new WriteSchedule(2 * hour, noSpread)
    expect(schedule.isDue(0, wall, current)).toBe(true)
    schedule.attempt(0)
    expect(schedule.isDue(hour - 1, wall + hour - 1, current)).toBe(false)
    // The attempt failed (nothing found): due again once half maxAge has passed.
    expect(schedule.isDue(hour, wall + hour, current)).toBe(true)
  })

  test('a snapshot found or written is refreshed once it is past half maxAge', () => {
    const schedule = new WriteSchedule(2 * hour, noSpread)
    schedule.found(wall - 30 * 60_000)
    expect(schedule.isDue(0, wall, current)).toBe(false)
    expect(schedule.isDue(30 * 60_000, wall + 30 * 60_000, current)).toBe(true)
    schedule.attempt(30 * 60_000)
    schedule.found(wall + 30 * 60_000)
    expect(schedule.isDue(2 * hour, wall + 89 * 60_000, current)).toBe(false)
    expect(schedule.isDue(2 * hour, wall + 90 * 60_000, current)).toBe(true)
  })

  test('an older snapshot never hides a newer one; a store that could not be read postpones the write', () => {
    const schedule = new WriteSchedule(2 * hour, noSpread)
    schedule.found(wall)
    schedule.found(wall - hour)
    expect(schedule.isDue(0, wall + 59 * 60_000, current)).toBe(false)
    const unread = new WriteSchedule(2 * hour, noSpread)
    unread.postpone(0)
    expect(unread.isDue(hour - 1, wall, current)).toBe(false)
    expect(unread.isDue(hour, wall, current)).toBe(true)
  })

  test('environments that know one snapshot find it due at moments spread over a tenth of maxAge past its half, each drawn once', () => {
    /** Whether an environment that drew `draw` finds the snapshot known due `ms` after it was written. */
    const schedule = (draw: number) => {
      const random = jest.fn(() => draw)
      const drawn = new WriteSchedule(10 * hour, random)
      drawn.found(wall)
      return { dueAfter: (ms: number): boolean => drawn.isDue(0, wall + ms, current), random }
    }
    // Half maxAge is 5 h, the spread 1 h.
    const first = schedule(0)
    expect(first.dueAfter(5 * hour - 1)).toBe(false)
    expect(first.dueAfter(5 * hour)).toBe(true)
    const middle = schedule(0.5)
    expect(middle.dueAfter(5.5 * hour - 1)).toBe(false)
    expect(middle.dueAfter(5.5 * hour)).toBe(true)
    const last = schedule(0.999_999)
    expect(last.dueAfter(6 * hour - 5_000)).toBe(false)
    expect(last.dueAfter(6 * hour)).toBe(true)
    expect(last.random).toHaveBeenCalledTimes(1)
    // Math.random by default: within the spread, never past 0.6 maxAge, so new environments still find a snapshot younger than maxAge.
    const drawn = new WriteSchedule(10 * hour)
    drawn.found(wall)
    expect(drawn.isDue(0, wall + 5 * hour - 1, current)).toBe(false)
    expect(drawn.isDue(0, wall + 6 * hour, current)).toBe(true)
  })

  test('a snapshot known to hold what the caches no longer take (written before a clear()) is due at once, within the one attempt per half maxAge; asked only then', () => {
    const schedule = new WriteSchedule(2 * hour, noSpread)
    schedule.found(wall)
    const outdated = jest.fn(() => true)
    expect(schedule.isDue(0, wall, current)).toBe(false)
    expect(schedule.isDue(0, wall, outdated)).toBe(true)
    schedule.attempt(0)
    outdated.mockClear()
    expect(schedule.isDue(hour - 1, wall + 1, outdated)).toBe(false)
    expect(outdated).not.toHaveBeenCalled()
    expect(schedule.isDue(hour, wall + 1, outdated)).toBe(true)
  })

  test('an attempt that failed, or a store that could not be read, waits half maxAge, whatever the spread', () => {
    const schedule = new WriteSchedule(2 * hour, () => 0.9)
    expect(schedule.isDue(0, wall, current)).toBe(true)
    schedule.attempt(0)
    expect(schedule.isDue(hour - 1, wall + hour - 1, current)).toBe(false)
    expect(schedule.isDue(hour, wall + hour, current)).toBe(true)
  })
})
