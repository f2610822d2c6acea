import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { codeBlocksIn } from '../support/markdown-code-block.js'

// The README shows what `npm run demo:engine` (examples/quick-start.ts) prints: it must print that.
jest.setTimeout(60_000)

const repositoryRoot = join(__dirname, '..', '..')
const run = promisify(execFile)

test('examples/quick-start.ts prints what the README says it prints', async () => {
  const readme = readFileSync(join(repositoryRoot, 'README.md'), 'utf8')
  const shown = codeBlocksIn(readme, '').find((block) => block.heading === 'The engine')
  if (shown === undefined) throw new Error('no output block under the heading "The engine"')
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join('examples', 'quick-start.ts')], { cwd: repositoryRoot, timeout: 30_000 })
  expect(stdout).toBe(`${shown.code}\n`)
})
