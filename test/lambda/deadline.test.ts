import { deadlineAfter, hold } from '../../src/lambda/deadline.js'
import { blockEventLoop } from '../support/event-loop.js'
import { socketPair } from '../support/socket-pair.js'

describe('deadlineAfter', () => {
  test('aborts work still running after its time, with an error naming the work', async () => {
    const deadline = deadlineAfter(20, 'the snapshot write')
    await hold(1_000, deadline.signal)
    expect(deadline.signal.reason).toMatchObject({ message: 'middy-cache: the snapshot write took more than 20 ms' })
  })

  test('does not abort work whose answer already waits in its socket when its late timer fires: the deadline is judged once the sockets are read', async () => {
    const sockets = await socketPair()
    try {
      const deadline = deadlineAfter(20, 'the fan-out')
      const answered = sockets.nextText().then((text) => {
        const aborted = deadline.signal.aborted
        deadline.clear()
        return { text, aborted }
      })
      sockets.writer.write('ok')
      // Starved past the deadline: the answer arrives meanwhile, and the timer is long due when the loop runs again.
      blockEventLoop(150)
      expect(await answered).toEqual({ text: 'ok', aborted: false })
      await new Promise((resolve) => setImmediate(resolve))
      expect(deadline.signal.aborted).toBe(false)
    } finally {
      sockets.close()
    }
  })
})
