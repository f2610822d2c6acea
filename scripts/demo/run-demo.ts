import { mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { startMoto, startRedis, type RedisHandle } from '../../test/harness/index.js'
import { bundleDemo, bundlesParent, demoBundlesPrefix } from './bundle.js'
import { latencyChart } from './chart.js'
import type { Cleanup } from './cleanup.js'
import { functionDefinitions } from './functions.js'
import { Recorder } from './recorder.js'
import { buildReport, type DemoReport, type DemoSetup } from './report.js'
import { reportText } from './report-text.js'
import { startAwsGateway } from './runtime/aws-gateway.js'
import { LambdaRuntime } from './runtime/lambda-runtime.js'
import { expireRedisKeysWithin } from './redis-time.js'
import { seedResources } from './seed.js'
import { demoScript, type DemoWorld } from './traffic.js'

export interface DemoOptions {
  /** Where emf.jsonl, invocations.jsonl, logs.txt, latency.svg, report.json and report.txt go. */
  readonly outputDir: string
  /** Progress lines while the phases run. */
  readonly progress: (line: string) => void
}

type OptionalRedis = { readonly handle: RedisHandle } | { readonly unavailable: string }

/** A private redis-server for product-api's shared tier, or the reason there is none (the demo then runs L1 only). */
const startOptionalRedis = async (): Promise<OptionalRedis> => {
  try {
    return { handle: await startRedis() }
  } catch (error) {
    return { unavailable: (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'it did not start' }
  }
}

/**
 * Runs the examples in a local Lambda runtime against moto_server (and redis-server when there is
 * one), through the scripted phases, and writes what it measured. Everything it starts is handed to
 * `cleanup`, which the caller runs once the demo ends, however it ends.
 */
export const runDemo = async (options: DemoOptions, cleanup: Cleanup): Promise<DemoReport> => {
  const started = performance.now()
  const recorder = new Recorder()
  mkdirSync(options.outputDir, { recursive: true })
  mkdirSync(bundlesParent, { recursive: true })
  const bundlesDir = await mkdtemp(join(bundlesParent, demoBundlesPrefix(process.pid)))
  cleanup.add('the bundles', () => rm(bundlesDir, { recursive: true, force: true }))

  options.progress('starting moto_server (and redis-server, if installed), bundling the examples...')
  const [moto, optionalRedis, bundles] = await Promise.all([startMoto(), startOptionalRedis(), bundleDemo(bundlesDir)])
  cleanup.add('moto_server', () => moto.stop())
  const redis = 'handle' in optionalRedis ? optionalRedis.handle : undefined
  if (redis !== undefined) cleanup.add('redis-server', () => redis.stop())
  await seedResources(moto.endpoint)

  const gateway = await startAwsGateway({ target: moto.endpoint, recorder })
  cleanup.add('the AWS gateway', () => gateway.close())
  const definitions = functionDefinitions(bundles.examples, redis?.url)
  const runtime = new LambdaRuntime(definitions, { awsEndpoint: gateway.url, region: 'us-east-1', bootstrap: bundles.bootstrap }, recorder)
  cleanup.add('the execution environments', () => runtime.stop())
  gateway.routeInvokes(runtime)

  const passTime = async (ms: number): Promise<void> => {
    runtime.advanceClock(ms)
    if (redis !== undefined) await expireRedisKeysWithin(redis.url, ms)
  }
  const world: DemoWorld = { runtime, gateway, recorder, redis, passTime }
  for (const [index, phase] of demoScript.entries()) {
    const phaseStarted = performance.now()
    recorder.beginPhase(phase.name)
    await phase.run(world)
    await runtime.idle()
    options.progress(`[${index + 1}/${demoScript.length}] ${phase.name} (${((performance.now() - phaseStarted) / 1000).toFixed(1)} s)`)
  }

  const file = (name: string): string => join(options.outputDir, name)
  // Relative to where the demo was started when inside it, as the user would type it.
  const shown = (path: string): string => (path.startsWith(process.cwd()) ? relative(process.cwd(), path) : path)
  const setup: DemoSetup = {
    moto: moto.endpoint,
    redis: 'handle' in optionalRedis ? { url: optionalRedis.handle.url } : { unavailable: optionalRedis.unavailable },
    bundles: Object.entries(bundles.examples).map(([name, bundle]) => ({ name, bytes: bundle.bytes })),
  }
  writeFileSync(file('emf.jsonl'), recorder.emf.map(({ line }) => `${line}\n`).join(''))
  writeFileSync(file('invocations.jsonl'), recorder.invocations.map(({ payload: _payload, ...record }) => `${JSON.stringify(record)}\n`).join(''))
  writeFileSync(file('logs.txt'), recorder.logs.map(({ phase, line }) => `[${phase}] ${line}\n`).join(''))
  writeFileSync(file('latency.svg'), latencyChart(recorder.invocations, recorder.phases))
  const report = buildReport(demoScript, recorder, {
    setup,
    files: { emf: shown(file('emf.jsonl')), chart: shown(file('latency.svg')), report: shown(file('report.txt')) },
    durationMs: performance.now() - started,
  })
  writeFileSync(file('report.json'), `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(file('report.txt'), `${reportText(report)}\n`)
  return report
}
