import { spawn } from 'node:child_process'
import { join } from 'node:path'

const run = (script: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    child.once('error', reject)
    child.once('close', () => {
      resolve(output)
    })
  })

describe('warmup: a child ping holds without letting the event loop run empty', () => {
  test('the hold keeps the loop busy until the answer, which the Lambda runtime needs to see the handler finish', async () => {
    const output = await run(join(__dirname, 'fixtures', 'event-loop-ping.ts'))
    const lines = output.trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^answered \{"warmed":true/)
    expect(JSON.parse(lines[0]!.slice('answered '.length))).toMatchObject({ child: { invocation: 2, of: 2 }, durationMs: expect.any(Number) as number })
    expect((JSON.parse(lines[0]!.slice('answered '.length)) as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(195)
    expect(lines[1]).toBe('event loop empty')
  })
})
