import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { createBucket, startMoto } from '../test/harness/index.js'
import { median, writeResult } from './support/measure.js'
import { formatMs, infoRow, type Row } from './support/results.js'

const rounds = 9
const sourceLatencyMs = 20
const environment = join(import.meta.dirname, 'support', 'snapshot-environment.ts')

interface FirstInvocation {
  readonly initMs: number
  readonly firstInvocationMs: number
  readonly loads: number
}

const Mode = {
  /** No snapshot middleware: every value loads from the source. */
  None: 'none',
  /** A snapshot of this function is in S3. */
  Present: 'present',
  /** The middleware finds none: the read is a miss, and the invocation writes one in `after`. */
  Missing: 'missing',
} as const
type Mode = (typeof Mode)[keyof typeof Mode]

/**
 * First-invocation latency of a fresh execution environment (a new Node process: module load, then
 * the first invocation at once), with and without a snapshot, in the same run, rounds taking turns.
 * The source answers in about 20 ms; S3 is a private moto_server on loopback.
 */
export const benchSnapshot = async (): Promise<Row[]> => {
  const moto = await startMoto()
  try {
    const bucket = 'bench-snapshots'
    await createBucket(bucket, { endpoint: moto.endpoint })
    const env = {
      ...process.env,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_LAMBDA_FUNCTION_NAME: 'bench-snapshot',
      AWS_LAMBDA_FUNCTION_VERSION: '1',
      BENCH_SNAPSHOT_BUCKET: bucket,
      BENCH_SOURCE_LATENCY_MS: String(sourceLatencyMs),
    }
    const spawnEnvironment = (middleware: 'none' | 'snapshot', version: string): FirstInvocation => {
      const child = spawnSync(process.execPath, ['--import', 'tsx', environment], {
        env: { ...env, BENCH_SNAPSHOT_MODE: middleware, BENCH_SNAPSHOT_VERSION: version },
        encoding: 'utf8',
        timeout: 60_000,
      })
      if (child.status !== 0) throw new Error(`bench: an environment failed (status ${String(child.status)}): ${child.stderr.slice(-2_000)}`)
      return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as FirstInvocation
    }
    let missingRun = 0
    const run = (mode: Mode): FirstInvocation => {
      if (mode === Mode.None) return spawnEnvironment('none', 'bench')
      // A version of its own per 'missing' environment, so that it never finds what another wrote.
      return spawnEnvironment('snapshot', mode === Mode.Missing ? `missing-${++missingRun}` : 'bench')
    }

    // The environment that writes the snapshot the 'present' ones read.
    if (spawnEnvironment('snapshot', 'bench').loads !== 6) throw new Error('bench: the writing environment did not load every value')

    const samples = new Map<Mode, FirstInvocation[]>(Object.values(Mode).map((mode) => [mode, []]))
    for (let round = 0; round < rounds; round++) {
      for (const mode of Object.values(Mode)) samples.get(mode)?.push(run(mode))
    }
    const expectedLoads: Record<Mode, number> = { none: 6, present: 0, missing: 6 }
    for (const [mode, runs] of samples) {
      if (runs.some((sample) => sample.loads !== expectedLoads[mode])) throw new Error(`bench: a ${mode} environment loaded ${runs.map((sample) => sample.loads).join(', ')} values, not ${expectedLoads[mode]}`)
    }
    const firstMs = (mode: Mode): number => median((samples.get(mode) ?? []).map((sample) => sample.firstInvocationMs))
    const initMs = (mode: Mode): number => median((samples.get(mode) ?? []).map((sample) => sample.initMs))
    const [none, present, missing] = [firstMs(Mode.None), firstMs(Mode.Present), firstMs(Mode.Missing)]

    const result = {
      bench: 'snapshot',
      node: process.version,
      date: new Date().toISOString(),
      rounds,
      sourceLatencyMs,
      valuesPerFirstInvocation: 6,
      firstInvocationMs: { withoutSnapshot: none, snapshotPresent: present, snapshotMissing: missing },
      initMs: { withoutSnapshot: initMs(Mode.None), snapshotPresent: initMs(Mode.Present), snapshotMissing: initMs(Mode.Missing) },
      samples: Object.fromEntries(samples),
      fasterWithSnapshot: present < none,
    }
    const path = writeResult('snapshot.json', result)
    console.log(`Cold-start snapshot: first invocation of a fresh process, source ${sourceLatencyMs} ms a call, 6 values in 2 rounds, median of ${rounds} (${process.version})`)
    console.log(`  without a snapshot                 ${formatMs(none).padStart(9)}  (INIT ${formatMs(initMs(Mode.None))})`)
    console.log(`  snapshot present (hydrated)        ${formatMs(present).padStart(9)}  (INIT ${formatMs(initMs(Mode.Present))})`)
    console.log(`  snapshot missing (read, then write) ${formatMs(missing).padStart(8)}  (INIT ${formatMs(initMs(Mode.Missing))})`)
    console.log(`  written to ${path}`)

    const section = `Cold start, first invocation (source ${sourceLatencyMs} ms a call, 6 values)`
    return [
      { section, comparison: 'snapshot present vs no snapshot middleware', ours: formatMs(present), theirs: formatMs(none), ratio: present / none, bar: 'faster than without', met: result.fasterWithSnapshot },
      infoRow(section, 'snapshot missing (the miss, then the write in after) vs no snapshot middleware', formatMs(missing), formatMs(none), missing / none),
    ]
  } finally {
    await moto.stop()
  }
}
