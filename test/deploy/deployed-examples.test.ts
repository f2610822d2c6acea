import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bundleDemo, bundlesParent, exampleHandlers, type DemoBundles } from '../../scripts/demo/bundle.js'
import { productRequest, scheduledEvent, sqsBatch } from '../../scripts/demo/events.js'
import { Recorder, Trigger, type InvocationRecord } from '../../scripts/demo/recorder.js'
import { Outage, startAwsGateway, type AwsGateway } from '../../scripts/demo/runtime/aws-gateway.js'
import { LambdaRuntime } from '../../scripts/demo/runtime/lambda-runtime.js'
import type { FunctionDefinition } from '../../scripts/demo/runtime/messages.js'
import { serviceNames } from '../../examples/shared/settings.js'
import { cacheDimension, CacheMetric, serviceDimension } from '../../src/metrics/catalog.js'
import { createBucket, createSecret, createTable, destroySeedClients, putItems, putParameters, startHttpFaultProxy, uniqueName, type HttpFaultProxy, type SeenCall } from '../harness/index.js'
import { authorisationsOf, type Account, type AuthorisedCall } from '../support/aws-call-authorisations.js'
import { resolveIntrinsics, type Placement } from '../support/cloudformation-intrinsics.js'
import { parseEmf } from '../support/emf.js'
import { actionsOf, allowingStatements, asStatements, type Statement } from '../support/iam-policy.js'
import {
  alarmMetrics,
  dashboardMetrics,
  dashboardOf,
  packageService,
  resource,
  resourcesOfType,
  roleOf,
  statementsOf,
  statFitsUnit,
  type Json,
  type Packaged,
  type ReadMetric,
} from '../support/serverless-template.js'

// The examples as serverless.yml deploys them: bundled as serverless-esbuild bundles them, each with
// the environment variables, timeout and memory its packaged template gives it, run in the demo's
// local Lambda runtime against moto_server. What they write and what they call is then held to what
// the template's dashboard, alarm and roles read and allow.
jest.setTimeout(120_000)

const account: Account = { partition: 'aws', region: 'us-east-1', accountId: '123456789012' }
const minutes = (count: number): number => count * 60_000

interface WrittenMetric {
  readonly namespace: string
  readonly dimensions: Readonly<Record<string, string>>
  readonly name: string
  readonly unit: string | undefined
  readonly phase: string
  readonly value: number
}

/** Every metric of every EMF line the functions wrote, one entry per metric and dimension set. */
const writtenMetrics = (recorder: Recorder): WrittenMetric[] =>
  recorder.emf.flatMap(({ phase, line }) => {
    const blob = parseEmf(line)
    return blob._aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Dimensions.flatMap((set) =>
        directive.Metrics.map((metric) => {
          const value = blob[metric.Name]
          return {
            namespace: directive.Namespace,
            dimensions: Object.fromEntries(set.map((name) => [name, String(blob[name])])),
            name: metric.Name,
            unit: metric.Unit,
            phase,
            value: Array.isArray(value) ? (value as number[]).reduce((sum, entry) => sum + entry, 0) : (value as number),
          }
        }),
      ),
    )
  })

/** Whether `written` is a metric `read` finds: the same namespace, name and dimension names (SEARCH's schema matches that set exactly), and the values it names. */
const reads = (read: ReadMetric, written: WrittenMetric): boolean =>
  read.namespace === written.namespace &&
  read.name === written.name &&
  [...read.dimensions].sort().join() === Object.keys(written.dimensions).sort().join() &&
  Object.entries(read.dimensionValues ?? {}).every(([name, value]) => written.dimensions[name] === value)

/**
 * What product-api writes and neither the dashboard nor the alarm reads, and why. Anything else it
 * writes must be drawn: a failure the dashboard does not show is one nobody sees.
 */
