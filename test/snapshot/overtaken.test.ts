import type { S3Client } from '@aws-sdk/client-s3'
import type { SSMClient } from '@aws-sdk/client-ssm'
import type { Request } from '@middy/core'
import type { Duration } from '../../src/cache/duration.js'
import { putParameters, uniqueName } from '../harness/index.js'
import { deferred } from '../support/deferred.js'
import { invoke } from '../support/invoke.js'
import { countCommands } from '../support/aws-commands.js'
import { inEnvironment, patientTimeouts, snapshotTests } from './environments.js'

/**
 * The first invocation waits for the snapshot only while it has nothing better: when every covered
 * cache gets its values from its own prefetch first, it goes on at once, and the snapshot is
 * restored beside later invocations.
 */

const { bucket } = snapshotTests('overtaken')
const parameter = `/${uniqueName('overtaken')}/table`

/** Sends the command once `until` settles (a held network), if it is the one held. */
const heldUntil = async <T>(until: Promise<unknown>, held: boolean, send: () => Promise<T>): Promise<T> => {
  if (held) await until
  return send()
}

/** The snapshot's GetObject waits for `until`. */
const holdSnapshotReads = (s3: S3Client, until: Promise<unknown>): void => {
  s3.middlewareStack.add((next, context) => (args) => heldUntil(until, context.commandName === 'GetObjectCommand', () => next(args)), { step: 'initialize', name: 'holdGetObject' })
}

/** Every SSM call waits for `until`, and fails if it rejects. */
const holdSsm = (ssm: SSMClient, until: Promise<unknown>): void => {
  ssm.middlewareStack.add((next) => (args) => heldUntil(until, true, () => next(args)), { step: 'initialize', name: 'holdSsm' })
}

interface Gates {
  /** Opening it lets the snapshot's GetObject go to S3. */
  readonly s3: Promise<unknown>
  /** Opening it lets SSM calls through; rejecting it makes them fail. */
  readonly ssm?: Promise<unknown>
}

interface SettingsOptions {
  /** The snapshot's `timeout`. Default '10s'. */
  readonly timeout?: Duration
  /** The snapshot's `writeTimeout`, which bounds the first invocation's wait for a read it went on without too. Default: the library's. */
  readonly writeTimeout?: Duration
  /** The handler fails after reading its value. */
  readonly fails?: boolean
}

/** A nightly-report-like function: the snapshot covers a configCache that prefetches at module load. */
const settingsFunction = (gates: Gates, options: SettingsOptions = {}) =>
  inEnvironment(async () => {
    const [{ default: middy }, { coldStartSnapshot }, { configCache }, { invocationOf }, { registeredCaches }, { S3Client }, { SSMClient }] = await Promise.all([
      import('@middy/core'),
      import('../../entrypoints/snapshot.js'),
      import('../../middlewares/config-cache.js'),
      import('../../middlewares/shared/invocation.js'),
      import('../../src/cache/registry.js'),
      import('@aws-sdk/client-s3'),
      import('@aws-sdk/client-ssm'),
    ])
    const clientOptions = { endpoint: process.env.AWS_ENDPOINT_URL ?? '', region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }
    const s3 = new S3Client(clientOptions)
    const ssm = new SSMClient(clientOptions)
    const commands = countCommands(s3)
    holdSnapshotReads(s3, gates.s3)
    if (gates.ssm !== undefined) holdSsm(ssm, gates.ssm)
    const snapshotReads: number[] = []
    // After the snapshot's `before`: what it counted on this invocation.
    const readsCounted = {
      before: (request: Request) => {
        snapshotReads.push(invocationOf(request).scope.countersFor('config').snapshotReads)
      },
    }
    const warnings: string[] = []
    const logger = { warn: (message: string) => void warnings.push(message) }
    const handler = middy()
      .use(coldStartSnapshot({ bucket, caches: ['config'], client: s3, timeout: options.timeout ?? '10s', ...(options.writeTimeout === undefined ? {} : { writeTimeout: options.writeTimeout }), logger }))
      .use(readsCounted)
      .use(configCache({ parameters: { table: parameter }, ttl: '1h', staleIfError: '1d', awsSdkV3Client: ssm }))
      .handler((_event, context) => (options.fails === true ? Promise.reject(new Error(`failed after reading ${context.config.table}`)) : Promise.resolve(context.config.table)))
    const prefetched = (): boolean => registeredCaches().some(({ cache }) => cache.name === 'config' && cache.stats().entries > 0)
    return { handler, commands, snapshotReads, prefetched, warnings, destroy: () => {
      s3.destroy()
      ssm.destroy()
    } }
  })

/** An earlier environment of the function, with SSM holding `value`: it writes the snapshot of it. */
const snapshotWritten = async (value: string): Promise<void> => {
  await putParameters({ [parameter]: value })
  const writer = await settingsFunction({ s3: Promise.resolve() }, { writeTimeout: patientTimeouts.writeTimeout })
  expect(await invoke(writer.handler)).toBe(value)
  expect(writer.commands.get('PutObjectCommand')).toBe(1)
  writer.destroy()
}

describe('a prefetch that brings every covered value first ends the wait for the snapshot', () => {
  test('the first invocation answers from its own load while S3 holds the read, and gives the read up when it ends: no request or timer of it outlives the invocation', async () => {
    // A snapshot with an older value.
    await snapshotWritten('from SSM')

    await putParameters({ [parameter]: 'newer, from SSM' })
    const s3 = deferred<undefined>()
    const fresh = await settingsFunction({ s3: s3.promise })
    // If it waited for the snapshot, this would not settle until the gate opens (or after 10 s).
    expect(await invoke(fresh.handler)).toBe('newer, from SSM')
    expect(fresh.commands.get('GetObjectCommand')).toBe(1)
    expect(fresh.snapshotReads).toEqual([0])

    // Given up within the first invocation (after writeTimeout), not left to fire or hang across a freeze.
    expect(fresh.warnings).toEqual([expect.stringContaining('the snapshot read was given up')])
    s3.resolve(undefined)
    // The next invocation counts the read; the older snapshot value never replaced the newer one loaded.
    expect(await invoke(fresh.handler)).toBe('newer, from SSM')
    expect(fresh.snapshotReads.at(-1)).toBe(1)
    fresh.destroy()
  })

  test('a first invocation that fails still settles the read it went on without: its timer never outlives the invocation', async () => {
    await snapshotWritten('from SSM')
    await putParameters({ [parameter]: 'newer, from SSM' })
    const s3 = deferred<undefined>()
    const fresh = await settingsFunction({ s3: s3.promise }, { timeout: '100ms', fails: true })
    await expect(invoke(fresh.handler)).rejects.toThrow('failed after reading newer, from SSM')
    // Judged within the invocation (onError waits, within writeTimeout), not on a timer left for after it.
    expect(fresh.warnings).toEqual([expect.stringContaining('did not arrive within 100 ms')])
    s3.resolve(undefined)
    fresh.destroy()
  })

  test('a prefetch that finished before the first invocation: it does not wait for S3 at all', async () => {
    await snapshotWritten('from SSM')

    const s3 = deferred<undefined>()
    const fresh = await settingsFunction({ s3: s3.promise })
    // The runtime's call for the next event leaves the event loop time to finish the prefetch.
    while (!fresh.prefetched()) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(await invoke(fresh.handler)).toBe('from SSM')
    expect(fresh.snapshotReads).toEqual([0])
    s3.resolve(undefined)
    fresh.destroy()
  })

  test('a prefetch that fails does not end the wait: the snapshot stands in for SSM', async () => {
    await snapshotWritten('last night')

    const s3 = deferred<undefined>()
    const ssmDown = Promise.reject(new Error('SSM unreachable'))
    ssmDown.catch(() => undefined)
    const fresh = await settingsFunction({ s3: s3.promise, ssm: ssmDown })
    const answer = invoke(fresh.handler)
    // Let the failed prefetch settle before the snapshot arrives.
    await new Promise((resolve) => setTimeout(resolve, 50))
    s3.resolve(undefined)
    expect(await answer).toBe('last night')
    expect(fresh.snapshotReads).toEqual([1])
    fresh.destroy()
  })
})
