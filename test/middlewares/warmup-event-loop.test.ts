import { join } from 'node:path'
import { runScript } from '../support/node-script.js'

describe('warmup: a child ping holds without letting the event loop run empty', () => {
  test('the hold keeps the loop busy until the answer, which the Lambda runtime needs to see the handler finish', async () => {
    const output = await runScript(join(__dirname, 'fixtures', 'event-loop-ping.ts'))
    const lines = output.trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^answered \{"warmed":true/)
    expect(JSON.parse(lines[0]!.slice('answered '.length))).toMatchObject({ child: { invocation: 2, of: 2 }, durationMs: expect.any(Number) as number })
    expect((JSON.parse(lines[0]!.slice('answered '.length)) as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(195)
    expect(lines[1]).toBe('event loop empty')
  })
})
