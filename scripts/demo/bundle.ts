import { statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url))

/** Where bundles are written: inside the repository, where the AWS SDK they leave out resolves from node_modules, as Lambda's runtime provides it. */
export const bundlesParent = join(repositoryRoot, 'node_modules', '.cache')

/**
 * How the directory the demo run by process `pid` bundles into begins: each of several demos run at
 * once (from worktrees that share node_modules, say) knows its own among them.
 */
export const demoBundlesPrefix = (pid: number): string => `middy-cache-demo-${pid}-`

/** The examples the demo runs, by function name. */
export const exampleHandlers = {
  'product-api': 'examples/product-api/handler.ts',
  'orders-worker': 'examples/orders-worker/handler.ts',
  'nightly-report': 'examples/nightly-report/handler.ts',
} as const
export type ExampleName = keyof typeof exampleHandlers

export interface Bundle {
  readonly path: string
  readonly bytes: number
}

export interface DemoBundles {
  readonly examples: Readonly<Record<ExampleName, Bundle>>
  /** The execution environment's bootstrap, bundled so that it runs on plain Node.js: no TypeScript loader slows INIT down. */
  readonly bootstrap: string
}

/**
 * Bundles each example as serverless.yml's `custom.esbuild` deploys it (bundled, minified, CommonJS
 * for nodejs22.x, the AWS SDK left to the runtime), so that INIT loads what Lambda would load; and
 * the environments' bootstrap. `outdir` must be inside `bundlesParent`.
 */
export const bundleDemo = async (outdir: string): Promise<DemoBundles> => {
  const common = { absWorkingDir: repositoryRoot, outdir, bundle: true, platform: 'node', target: 'node22', logLevel: 'warning' } as const
  await Promise.all([
    build({
      ...common,
      entryPoints: Object.entries(exampleHandlers).map(([name, path]) => ({ in: path, out: name })),
      outExtension: { '.js': '.cjs' },
      minify: true,
      format: 'cjs',
      external: ['@aws-sdk/*'],
    }),
    build({ ...common, entryPoints: [{ in: 'scripts/demo/runtime/environment-process.ts', out: 'bootstrap' }], outExtension: { '.js': '.mjs' }, format: 'esm' }),
  ])
  const examples = Object.keys(exampleHandlers).map((name) => {
    const path = join(outdir, `${name}.cjs`)
    return [name, { path, bytes: statSync(path).size }] as const
  })
  return { examples: Object.fromEntries(examples) as Record<ExampleName, Bundle>, bootstrap: join(outdir, 'bootstrap.mjs') }
}
