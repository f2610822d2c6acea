import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { monotonicClock } from '../src/cache/clock.js'
import { createSecret, putParameters, startMoto } from '../test/harness/index.js'
import { median, writeResult } from './support/measure.js'
import { formatNs, infoRow, type Row } from './support/results.js'
import { contenderNames, parameters, secret, type ContenderName, type PairMeasured } from './warm-contenders.js'

const invocations = 4_000
const rounds = 41
/** Processes per contender, taking turns with the other contenders': one process's figures move with the moment it ran. */
const passes = 5
const bar = { maxRatioToBare: 1.15 }
const ours: ContenderName = 'middy-cache config+secrets'

/**
 * Nanoseconds one reading of the monotonic clock takes in this process: the median of 21 rounds of
 * 200,000. DESIGN rule 1 has every warm invocation read the clock once for its freshness checks, so
 * this is a part of the floor no middleware of this kind goes below.
 */
const clockReadingNs = (): number => {
  const readings = 200_000
  const rounds: number[] = []
  let sum = 0
  for (let round = 0; round < 21; round++) {
    const startedAt = process.hrtime.bigint()
    for (let reading = 0; reading < readings; reading++) sum += monotonicClock()
    rounds.push(Number(process.hrtime.bigint() - startedAt) / readings)
  }
  if (!(sum > 0)) throw new Error('bench: the clock read nothing')
  return median(rounds)
}

/** One contender measured beside a bare handler in a process of its own (see `bench/warm-contenders.ts`). */
const measureInOwnProcess = (name: ContenderName, env: NodeJS.ProcessEnv): PairMeasured => {
  const script = join(import.meta.dirname, 'warm-contenders.ts')
  const child = spawnSync(process.execPath, ['--import', 'tsx', script, name, String(invocations), String(rounds)], { env, encoding: 'utf8', timeout: 300_000 })
  const line = child.stdout.trim().split('\n').at(-1) ?? ''
  if (child.status !== 0 || !line.startsWith('{')) throw new Error(`bench: measuring ${name} failed (status ${String(child.status)}): ${child.stderr.slice(-2_000)}`)
  return JSON.parse(line) as PairMeasured
}

/**
 * A warm invocation with two parameters and one secret on the context, every value already cached:
 * this suite, @middy/ssm + @middy/secrets-manager, Powertools' getters in the handler and two
 * reference chains, each in a process of its own beside a bare Middy handler, against one moto_server.
 */
export const benchWarmInvocation = async (): Promise<Row[]> => {
  const moto = await startMoto()
  try {
    await putParameters(parameters, { endpoint: moto.endpoint })
    await createSecret(secret.name, secret.value, { endpoint: moto.endpoint })
    const env = { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' }
    const measured = new Map<ContenderName, PairMeasured[]>(contenderNames.map((name) => [name, []]))
    for (let pass = 0; pass < passes; pass++) for (const name of contenderNames) measured.get(name)?.push(measureInOwnProcess(name, env))
    const rows = contenderNames.map((name) => {
      const pairs = measured.get(name) ?? []
      const ratios = pairs.map((pair) => pair.ratio)
      return { name, bareNs: median(pairs.map((pair) => pair.bareNs)), nsPerInvocation: median(pairs.map((pair) => pair.contenderNs)), ratioToBare: median(ratios), ratios }
    })
    const bareNs = median(rows.map((row) => row.bareNs))
    const ratioOf = (name: ContenderName): number => rows.find((row) => row.name === name)?.ratioToBare ?? Number.NaN
    const suiteRatio = ratioOf(ours)
    const clockNs = clockReadingNs()
    const path = writeResult('warm-invocation.json', {
      bench: 'warm-invocation',
      node: process.version,
      date: new Date().toISOString(),
      invocationsPerRound: invocations,
      rounds,
      passes,
      method: 'each contender in its own process, in rounds each run between two runs of a bare Middy handler, in each of the passes; a new context per invocation; the ratio of a process is the median over its rounds, the ratio shown the median over the passes',
      rows,
      bar,
      withinBar: suiteRatio <= bar.maxRatioToBare,
      clockReadingNs: clockNs,
    })
    console.log(`Warm invocation, 2 parameters + 1 secret on the context, each beside a bare handler in its own process (${rounds} rounds of ${invocations}), median of ${passes} processes (${process.version})`)
    for (const row of rows) console.log(`  ${row.name.padEnd(30)} ${row.nsPerInvocation.toFixed(0).padStart(6)} ns  ${row.ratioToBare.toFixed(2)}x its bare (${row.bareNs.toFixed(0)} ns; ${row.ratios.map((ratio) => ratio.toFixed(2)).join(', ')})`)
    console.log(`  one monotonic clock reading: ${clockNs.toFixed(0)} ns, ${(clockNs / bareNs).toFixed(3)}x bare`)
    console.log(`  bar: middy-cache <= ${bar.maxRatioToBare}x bare: ${suiteRatio <= bar.maxRatioToBare ? 'met' : 'NOT met'}`)
    console.log(`  written to ${path}`)
    const section = 'Warm invocation, 2 parameters + 1 secret cached, per invocation, each in its own process'
    const asRatio = (ratio: number): string => `${ratio.toFixed(2)}x bare`
    const against = (name: ContenderName, comparison: string): Row => infoRow(section, comparison, asRatio(suiteRatio), asRatio(ratioOf(name)), suiteRatio / ratioOf(name))
    return [
      { section, comparison: 'middy-cache configCache + secretsCache vs a bare Middy handler', ours: asRatio(suiteRatio), theirs: `bare: ${formatNs(bareNs)}`, ratio: suiteRatio, bar: `<= ${bar.maxRatioToBare}x`, met: suiteRatio <= bar.maxRatioToBare },
      against('@middy/ssm + secrets-manager', 'vs @middy/ssm 7 + @middy/secrets-manager 6'),
      against('Powertools getters', 'vs Powertools getParameter/getSecret in the handler'),
      against('least work, two middlewares', 'vs two minimal hand-written context middlewares (a clock reading, a freshness check and a property set, each)'),
      against('two empty middlewares', 'vs two Middy middlewares that do nothing'),
      infoRow(section, 'one monotonic clock reading, which rule 1 makes every warm invocation take (part of the floor)', `${(clockNs / bareNs).toFixed(3)}x bare`, formatNs(clockNs), undefined),
    ]
  } finally {
    await moto.stop()
  }
}
