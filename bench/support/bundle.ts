import { mkdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build, type Metafile, type Plugin } from 'esbuild'

const root = join(import.meta.dirname, '..', '..')
/**
 * Under the project's node_modules, so that what a bundle leaves external resolves when it is
 * imported, and so that neither git nor eslint sees the bundles.
 */
const outFolder = join(root, 'node_modules', '.cache', 'middy-cache-bench')
/** The suite's own code: what the package publishes. */
const ownFolders = ['src', 'middlewares', 'entrypoints']

/**
 * `middy-cache` and `middy-cache/<entry>` resolve to this checkout's sources, so a bundle measures
 * the code as it stands, not a stale `dist/`.
 */
const thisCheckout: Plugin = {
  name: 'middy-cache-sources',
  setup: (plugin) => {
    plugin.onResolve({ filter: /^middy-cache(\/[a-z0-9-]+)?$/ }, ({ path }) => ({ path: join(root, 'entrypoints', `${path === 'middy-cache' ? 'index' : path.slice('middy-cache/'.length)}.ts`) }))
  },
}

/**
 * ESM bundles that require() a bundled CommonJS dependency (ioredis) need a `require`; this is the
 * usual banner, added to every bundle alike.
 */
const requireBanner = "import{createRequire as __bundleRequire}from'node:module';const require=__bundleRequire(import.meta.url);"

export interface Bundle {
  readonly name: string
  readonly file: string
  /** Minified bytes. */
  readonly bytes: number
  /** The same, gzipped at level 9. */
  readonly gzipBytes: number
  /** Minified bytes that come from the suite's own modules (src/, middlewares/, entrypoints/). */
  readonly ownBytes: number
  /** Those bytes per module, largest first. */
  readonly ownModules: readonly { readonly module: string; readonly bytes: number }[]
}

const ownModulesOf = (metafile: Metafile): Bundle['ownModules'] =>
  Object.values(metafile.outputs)
    .flatMap((output) => Object.entries(output.inputs))
    .map(([input, { bytesInOutput }]) => ({ module: relative(root, join(root, input)), bytes: bytesInOutput }))
    .filter(({ module }) => ownFolders.includes(module.split(sep)[0] ?? ''))
    .sort((a, b) => b.bytes - a.bytes)

/** esbuild, minified, platform node, format esm, target node22; `@aws-sdk/*` and `external` left out, as a deployment leaves them. */
export const bundle = async (name: string, entry: string, external: readonly string[] = []): Promise<Bundle> => {
  mkdirSync(outFolder, { recursive: true })
  const file = join(outFolder, `${name}.mjs`)
  const result = await build({
    entryPoints: [join(root, entry)],
    outfile: file,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: ['@aws-sdk/*', ...external],
    banner: { js: requireBanner },
    plugins: [thisCheckout],
    metafile: true,
    logLevel: 'error',
    absWorkingDir: root,
  })
  const code = readFileSync(file)
  const ownModules = ownModulesOf(result.metafile)
  return { name, file, bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, ownBytes: ownModules.reduce((sum, { bytes }) => sum + bytes, 0), ownModules }
}
