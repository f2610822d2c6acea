import { startTcpProxy, type TcpProxy } from '../harness/index.js'
import { samplesOf } from '../support/emf.js'
import { setEnv } from '../support/env.js'
import { invoke } from '../support/invoke.js'
import { ChainOrder, namespace, productFunction, service, snapshotTests } from './environments.js'

/**
 * InitDuration runs from the start of INIT to the first invocation, as Lambda's own Init Duration
 * does: the first invocation's wait for a snapshot still on its way is part of that invocation,
 * not of INIT, whichever of the suite's middlewares comes first.
 */

const snapshots = snapshotTests('init-duration')
const { bucket } = snapshots

let proxy: TcpProxy
let restoreEnv: () => void
beforeEach(async () => {
  const moto = new URL(process.env.AWS_ENDPOINT_URL ?? '')
  proxy = await startTcpProxy({ target: { host: moto.hostname, port: Number(moto.port) } })
  restoreEnv = setEnv({ AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' })
})
afterEach(async () => {
  restoreEnv()
  await proxy.close()
})

test('coldStartSnapshot placed first: the wait for the snapshot read is not counted in InitDuration', async () => {
  // The read starts at INIT and is held until the first invocation has begun to wait for it.
  proxy.setBlackhole(true)
  const environment = await productFunction({ bucket, order: ChainOrder.MetricsAfterWarmup, endpoint: proxy.url('http'), snapshot: { timeout: '5s' } })
  let releasedAt = Number.POSITIVE_INFINITY
  setTimeout(() => {
    releasedAt = performance.now()
    proxy.setBlackhole(false)
  }, 20)

  await invoke(environment.handler, { ids: ['1'] })

  const [initDuration, ...more] = samplesOf(snapshots.output.blobs(), { namespace, name: 'InitDuration', dimensions: { service } })
  expect(more).toEqual([])
  expect(initDuration).toBeLessThan(releasedAt)
})
