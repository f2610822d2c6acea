// What tests import: `import { startRedis, putParameters, ... } from '../harness/index.js'`.
export { freePort, LOOPBACK } from './ports.js'
export { isAlive, terminatePid } from './processes.js'
export { redisPing, httpRequest, type HttpResponse } from './readiness.js'
export {
  startMoto,
  startRedis,
  type MotoConfig,
  type MotoHandle,
  type MotoOptions,
  type RedisHandle,
  type RedisOptions,
  type ServiceHandle,
  type ServiceOptions,
} from './services.js'
export { startTcpProxy, type TcpProxy, type TcpProxyOptions } from './proxy.js'
export {
  awsJsonAnswer,
  awsJsonError,
  awsRestJsonError,
  startHttpFaultProxy,
  type FaultAnswer,
  type HangingFault,
  type HttpFault,
  type HttpFaultProxy,
  type HttpFaultProxyOptions,
  type RequestCounts,
  type RequestMatch,
  type SeenCall,
} from './fault-proxy.js'
export {
  createBucket,
  createSecret,
  createTable,
  destroySeedClients,
  putItems,
  putObject,
  putParameters,
  seedClients,
  toAttributeMap,
  toAttributeValue,
  uniqueName,
  updateSecret,
  type Item,
  type ItemValue,
  type ParameterSeed,
  type SecretSeed,
  type SeedClients,
  type SeedOptions,
  type TableOptions,
} from './seed.js'
export { readHarnessState, STATE_ENV, type HarnessState, type ServiceRecord } from './state.js'
export { assertSupportedNode, MIN_NODE_MAJOR } from './node-version.js'
