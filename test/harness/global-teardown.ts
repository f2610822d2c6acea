// First: lets Node resolve the './x.js' imports below to their .ts files (see that file).
import './resolve-ts-imports.ts'
import { rmSync } from 'node:fs'
import { terminatePid } from './processes.js'
import { readHarnessState, STATE_ENV } from './state.js'

/** Stops the global services by the pids global setup recorded, then removes their files. */
export default async function globalTeardown(): Promise<void> {
  if (process.env[STATE_ENV] === undefined) return // setup failed before it started anything
  const state = readHarnessState()
  const services = [state.moto, state.redis]
  await Promise.all(services.flatMap((service) => service.pids.map((pid) => terminatePid(pid))))
  for (const service of services) rmSync(service.dir, { recursive: true, force: true })
  rmSync(state.dir, { recursive: true, force: true })
  Reflect.deleteProperty(process.env, STATE_ENV) // a watch-mode rerun starts from a clean slate
}
