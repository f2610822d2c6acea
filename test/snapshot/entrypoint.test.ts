import { build } from 'esbuild'

/** Every module an entry point reaches, and every package it imports, as a bundler sees them. */
const reachedFrom = async (entry: string): Promise<{ modules: string[]; packages: string[] }> => {
  const { metafile } = await build({ entryPoints: [entry], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' })
  const inputs = Object.values(metafile.inputs)
  return {
    modules: Object.keys(metafile.inputs),
    packages: [...new Set(inputs.flatMap((input) => input.imports.filter((imported) => imported.external).map((imported) => imported.path)))],
  }
}

describe('the S3 client loads only from middy-cache/snapshot', () => {
  test('middy-cache alone reaches no snapshot module', async () => {
    const { modules } = await reachedFrom('entrypoints/index.ts')
    expect(modules.filter((module) => module.startsWith('src/snapshot/') || module === 'middlewares/cold-start-snapshot.ts')).toEqual([])
  })

  test('middy-cache/snapshot brings @aws-sdk/client-s3 and no other client', async () => {
    const { packages } = await reachedFrom('entrypoints/snapshot.ts')
    expect(packages.filter((name) => name.startsWith('@aws-sdk/') || name === 'ioredis')).toEqual(['@aws-sdk/client-s3'])
  })
})
