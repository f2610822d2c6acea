import { readFileSync, writeFileSync } from 'node:fs'

/** Env var holding the path of the state file global setup writes for global teardown. */
export const STATE_ENV = 'MIDDY_CACHE_HARNESS_STATE'

export interface ServiceRecord {
  readonly name: string
  readonly port: number
  /** Every pid started for this service; teardown stops them all. */
  readonly pids: readonly number[]
  /** Scratch directory to remove. */
  readonly dir: string
  /** Where tests reach it: REDIS_URL or AWS_ENDPOINT_URL. */
  readonly url: string
}

export interface HarnessState {
  /** Pid of the jest process that ran global setup. */
  readonly ownerPid: number
  /** Directory holding the state file, removed by teardown. */
  readonly dir: string
  readonly redis: ServiceRecord
  readonly moto: ServiceRecord
}

export function writeHarnessState(path: string, state: HarnessState): void {
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`)
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

function isServiceRecord(value: unknown): value is ServiceRecord {
  return (
    isRecord(value) &&
    typeof value.name === 'string' &&
    typeof value.port === 'number' &&
    Array.isArray(value.pids) &&
    value.pids.every((pid) => typeof pid === 'number') &&
    typeof value.dir === 'string' &&
    typeof value.url === 'string'
  )
}

/** Reads the state file named by MIDDY_CACHE_HARNESS_STATE (or `path`). */
export function readHarnessState(path = process.env[STATE_ENV]): HarnessState {
  if (path === undefined || path === '') {
    throw new Error(`${STATE_ENV} is not set: the jest global setup (test/harness/global-setup.ts) did not run`)
  }
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'))
  if (
    isRecord(parsed) &&
    typeof parsed.ownerPid === 'number' &&
    typeof parsed.dir === 'string' &&
    isServiceRecord(parsed.redis) &&
    isServiceRecord(parsed.moto)
  ) {
    return { ownerPid: parsed.ownerPid, dir: parsed.dir, redis: parsed.redis, moto: parsed.moto }
  }
  throw new Error(`${path} is not a harness state file`)
}