const leftOffTheDashboard: Readonly<Record<string, string>> = {
  [CacheMetric.L1Misses]: 'the gets by tier draw what answered them instead',
  [CacheMetric.Loads]: 'the gets by tier draw the gets that waited for the source; LoadLatency, LoadErrors and LoadTimeouts the loads',
  [CacheMetric.L2Misses]: 'the gets by tier draw what answered the gets the shared tier could not',
}

/**
 * Grants no call in the run is expected to use, by action or by `Sid action`, and why the role
 * holds them all the same.
 */
const grantedForOthers: Readonly<Record<string, string>> = {
  'logs:CreateLogStream': 'the Lambda service writes the function logs with the role, not the code',
  'logs:PutLogEvents': 'the Lambda service writes the function logs with the role, not the code',
  'sqs:ReceiveMessage': "the SQS event source mapping polls the queue with the function's role",
  'sqs:DeleteMessage': "the SQS event source mapping deletes the processed messages with the function's role",
  'sqs:GetQueueAttributes': "the SQS event source mapping reads the queue's attributes with the function's role",
  's3:ListBucket': 'S3 consults it to answer a GET of a missing snapshot with 404 rather than 403 AccessDenied',
  'SharedTier dynamodb:BatchGetItem': "dynamoStore's table needs the six actions README's `table` option lists: BatchGetItem serves getMany, and the values beside a batch's leases",
  'SharedTier dynamodb:BatchWriteItem': "dynamoStore's table needs the six actions README's `table` option lists: BatchWriteItem writes back the values a getMany loaded",
  'SharedTier dynamodb:UpdateItem': "dynamoStore's table needs the six actions README's `table` option lists: UpdateItem moves the namespace version on clear()",
}

