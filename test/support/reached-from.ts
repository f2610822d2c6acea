import { build } from 'esbuild'

/** Every module an entry point reaches, and every package it imports, as a bundler sees them. */
export const reachedFrom = async (entry: string): Promise<{ modules: string[]; packages: string[] }> => {
  const { metafile } = await build({ entryPoints: [entry], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' })
  const inputs = Object.values(metafile.inputs)
  return {
    modules: Object.keys(metafile.inputs),
    packages: [...new Set(inputs.flatMap((input) => input.imports.filter((imported) => imported.external).map((imported) => imported.path)))],
  }
}
