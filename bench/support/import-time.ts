import { spawnSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { median } from './measure.js'

/** What the fresh process runs: import the bundle, check it has a handler, print how long the import took, exit at once. */
const importOnce = [
  'const startedAt = performance.now()',
  'const loaded = await import(process.argv[1])',
  'const ms = performance.now() - startedAt',
  "if (typeof loaded.handler !== 'function') { console.error('no handler exported'); process.exit(3) }",
  'process.stdout.write(String(ms))',
  'process.exit(0)',
].join('\n')

export interface ImportTiming {
  readonly file: string
  /** Median over the runs of the milliseconds from `import()` to the module's evaluation ending. */
  readonly medianMs: number
  readonly runsMs: readonly number[]
}

/**
 * Each bundle imported by a fresh `node` (this process's own, the project's Node 22), `runs` times,
 * the bundles taking turns so that a noisy moment slows them alike. The time covers loading what
 * the bundle leaves external (the AWS SDK clients) and running its module scope: a cold start's
 * INIT less the runtime's own start.
 */
export const importTimes = (files: readonly string[], runs: number, env: NodeJS.ProcessEnv): ImportTiming[] => {
  const samples = new Map<string, number[]>(files.map((file) => [file, []]))
  for (let run = 0; run < runs; run++) {
    for (const file of files) {
      const child = spawnSync(process.execPath, ['--input-type=module', '--eval', importOnce, pathToFileURL(file).href], { env, encoding: 'utf8', timeout: 30_000 })
      const ms = Number(child.stdout)
      if (child.status !== 0 || !Number.isFinite(ms)) throw new Error(`bench: importing ${file} failed (status ${String(child.status)}): ${child.stderr.slice(-2_000)}`)
      samples.get(file)?.push(ms)
    }
  }
  return files.map((file) => {
    const runsMs = samples.get(file) ?? []
    return { file, medianMs: median(runsMs), runsMs }
  })
}