describe('the examples as deployed, against the dashboard, the alarm and the roles of their packaged template', () => {
  /** What beforeAll started, stopped by afterAll in reverse order, however far beforeAll got. */
  const cleanups: (() => Promise<void> | void)[] = []
  let packaged: Packaged
  let proxy: HttpFaultProxy
  let gateway: AwsGateway
  let runtime: LambdaRuntime
  const recorder = new Recorder()
  /** Index in the proxy's calls at which each phase began. */
  const phaseStarts = new Map<string, number>()
  const invocations: InvocationRecord[] = []
  let placement: Placement
  let functionNames: Record<string, string>

  const beginPhase = (name: string): void => {
    recorder.beginPhase(name)
    phaseStarts.set(name, proxy.calls().length)
  }

  const callsIn = (phase: string): SeenCall[] => {
    const phases = [...phaseStarts.entries()]
    const index = phases.findIndex(([name]) => name === phase)
    return proxy.calls().slice(phases[index]?.[1] ?? 0, phases[index + 1]?.[1])
  }

  /** Places the stack's resources in moto_server, seeded as CloudFormation would create them. */
  const placeResources = async (): Promise<Placement> => {
    const { template } = packaged
    const names = { products: uniqueName('products'), cache: uniqueName('cache'), bucket: uniqueName('reports').toLowerCase(), secret: uniqueName('pricing-key') }
    const parameterName = (id: string): string => resource(template, id).Properties.Name as string
    const parameterValue = (id: string): string => resource(template, id).Properties.Value as string
    await createTable(names.products, 'id')
    await createTable(names.cache, 'pk', { ttlAttribute: 'expiresAt' })
    const [secretArn] = await Promise.all([
      createSecret(names.secret, 'a pricing key of 48 characters, as Secrets Manager generates'),
      putItems(names.products, [1, 2, 3].map((index) => ({ id: `p-00${index}`, name: `Product ${index}`, price: 10 * index + 0.99, stock: index }))),
      putParameters({ [parameterName('StorefrontParameter')]: parameterValue('StorefrontParameter'), [parameterName('ReportParameter')]: parameterValue('ReportParameter') }),
      createBucket(names.bucket),
    ])
    destroySeedClients()
    const { partition, region, accountId } = account
    const functionArns = Object.fromEntries(
      resourcesOfType(template, 'AWS::Lambda::Function').map(([id, fn]) => [`${id.replace('LambdaFunction', '')}LogGroup`, `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/lambda/${fn.Properties.FunctionName as string}:*`]),
    )
    return {
      ...account,
      refs: { ProductsTable: names.products, CacheTable: names.cache, StorefrontParameter: parameterName('StorefrontParameter'), ReportParameter: parameterName('ReportParameter'), PricingSecret: secretArn, ReportsBucket: names.bucket },
      arns: {
        ...functionArns,
        ProductsTable: `arn:${partition}:dynamodb:${region}:${accountId}:table/${names.products}`,
        CacheTable: `arn:${partition}:dynamodb:${region}:${accountId}:table/${names.cache}`,
        ReportsBucket: `arn:${partition}:s3:::${names.bucket}`,
        OrdersQueue: `arn:${partition}:sqs:${region}:${accountId}:${uniqueName('orders')}`,
      },
    }
  }

  /**
   * Each function of the template as the runtime runs it: its bundle, its environment variables
   * worked out for the placed resources, its timeout and memory; signed with an access key of its
   * own (its logical id), so that every call can be told apart by the function that made it.
   */
  const functionDefinitions = (bundles: DemoBundles): FunctionDefinition[] =>
    resourcesOfType(packaged.template, 'AWS::Lambda::Function').map(([id, fn]) => {
      const handler = fn.Properties.Handler as string
      const handlerModule = /^(.+)\.\w+$/.exec(handler)?.[1]
      const example = Object.entries(exampleHandlers).find(([, path]) => path === `${handlerModule ?? ''}.ts`)?.[0] as keyof typeof exampleHandlers | undefined
      if (example === undefined) throw new Error(`${id}'s handler ${handler} is none of the examples`)
      const variables = resolveIntrinsics(packaged.template, placement, (fn.Properties.Environment as { Variables: Json }).Variables) as Record<string, string>
      return {
        name: fn.Properties.FunctionName as string,
        bundlePath: bundles.examples[example].path,
        environment: { ...variables, AWS_ACCESS_KEY_ID: id },
        timeoutMs: (fn.Properties.Timeout as number) * 1000,
        memoryMb: fn.Properties.MemorySize as number,
      }
    })

  const invoke = async (functionId: string, event: unknown): Promise<InvocationRecord> => {
    const record = await runtime.invoke(functionNames[functionId] ?? functionId, event, Trigger.Client)
    invocations.push(record)
    return record
  }
  const getProducts = (ids: readonly string[]): Promise<InvocationRecord[]> => Promise.all(ids.map((id) => invoke('ProductApiLambdaFunction', productRequest(id))))

  beforeAll(async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'middy-cache-deployed-'))
    cleanups.push(() => {
      rmSync(workDir, { recursive: true, force: true })
    })
    mkdirSync(bundlesParent, { recursive: true })
    const bundlesDir = mkdtempSync(join(bundlesParent, 'middy-cache-deployed-'))
    cleanups.push(() => {
      rmSync(bundlesDir, { recursive: true, force: true })
    })
    const bundling = bundleDemo(bundlesDir)
    packaged = await packageService(workDir, 'ci', [])
    placement = await placeResources()
    gateway = await startAwsGateway({ target: process.env.AWS_ENDPOINT_URL ?? '', recorder })
    cleanups.push(() => gateway.close())
    proxy = await startHttpFaultProxy({ target: gateway.url })
    cleanups.push(() => proxy.close())
    const bundles = await bundling
    const definitions = functionDefinitions(bundles)
    functionNames = Object.fromEntries(definitions.map((definition) => [definition.environment.AWS_ACCESS_KEY_ID ?? '', definition.name]))
    runtime = new LambdaRuntime(definitions, { awsEndpoint: proxy.url, region: account.region, bootstrap: bundles.bootstrap }, recorder)
    cleanups.push(() => runtime.stop())
    gateway.routeInvokes(runtime)

    const passTime = (ms: number): void => {
      runtime.advanceClock(ms)
    }
    beginPhase('cold start')
    await getProducts(['p-001'])
    beginPhase('a second environment')
    await getProducts(['p-001', 'p-001'])
    beginPhase('past the ttl')
    passTime(minutes(5.5))
    await getProducts(['p-001', 'p-001'])
    beginPhase('warm-up ping')
    passTime(minutes(4))
    const rule = resource(packaged.template, 'ProductApiEventsRuleSchedule1').Properties.Targets as { Input: string }[]
    await invoke('ProductApiLambdaFunction', JSON.parse(rule[0]?.Input ?? 'null'))
    await runtime.idle()
    // The next ping comes late, as a schedule may fire: what this one left to go stale must not wait for its source.
    beginPhase('before a late ping')
    passTime(minutes(5.75))
    await getProducts(['p-001', 'p-001', 'p-001'])
    beginPhase('DynamoDB failing')
    passTime(minutes(7))
    gateway.setOutage('dynamodb', Outage.Errors)
    await getProducts(['p-001', 'p-001', 'p-001'])
    await getProducts(['p-002'])
    gateway.setOutage('dynamodb', undefined)
    beginPhase('DynamoDB unreachable')
    passTime(minutes(7))
    gateway.setOutage('dynamodb', Outage.Unreachable)
    await getProducts(['p-001', 'p-001', 'p-001'])
    gateway.setOutage('dynamodb', undefined)
    await runtime.idle()
    beginPhase('orders')
    const order = (orderId: string, sku: string): string => JSON.stringify({ orderId, lines: [{ sku, quantity: 2 }] })
    await invoke('OrdersWorkerLambdaFunction', sqsBatch([order('o-1', 'p-001'), order('o-2', 'p-003')]))
    await invoke('OrdersWorkerLambdaFunction', sqsBatch([order('o-3', 'p-002')]))
    beginPhase('nightly report')
    await invoke('NightlyReportLambdaFunction', scheduledEvent('nightly-report', new Date()))
    beginPhase('done')
  })

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  test('each function starts with the variables, timeout and memory its template gives it, and answers', () => {
    const failures = invocations.filter((record) => record.failure !== undefined).map((record) => `${record.phase}: ${record.failure ?? ''}`)
    // The one failure on purpose: a product never cached, asked for while DynamoDB fails.
    expect(failures).toEqual([expect.stringMatching(/^DynamoDB failing: Cache\w*Error: /)])
    expect(new Set(invocations.map((record) => record.functionName))).toEqual(new Set(Object.values(functionNames)))
  })

  test('every metric the dashboard and the alarm read is one the deployed functions write: namespace, name, dimension names and values, and a statistic fit for its unit', () => {
    const written = writtenMetrics(recorder)
    const read = [...dashboardMetrics(dashboardOf(packaged.template)), ...alarmMetrics(packaged.template, 'ProductsHitRateAlarm')]
    expect(read.length).toBeGreaterThan(15)
    const unmatched = read.flatMap((metric) => {
      const found = written.filter((candidate) => reads(metric, candidate))
      if (found.length === 0) return [`${metric.name} ${JSON.stringify(metric.dimensionValues ?? metric.dimensions)} in ${metric.namespace}: never written`]
      return found.every((candidate) => statFitsUnit(metric.stat, candidate.unit)) ? [] : [`${metric.name}: ${metric.stat} of ${String(found[0]?.unit)}`]
    })
    expect(unmatched).toEqual([])
  })

  test('every metric product-api writes is drawn on the dashboard or read by the alarm (for one of its caches at least), but for those left off for a reason', () => {
    const read = [...dashboardMetrics(dashboardOf(packaged.template)), ...alarmMetrics(packaged.template, 'ProductsHitRateAlarm')]
    const productApi = writtenMetrics(recorder).filter((metric) => metric.dimensions[serviceDimension] === serviceNames.productApi)
    const drawn = new Set(productApi.filter((metric) => read.some((candidate) => reads(candidate, metric))).map((metric) => metric.name))
    const undrawn = [...new Set(productApi.map((metric) => metric.name))].filter((name) => !drawn.has(name))
    expect(undrawn.filter((name) => leftOffTheDashboard[name] === undefined)).toEqual([])
    // Those left off are written here, and so still have a reason to be listed.
    expect(Object.keys(leftOffTheDashboard).filter((name) => !undrawn.includes(name))).toEqual([])
  })

  test('the scenario wrote every failure the caches count: load errors and timeouts, L2 errors, stale on error and failed gets', () => {
    const names = new Set(writtenMetrics(recorder).filter((metric) => metric.dimensions[cacheDimension] === 'products').map((metric) => metric.name))
    for (const name of [CacheMetric.LoadErrors, CacheMetric.LoadTimeouts, CacheMetric.L2Errors, CacheMetric.StaleOnError, CacheMetric.GetErrors, CacheMetric.L2Hits, CacheMetric.StaleServed]) {
      expect({ name, written: names.has(name) }).toEqual({ name, written: true })
    }
  })

  test("a warm-up ping refreshes what would go stale before the next ping, even when that ping comes a minute late: no get waits for Secrets Manager", () => {
    // The ping's fan-out kept three environments warm, and each of the three requests found one of them.
    expect(new Set(invocations.filter((record) => record.phase === 'before a late ping').map((record) => record.environmentId)).size).toBe(3)
    expect(runtime.environmentCount(functionNames.ProductApiLambdaFunction ?? '')).toBe(3)
    const secrets = writtenMetrics(recorder).filter((metric) => metric.phase === 'before a late ping' && metric.dimensions[cacheDimension] === 'secrets')
    const sum = (name: string): number => secrets.filter((metric) => metric.name === name).reduce((total, metric) => total + metric.value, 0)
    expect(sum(CacheMetric.Gets)).toBe(3)
    expect({ misses: sum(CacheMetric.Misses), l1Hits: sum(CacheMetric.L1Hits) }).toEqual({ misses: 0, l1Hits: 3 })
    expect(callsIn('before a late ping').filter((call) => call.target === 'secretsmanager.GetSecretValue')).toEqual([])
  })

  describe('IAM', () => {
    let calls: AuthorisedCall[]
    let roles: Map<string, Statement[]>

    beforeAll(() => {
      calls = proxy.calls().map((call) => authorisationsOf(call, account))
      roles = new Map(
        resourcesOfType(packaged.template, 'AWS::Lambda::Function').map(([id]) => [
          id,
          asStatements(statementsOf(packaged.template, roleOf(packaged.template, id)).map((statement) => resolveIntrinsics(packaged.template, placement, statement))),
        ]),
      )
    })

    test('every AWS call each function made is allowed by its own role', () => {
      expect(new Set(calls.map((call) => call.accessKeyId))).toEqual(new Set(roles.keys()))
      const denied = calls.flatMap((call) =>
        call.authorisations.flatMap((authorisation) =>
          allowingStatements(roles.get(call.accessKeyId) ?? [], authorisation).length > 0 ? [] : [`${call.accessKeyId}: ${authorisation.action} on ${authorisation.resource} ${JSON.stringify(authorisation.context)}`],
        ),
      )
      expect([...new Set(denied)]).toEqual([])
    })

    test('every action a role grants is one its function was seen to use on that statement, or is listed with the reason it is granted', () => {
      const unused = [...roles.entries()].flatMap(([functionId, statements]) =>
        statements.flatMap((statement) =>
          actionsOf(statement).flatMap((action) => {
            if (grantedForOthers[action] !== undefined || grantedForOthers[`${statement.Sid ?? ''} ${action}`] !== undefined) return []
            const used = calls.some(
              (call) =>
                call.accessKeyId === functionId &&
                call.authorisations.some((authorisation) => authorisation.action === action && allowingStatements([statement], authorisation).length > 0),
            )
            return used ? [] : [`${functionId} ${statement.Sid ?? ''}: ${action}`]
          }),
        ),
      )
      expect(unused).toEqual([])
    })
  })
})
