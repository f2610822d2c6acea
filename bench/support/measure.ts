import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'

/** One contender: a body that performs `operations` operations per call. */
export interface Contender {
  readonly name: string
  readonly run: () => Promise<void>
}

export interface Measured {
  readonly name: string
  /** Median over the rounds of nanoseconds per operation. */
  readonly nsPerOp: number
  readonly rounds: readonly number[]
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

/**
 * Runs the contenders in turn, round after round, so that a noisy neighbour on this shared machine
 * slows them alike; reports the median round of each.
 */
export const measureSideBySide = async (contenders: readonly Contender[], operations: number, rounds: number): Promise<Measured[]> => {
  for (const contender of contenders) await contender.run()
  const samples = new Map<string, number[]>(contenders.map((contender) => [contender.name, []]))
  for (let round = 0; round < rounds; round++) {
    for (const contender of contenders) {
      const startedAt = process.hrtime.bigint()
      await contender.run()
      samples.get(contender.name)?.push(Number(process.hrtime.bigint() - startedAt) / operations)
    }
  }
  return contenders.map(({ name }) => {
    const rounds = samples.get(name) ?? []
    return { name, nsPerOp: median(rounds), rounds }
  })
}

/** A contender measured against a baseline: their medians, and the median of the per-round ratios. */
export interface RatioMeasured {
  readonly baselineNs: number
  readonly contenderNs: number
  /** Median over the rounds of the contender's time over the mean of the two baseline runs around it. */
  readonly ratio: number
}

/**
 * Measures `contender` against `baseline` in many short rounds, each contender run between two
 * baseline runs: the ratio of each round compares runs a few milliseconds apart, so a neighbour
 * that slows the machine for a while moves both sides of it alike, and the median over the rounds
 * leaves out the rounds a collection or a burst of load fell into.
 */
export const measureRatio = async (baseline: () => Promise<void>, contender: () => Promise<void>, operations: number, rounds: number): Promise<RatioMeasured> => {
  const timed = async (run: () => Promise<void>): Promise<number> => {
    const startedAt = process.hrtime.bigint()
    await run()
    return Number(process.hrtime.bigint() - startedAt) / operations
  }
  for (let warmUp = 0; warmUp < 5; warmUp++) {
    await baseline()
    await contender()
  }
  const baselines: number[] = []
  const contenders: number[] = []
  const ratios: number[] = []
  let before = await timed(baseline)
  for (let round = 0; round < rounds; round++) {
    const during = await timed(contender)
    const after = await timed(baseline)
    baselines.push(before)
    contenders.push(during)
    ratios.push((2 * during) / (before + after))
    before = after
  }
  return { baselineNs: median(baselines), contenderNs: median(contenders), ratio: median(ratios) }
}

export const writeResult = (file: string, result: unknown): string => {
  const folder = join(import.meta.dirname, '..', 'results')
  mkdirSync(folder, { recursive: true })
  const path = join(folder, file)
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n')
  return path
}

/** Indices in [0, size) drawn with Zipf-like skew: a few hot keys, a long tail, as real traffic reads a cache. */
export const skewedIndices = (size: number, count: number, exponent = 1.1): number[] => {
  const weights = Array.from({ length: size }, (_, rank) => 1 / (rank + 1) ** exponent)
  const total = weights.reduce((sum, weight) => sum + weight, 0)
  const cumulative: number[] = []
  let running = 0
  for (const weight of weights) cumulative.push((running += weight / total))
  let seed = 42
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    return seed / 2_147_483_648
  }
  return Array.from({ length: count }, () => {
    const draw = random()
    let low = 0
    let high = size - 1
    while (low < high) {
      const middle = (low + high) >> 1
      if ((cumulative[middle] ?? 1) < draw) low = middle + 1
      else high = middle
    }
    return low
  })
}
