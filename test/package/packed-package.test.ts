import { execFileSync } from 'node:child_process'
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import ts from 'typescript'
import { installPackedPackage, type PackedPackage } from '../support/packed-package.js'

// The package as a user installs it: packed by `npm pack` (which builds it), unpacked into a project.
jest.setTimeout(120_000)

const entryPoints = ['middy-cache', 'middy-cache/redis', 'middy-cache/dynamodb', 'middy-cache/s3', 'middy-cache/snapshot']
const fixtures = join(__dirname, 'fixtures')

let packed: PackedPackage
beforeAll(() => {
  packed = installPackedPackage()
})
afterAll(() => {
  packed.remove()
})

const runNode = (args: readonly string[]): string => execFileSync(process.execPath, args, { cwd: packed.project, encoding: 'utf8' })

describe('the packed package', () => {
  test('every entry point loads through import and through require', () => {
    const imported = runNode(['--input-type=module', '-e', `for (const entry of ${JSON.stringify(entryPoints)}) console.log(entry, Object.keys(await import(entry)).length > 0)`])
    const required = runNode(['--input-type=commonjs', '-e', `for (const entry of ${JSON.stringify(entryPoints)}) console.log(entry, Object.keys(require(entry)).length > 0)`])
    const expected = entryPoints.map((entry) => `${entry} true\n`).join('')
    expect(imported).toBe(expected)
    expect(required).toBe(expected)
  })

  test('a process that both imports and requires it has two copies that share one registry of caches', () => {
    const script = [
      "import { createRequire } from 'node:module'",
      "const imported = await import('middy-cache')",
      "const required = createRequire(import.meta.url)('middy-cache')",
      "const cache = imported.createCache({ name: 'shared', load: () => 1, ttl: 60 })",
      'imported.registerCache({ cache, kind: imported.CacheKind.Data, secret: false })',
      'console.log(imported.createCache !== required.createCache, required.registeredCaches().some((registration) => registration.cache === cache))',
    ].join('\n')
    expect(runNode(['--input-type=module', '-e', script])).toBe('true true\n')
  })

  test('middy-cache alone loads neither ioredis nor the DynamoDB, S3 or Lambda clients', () => {
    const loaded = runNode(['--input-type=commonjs', '-e', "require('middy-cache'); console.log(Object.keys(require.cache).join('\\n'))"])
    for (const heavy of ['/ioredis/', '/@aws-sdk/client-dynamodb/', '/@aws-sdk/client-s3/', '/@aws-sdk/client-lambda/']) expect(loaded).not.toContain(heavy)
    expect(loaded).toContain('/@aws-sdk/client-ssm/')
  })

  test('a bundled handler keeps only the middlewares it uses, and only the SDK clients they need', async () => {
    const entry = join(packed.project, 'handler.ts')
    copyFileSync(join(fixtures, 'config-only-handler.ts'), entry)
    const { metafile } = await build({ entryPoints: [entry], bundle: true, minify: true, write: false, metafile: true, platform: 'node', format: 'esm', external: ['@aws-sdk/*'], logLevel: 'silent' })
    const [output] = Object.values(metafile.outputs)
    const bundled = Object.entries(output?.inputs ?? {}).filter(([, input]) => input.bytesInOutput > 0).map(([path]) => path)
    const middlewares = bundled.filter((path) => path.includes('/middy-cache/dist/esm/middlewares/') && !path.includes('/middlewares/shared/'))
    expect(middlewares.map((path) => path.replace(/.*\/middlewares\//, ''))).toEqual(['config-cache.js'])
    // One entry per import statement: Powertools' and the suite's own of one client are one client.
    const sdkClients = new Set(output?.imports.filter((imported) => imported.path.startsWith('@aws-sdk/')).map((imported) => imported.path))
    expect([...sdkClients]).toEqual(['@aws-sdk/client-ssm'])
  })

  test('every entry point has its declarations under each module resolution, for import and for require', () => {
    const importer = join(packed.project, 'importer.ts')
    const resolutions = [
      { moduleResolution: ts.ModuleResolutionKind.Node10, module: ts.ModuleKind.CommonJS, modes: [undefined] },
      { moduleResolution: ts.ModuleResolutionKind.Node16, module: ts.ModuleKind.Node16, modes: [ts.ModuleKind.ESNext, ts.ModuleKind.CommonJS] },
      { moduleResolution: ts.ModuleResolutionKind.NodeNext, module: ts.ModuleKind.NodeNext, modes: [ts.ModuleKind.ESNext, ts.ModuleKind.CommonJS] },
      { moduleResolution: ts.ModuleResolutionKind.Bundler, module: ts.ModuleKind.ESNext, modes: [undefined] },
    ] as const
    const unresolved = resolutions.flatMap(({ moduleResolution, module, modes }) =>
      modes.flatMap((mode) =>
        entryPoints.filter((entry) => {
          const { resolvedModule } = ts.resolveModuleName(entry, importer, { moduleResolution, module }, ts.sys, undefined, undefined, mode)
          return resolvedModule?.extension !== ts.Extension.Dts
        }).map((entry) => `${entry} (${ts.ModuleResolutionKind[moduleResolution]}${mode === undefined ? '' : `, ${ts.ModuleKind[mode]}`})`),
      ),
    )
    expect(unresolved).toEqual([])
  })

  test('the declarations type the context a handler gets', () => {
    const file = join(packed.project, 'every-entry-point.ts')
    copyFileSync(join(fixtures, 'every-entry-point.ts'), file)
    const program = ts.createProgram([file], {
      strict: true,
      exactOptionalPropertyTypes: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2023,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      // @middy/core's own declarations name an optional package that is not installed.
      skipLibCheck: true,
    })
    const errors = ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
    expect(errors).toEqual([])
  })
})
