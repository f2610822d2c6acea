import { WriteSchedule } from '../../src/snapshot/write-schedule.js'

const hour = 3_600_000
const wall = 1_800_000_000_000

describe('when an environment writes a snapshot', () => {
  test('at once when none usable is known, then not again within half maxAge', () => {
    const schedule = new WriteSchedule(2 * hour)
    expect(schedule.isDue(0, wall)).toBe(true)
    schedule.attempt(0)
    expect(schedule.isDue(hour - 1, wall + hour - 1)).toBe(false)
    // The attempt failed (nothing found): due again once half maxAge has passed.
    expect(schedule.isDue(hour, wall + hour)).toBe(true)
  })

  test('a snapshot found or written is refreshed once it is past half maxAge', () => {
    const schedule = new WriteSchedule(2 * hour)
    schedule.found(wall - 30 * 60_000)
    expect(schedule.isDue(0, wall)).toBe(false)
    expect(schedule.isDue(30 * 60_000, wall + 30 * 60_000)).toBe(true)
    schedule.attempt(30 * 60_000)
    schedule.found(wall + 30 * 60_000)
    expect(schedule.isDue(2 * hour, wall + 89 * 60_000)).toBe(false)
    expect(schedule.isDue(2 * hour, wall + 90 * 60_000)).toBe(true)
  })

  test('an older snapshot never hides a newer one; a store that could not be read postpones the write', () => {
    const schedule = new WriteSchedule(2 * hour)
    schedule.found(wall)
    schedule.found(wall - hour)
    expect(schedule.isDue(0, wall + 59 * 60_000)).toBe(false)
    const unread = new WriteSchedule(2 * hour)
    unread.postpone(0)
    expect(unread.isDue(hour - 1, wall)).toBe(false)
    expect(unread.isDue(hour, wall)).toBe(true)
  })
})
