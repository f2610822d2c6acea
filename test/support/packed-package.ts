import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const repositoryRoot = join(__dirname, '..', '..')

export interface PackedPackage {
  /** A project folder of type module with middy-cache installed from the tarball. */
  readonly project: string
  readonly remove: () => void
}

/**
 * Packs the repository as `npm publish` would (its prepack script included), from a checkout
 * without `dist`, and installs the tarball into a new project. The project's other packages (the
 * peers, esbuild, typescript, the type packages) are links to the repository's own.
 */
export const installPackedPackage = (): PackedPackage => {
  const project = mkdtempSync(join(tmpdir(), 'middy-cache-packed-'))
  rmSync(join(repositoryRoot, 'dist'), { recursive: true, force: true })
  execFileSync('npm', ['pack', '--pack-destination', project], { cwd: repositoryRoot, stdio: ['ignore', 'ignore', 'pipe'] })
  const tarball = readdirSync(project).find((name) => name.endsWith('.tgz'))
  if (tarball === undefined) throw new Error(`npm pack wrote no tarball to ${project}`)

  const modules = join(project, 'node_modules')
  mkdirSync(modules)
  execFileSync('tar', ['-xzf', join(project, tarball), '-C', modules])
  renameSync(join(modules, 'package'), join(modules, 'middy-cache'))
  for (const name of readdirSync(join(repositoryRoot, 'node_modules'))) {
    if (name !== 'middy-cache' && !name.startsWith('.')) symlinkSync(join(repositoryRoot, 'node_modules', name), join(modules, name))
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'packed-package-user', private: true, type: 'module' }))
  return {
    project,
    remove: () => {
      rmSync(project, { recursive: true, force: true })
    },
  }
}
