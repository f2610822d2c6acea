// Jest transform: TypeScript (and ESM-only JavaScript dependencies) to CommonJS with esbuild,
// which the build already uses. Pure transpilation, no type checking (`npm run typecheck` does that).
const { createHash } = require('node:crypto')
const { transformSync, version } = require('esbuild')

// Jest runs CommonJS without --experimental-vm-modules, where import() fails: esbuild turns it into
// a lazy require instead, so a module imported only on demand (the Lambda client of a fan-out) stays
// on demand in tests too.
const supported = { 'dynamic-import': false }

// CommonJS has no import.meta: a module that finds its own files through import.meta.url (the
// demo's bundler, which the deploy tests run) is given the URL of its file from __filename.
const importMetaUrl = {
  define: { 'import.meta.url': '__jestImportMetaUrl' },
  banner: 'var __jestImportMetaUrl = require("node:url").pathToFileURL(__filename).href;',
}
const usesImportMetaUrl = (source) => source.includes('import.meta.url')

module.exports = {
  getCacheKey(source, filename) {
    return createHash('sha256').update(version).update(JSON.stringify({ supported, importMetaUrl })).update('\0').update(filename).update('\0').update(source).digest('hex')
  },
  process(source, filename) {
    const { code, map } = transformSync(source, {
      loader: filename.endsWith('.ts') ? 'ts' : 'js',
      format: 'cjs',
      target: 'node22',
      sourcemap: 'external',
      sourcefile: filename,
      supported,
      ...(usesImportMetaUrl(source) ? importMetaUrl : {}),
    })
    return { code, map }
  },
}
