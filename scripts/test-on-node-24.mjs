// Runs the whole suite again on Node 24, Lambda's other Node.js runtime (nodejs24.x): `npm test`
// runs on the Node 22 the project pins. Node 24 comes from the npm registry (the `node` package),
// installed under node_modules/.cache, out of the project's dependencies.
import { execFileSync } from 'node:child_process'
import { join, resolve } from 'node:path'

const major = 24
const folder = resolve('node_modules', '.cache', `node-${major}`)
const bin = join(folder, 'node_modules', '.bin')
const node = join(bin, 'node')

const run = (command, args, options = {}) => execFileSync(command, args, { stdio: 'inherit', ...options })

run('npm', ['install', '--prefix', folder, '--no-save', '--no-package-lock', '--no-fund', '--no-audit', `node@${major}`])
const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
if (!version.startsWith(`v${major}.`)) throw new Error(`test-on-node-${major}: ${node} is ${version}`)
console.log(`test-on-node-${major}: jest on Node ${version}`)
// First on PATH too: what the tests start by name (npm, and the scripts npm runs) runs on it as well.
run(node, [join('node_modules', 'jest', 'bin', 'jest.js')], { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } })
