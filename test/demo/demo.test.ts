import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bundlesParent, demoBundlesPrefix } from '../../scripts/demo/bundle.js'
import type { CacheFigures, DemoReport, PhaseFigures } from '../../scripts/demo/report.js'
import { parseEmf } from '../support/emf.js'

// `npm run demo` end to end: the examples in the local Lambda runtime, every phase of the script,
// then the figures of the report it wrote.
jest.setTimeout(120_000)

const repositoryRoot = join(__dirname, '..', '..')

/** The bundle directories the demo run by process `pid` left: not those of another demo running meanwhile. */
const bundleDirsLeftBy = (pid: number): string[] => readdirSync(bundlesParent).filter((name) => name.startsWith(demoBundlesPrefix(pid)))

const runDemo = (outputDir: string): Promise<{ pid: number; code: number | null; output: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo/index.ts', '--output', outputDir], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    child.once('error', reject)
    child.once('exit', (code) => {
      if (child.pid === undefined) reject(new Error('the demo was never spawned'))
      else resolve({ pid: child.pid, code, output })
    })
  })

/** Whether something still listens on the URL's port. */
const listening = (url: string): Promise<boolean> =>
  new Promise((resolve) => {
    const { hostname, port } = new URL(url)
    const socket = connect({ host: hostname, port: Number(port) })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => {
      resolve(false)
    })
  })

describe('npm run demo', () => {
  let outputDir: string
  let report: DemoReport
  let output: string
  let demoPid: number

  const phase = (name: string): PhaseFigures => {
    const found = report.phases.find((figures) => figures.name === name)
    if (found === undefined) throw new Error(`the report has no phase "${name}"`)
    return found
  }
  const cache = (phaseName: string, service: string, name: string): CacheFigures => {
    const found = report.caches.find((figures) => figures.phase === phaseName && figures.service === service && figures.cache === name)
    if (found === undefined) throw new Error(`the report has no figures for ${service} / ${name} in "${phaseName}"`)
    return found
  }

  beforeAll(async () => {
    outputDir = mkdtempSync(join(tmpdir(), 'middy-cache-demo-test-'))
    const result = await runDemo(outputDir)
    output = result.output
    demoPid = result.pid
    if (result.code !== 0) throw new Error(`the demo exited with ${String(result.code)}:\n${output}`)
    report = JSON.parse(readFileSync(join(outputDir, 'report.json'), 'utf8')) as DemoReport
  })

  afterAll(() => {
    rmSync(outputDir, { recursive: true, force: true })
  })

  test('prints the report and serves every invocation of every phase, but the one shown failing for want of a snapshot', () => {
    expect(output).toContain('middy-cache demo: the examples in a local Lambda runtime')
    expect(output).toContain('Failed invocations: 1.')
    expect(report.phases.map((figures) => figures.name)).toEqual([
      'cold start', 'steady traffic', 'warm-up ping', 'gap past the ttl', 'SSM outage', 'SSM unreachable', 'Redis outage', 'orders-worker', 'nightly-report', 'next night, SSM down',
    ])
    expect(report.totals.failed).toBe(1)
    for (const figures of report.phases) {
      expect({ phase: figures.name, failed: figures.failed }).toEqual({ phase: figures.name, failed: figures.name === 'next night, SSM down' ? 1 : 0 })
    }
    expect(report.totals.invocations).toBeGreaterThan(400)
  })

  test('the next night, with SSM down, a new environment runs from the snapshot; the same function without one fails', () => {
    const night = phase('next night, SSM down')
    expect(night).toMatchObject({ invocations: 2, coldStarts: 2, failed: 1 })
    expect(night.notes.join(' ')).toMatch(/with last night's snapshot, nightly-report#2 wrote the report/)
    expect(night.notes.join(' ')).toMatch(/without a snapshot, nightly-report-without-snapshot#1 failed after \d+ ms: CacheLoadError/)
    expect(report.coldStarts.map((start) => start.environmentId)).toEqual(expect.arrayContaining(['nightly-report#1', 'nightly-report#2', 'nightly-report-without-snapshot#1']))
  })

  test('the caches make far fewer source calls than invocations served', () => {
    const failedCalls = report.phases.reduce((sum, figures) => sum + figures.failedSourceCalls, 0)
    expect(report.totals.sourceCalls - failedCalls).toBeLessThan(report.totals.invocations / 2)
    expect(report.totals.sourceCalls * 3).toBeLessThan(report.totals.uncachedSourceCalls)
    expect(phase('steady traffic').sourceCalls).toMatchObject({ ssm: 1, secretsmanager: 1 })
  })

  test('a cold start, then a second environment under two clients; the warm-up ping fans out to a third', () => {
    expect(phase('cold start')).toMatchObject({ invocations: 1, coldStarts: 1, environments: 1 })
    expect(phase('steady traffic')).toMatchObject({ environments: 2, coldStarts: 1 })
    expect(phase('warm-up ping')).toMatchObject({ invocations: 3, environments: 3, coldStarts: 1, lambdaInvokes: 2 })
    expect(phase('warm-up ping').notes.join(' ')).toContain('fanned out to 2 of 2 other environments')
    const productApiStarts = report.coldStarts.filter((start) => start.functionName === 'product-api')
    expect(productApiStarts.map((start) => start.environmentId)).toEqual(['product-api#1', 'product-api#2', 'product-api#3'])
    for (const start of report.coldStarts) expect(start.initMs).toBeGreaterThan(0)
  })

  test("the report's loads include the cold start's prefetch, counted by the first invocation: its caption says so", () => {
    // INIT's prefetch called SSM and Secrets Manager before any invocation; the first one, which waited for it, counts a miss and the prefetch's load.
    expect(phase('cold start').sourceCalls).toMatchObject({ ssm: 1, secretsmanager: 1 })
    expect(cache('cold start', 'product-api', 'config')).toMatchObject({ gets: 1, loads: 1 })
    expect(output).toMatch(/loads: loader calls[^\n]*INIT's prefetch[^\n]*is counted\n[^\n]*by the first invocation of its environment/)
  })

  test('memory answers steady traffic; past the ttl, stale values are served while they refresh', () => {
    // At most the second environment's first invocation misses, when its INIT prefetch has not landed yet.
    const secrets = cache('steady traffic', 'product-api', 'secrets')
    expect(secrets.misses).toBeLessThanOrEqual(1)
    expect(secrets.hitRate).toBeGreaterThan(99)
    expect(cache('steady traffic', 'product-api', 'products').hitRate).toBeGreaterThan(80)
    expect(cache('gap past the ttl', 'product-api', 'products').staleServed).toBeGreaterThan(0)
  })

  test('during the SSM outage every get of the storefront settings is served stale, and no invocation fails', () => {
    const outage = phase('SSM outage')
    expect(outage.failed).toBe(0)
    expect(outage.failedSourceCalls).toBeGreaterThan(0)
    const config = cache('SSM outage', 'product-api', 'config')
    expect(config.gets).toBe(outage.invocations)
    expect(config.staleOnError).toBe(config.gets)
  })

  test("while SSM hangs unanswered, each environment waits for it at most the cache's timeout, then serves the stale settings: no invocation fails", () => {
    // Without a timeout each get would wait for SSM as long as the function may run, and every invocation would time out.
    const unreachable = phase('SSM unreachable')
    expect(unreachable).toMatchObject({ invocations: 18, environments: 3, coldStarts: 0, failed: 0 })
    expect(unreachable.failedSourceCalls).toBeGreaterThan(0)
    const config = cache('SSM unreachable', 'product-api', 'config')
    expect(config.gets).toBe(unreachable.invocations)
    expect(config.staleOnError).toBe(config.gets)
    expect(config.loadTimeouts).toBeGreaterThan(0)
  })

  test('during the Redis outage no invocation fails, and the breaker keeps most gets away from L2', () => {
    expect('url' in report.setup.redis).toBe(true)
    const outage = phase('Redis outage')
    expect(outage.failed).toBe(0)
    const products = cache('Redis outage', 'product-api', 'products')
    expect(products.l2Errors).toBeGreaterThan(0)
    expect(products.l2Errors).toBeLessThan(products.gets / 2)
  })

  test('the orders worker reports the orders it cannot price as batch item failures', () => {
    expect(phase('orders-worker')).toMatchObject({ invocations: 8, failed: 0 })
    expect(phase('orders-worker').notes.join(' ')).toMatch(/[1-9]\d* of 80 records returned to the queue/)
    expect(phase('nightly-report')).toMatchObject({ invocations: 1, failed: 0 })
    // No cold-start snapshot yet: read once (missing), then written after the report.
    expect(phase('nightly-report').notes.join(' ')).toMatch(/S3: 1 GET \(the cold-start snapshot, not there yet\), 2 PUT/)
  })

  test('writes valid EMF, the chart and the report, and stops everything it started', async () => {
    const lines = readFileSync(join(outputDir, 'emf.jsonl'), 'utf8').trim().split('\n')
    expect(lines.length).toBeGreaterThan(report.totals.invocations)
    for (const line of lines) parseEmf(line)
    expect(readFileSync(join(outputDir, 'latency.svg'), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/)
    expect(readFileSync(join(outputDir, 'report.txt'), 'utf8')).toContain('Cold starts')
    const redisUrl = 'url' in report.setup.redis ? report.setup.redis.url : undefined
    expect(await listening(report.setup.moto)).toBe(false)
    if (redisUrl !== undefined) expect(await listening(redisUrl)).toBe(false)
    expect(bundleDirsLeftBy(demoPid)).toEqual([])
  })
})
