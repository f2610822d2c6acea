// First: lets Node resolve the './x.js' imports below to their .ts files (see that file).
import './resolve-ts-imports.ts'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assertSupportedNode } from './node-version.js'
import { startMoto, startRedis, type ServiceHandle } from './services.js'
import { STATE_ENV, writeHarnessState, type ServiceRecord } from './state.js'

/** Later issues invoke Lambda on moto; without this moto would try to run Docker. */
const MOTO_CONFIG = { lambda: { use_docker: false } }

const record = (service: ServiceHandle, url: string): ServiceRecord => ({
  name: service.name,
  port: service.port,
  pids: service.pids,
  dir: service.dir,
  url,
})

/**
 * Starts one moto_server and one private redis-server for the whole run and
 * publishes them through process.env. Jest forks its workers after this
 * returns, so they inherit the variables. The global services are shared by
 * every test file: never pause, kill or restart them; start a private one
 * (startRedis / startMoto) for that.
 */
export default async function globalSetup(): Promise<void> {
  assertSupportedNode(process.versions.node)

  const [moto, redis] = await Promise.allSettled([startMoto({ config: MOTO_CONFIG }), startRedis()])
  if (moto.status === 'rejected' || redis.status === 'rejected') {
    // Do not leave the one that did start running.
    await Promise.allSettled([moto, redis].flatMap((result) => (result.status === 'fulfilled' ? [result.value.stop()] : [])))
    const reasons = [moto, redis].flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []))
    throw new AggregateError(reasons, reasons.map((reason) => (reason instanceof Error ? reason.message : String(reason))).join('\n\n'))
  }

  const stateDir = await mkdtemp(join(tmpdir(), 'middy-cache-harness-'))
  const statePath = join(stateDir, 'state.json')
  writeHarnessState(statePath, {
    ownerPid: process.pid,
    dir: stateDir,
    redis: record(redis.value, redis.value.url),
    moto: record(moto.value, moto.value.endpoint),
  })

  Object.assign(process.env, {
    [STATE_ENV]: statePath,
    AWS_ENDPOINT_URL: moto.value.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    REDIS_URL: redis.value.url,
  })
}
