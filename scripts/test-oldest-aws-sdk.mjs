// Runs the tests that reach AWS (on moto) again with the oldest @aws-sdk clients the package's peer
// ranges allow, so that the ranges stay true; then reinstalls the locked clients. The floor is read
// from package.json: raise it there, and this tests the new one.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'

const awsTests = ['test/stores', 'test/integration', 'test/sources', 'test/snapshot', 'test/middlewares', 'test/lambda', 'test/harness/seed.test.ts', 'test/harness/moto.test.ts', 'test/harness/fault-proxy.test.ts']

const { peerDependencies } = JSON.parse(readFileSync('package.json', 'utf8'))
const floors = Object.entries(peerDependencies)
  .filter(([name]) => name.startsWith('@aws-sdk/'))
  .map(([name, range]) => {
    const floor = /^\^(\d+\.\d+\.\d+)$/.exec(range)?.[1]
    if (floor === undefined) throw new Error(`test-oldest-aws-sdk: the peer range of ${name} is ${range}, not ^x.y.z`)
    return { name, floor }
  })

/** The version of `name` that code in `folder` loads. */
const versionSeenFrom = (folder, name) => {
  const require = createRequire(resolve(folder, 'package.json'))
  return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version
}

const run = (command, args) => execFileSync(command, args, { stdio: 'inherit' })

/**
 * Installing the old clients re-resolves the rest of the tree (osls's own SDK clients too), and the
 * registry here has answered a first request for a package without its newest versions (ETARGET for
 * a version it lists a moment later): asked again, from the answers the first attempt cached.
 */
const installOldest = () => {
  const install = ['install', '--no-save', '--no-fund', '--no-audit', ...floors.map(({ name, floor }) => `${name}@${floor}`)]
  try {
    run('npm', install)
  } catch {
    console.log('test-oldest-aws-sdk: the install failed; trying once more, preferring what npm has cached')
    run('npm', [...install, '--prefer-offline'])
  }
}

try {
  installOldest()
  // Powertools drives the SSM and Secrets Manager clients: it must load the old ones too, not a copy of its own.
  for (const { name, floor } of floors) {
    for (const folder of ['.', 'node_modules/@aws-lambda-powertools/parameters']) {
      const seen = versionSeenFrom(folder, name)
      if (seen !== floor) throw new Error(`test-oldest-aws-sdk: ${folder} loads ${name} ${seen}, not ${floor}`)
    }
  }
  console.log(`test-oldest-aws-sdk: ${floors.map(({ name, floor }) => `${name}@${floor}`).join(', ')}`)
  run('npx', ['jest', ...awsTests])
} finally {
  run('npm', ['ci', '--no-fund', '--no-audit'])
}
