// Builds the package: esbuild transpiles every module to ESM and CommonJS (one file per module,
// so bundlers can tree-shake), tsc writes the declarations, and both formats are loaded once to
// prove the exports resolve.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { build } from 'esbuild'

const sourceFolders = ['src', 'middlewares', 'entrypoints']
const formats = [
  { format: 'esm', outdir: 'dist/esm', packageType: 'module' },
  { format: 'cjs', outdir: 'dist/cjs', packageType: 'commonjs' },
]

const listSources = (folder) =>
  readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name))

// Bundlers read `sideEffects` from the package.json nearest to a module, which for every built
// module is the one written below: without the package's own value there, they keep every
// middleware (and the SDK clients they import) in a handler that uses only one of them.
const { sideEffects } = JSON.parse(readFileSync('package.json', 'utf8'))

rmSync('dist', { recursive: true, force: true })
const entryPoints = sourceFolders.flatMap(listSources)

for (const { format, outdir, packageType } of formats) {
  await build({ entryPoints, outdir, outbase: '.', format, platform: 'node', target: 'node22', bundle: false, logLevel: 'warning' })
  mkdirSync(outdir, { recursive: true })
  writeFileSync(join(outdir, 'package.json'), JSON.stringify({ type: packageType, sideEffects }) + '\n')
}

execFileSync('tsc', ['-p', 'tsconfig.build.json'], { stdio: 'inherit' })
for (const { outdir } of formats) cpSync('dist/types', outdir, { recursive: true })
rmSync('dist/types', { recursive: true, force: true })

const require = createRequire(import.meta.url)
const fromCommonJs = require('middy-cache')
const fromEsm = await import('middy-cache')
for (const [format, exported] of [['cjs', fromCommonJs], ['esm', fromEsm]]) {
  if (typeof exported.createCache !== 'function') throw new Error(`build: the ${format} entry does not export createCache`)
}
console.log(`build: ${entryPoints.length} modules to ${formats.map((f) => relative('.', f.outdir)).join(' and ')}, declarations included`)
