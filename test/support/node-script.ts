import { spawn } from 'node:child_process'
import { join } from 'node:path'

/** Runs a TypeScript file as a process of its own, from the repository root, and resolves to what it wrote to stdout once it exits. */
export const runScript = (script: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    child.once('error', reject)
    child.once('close', () => {
      resolve(output)
    })
  })
