import type { Context } from 'aws-lambda'
import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { metricsNamespace, productsCacheName, serviceNames, warmupInterval } from '../../examples/shared/settings.js'
import { CacheCounters } from '../../src/cache/counters.js'
import { cacheDimension, metricGroups, serviceDimension } from '../../src/metrics/catalog.js'
import { cacheFigures } from '../../src/metrics/figures.js'
import { detectPing } from '../../src/lambda/warmup-detection.js'
import { resolveWarmupOptions } from '../../src/lambda/warmup-options.js'
import { snapshotKey } from '../../src/snapshot/object-key.js'
import { emittedMetrics } from '../support/emitted-metrics.js'
import { lambdaContext } from '../support/lambda-context.js'
import {
  alarmQueries,
  dashboardMetrics,
  dashboardOf,
  fillPattern,
  isMetricRow,
  packageService,
  parseRow,
  repositoryRoot,
  resource,
  resourcesOfType,
  roleOf,
  statementsOf,
  statFitsUnit,
  widgetsOf,
  type ExpressionRow,
  type Json,
  type JsonObject,
  type Packaged,
} from '../support/serverless-template.js'

// `osls package` (serverless-esbuild bundling the examples) offline, then cfn-lint on the template
// it writes, for the default deployment and for one with Redis in a VPC.
jest.setTimeout(60_000)

const run = promisify(execFile)

const requireCfnLint = (): void => {
  const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(`cfn-lint is needed to check the CloudFormation template serverless.yml makes, and it did not run (${probe.error?.message ?? probe.stderr}). Install it with: pip install cfn-lint`)
  }
}

/** cfn-lint exits 0 when it finds nothing. W3005 (a DependsOn next to a Ref) is left out: osls writes it itself, for the HTTP API route. */
const cfnLint = (templatePath: string): Promise<unknown> => run('cfn-lint', [templatePath, '--ignore-checks', 'W3005'], { timeout: 30_000 })

const partition = '${AWS::Partition}'
const region = '${AWS::Region}'
const account = '${AWS::AccountId}'
const logs = (functionId: string): Json => ({ Sid: 'Logs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [`${functionId}LogGroup`, 'Arn'] } })
const parameter = (sid: string, parameterId: string): Json => ({
  Sid: sid,
  Effect: 'Allow',
  Action: 'ssm:GetParameters',
  Resource: { 'Fn::Sub': `arn:${partition}:ssm:${region}:${account}:parameter\${${parameterId}}` },
})
const productReads = (action: Json): Json => ({ Sid: 'Products', Effect: 'Allow', Action: action, Resource: { 'Fn::GetAtt': ['ProductsTable', 'Arn'] } })
const productApiArn = (stage: string, suffix: string): Json => ({ 'Fn::Sub': `arn:${partition}:lambda:${region}:${account}:function:middy-cache-examples-${stage}-product-api${suffix}` })

/** Every statement of every role, exactly: each grants its own function the exact resources it reads, nothing more. */
const expectedStatements = (stage: string): Record<string, Json[]> => ({
  ProductApiRole: [
    logs('ProductApi'),
    parameter('StorefrontSettings', 'StorefrontParameter'),
    { Sid: 'PricingKey', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: 'PricingSecret' } },
    // One product a request: with a shared tier, which product-api always has, dataCache never batches its loads.
    productReads('dynamodb:GetItem'),
    {
      'Fn::If': [
        'UsesRedis',
        { Ref: 'AWS::NoValue' },
        {
          Sid: 'SharedTier',
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          Resource: { 'Fn::GetAtt': ['CacheTable', 'Arn'] },
        },
      ],
    },
    { Sid: 'WarmupFanOut', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [productApiArn(stage, ''), productApiArn(stage, ':*')] },
  ],
  OrdersWorkerRole: [
    logs('OrdersWorker'),
    parameter('StorefrontSettings', 'StorefrontParameter'),
    productReads(['dynamodb:GetItem', 'dynamodb:BatchGetItem']),
    { Sid: 'Orders', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], Resource: { 'Fn::GetAtt': ['OrdersQueue', 'Arn'] } },
  ],
  NightlyReportRole: [
    logs('NightlyReport'),
    parameter('ReportSettings', 'ReportParameter'),
    { Sid: 'Products', Effect: 'Allow', Action: 'dynamodb:Scan', Resource: { 'Fn::GetAtt': ['ProductsTable', 'Arn'] } },
    { Sid: 'Reports', Effect: 'Allow', Action: 's3:PutObject', Resource: { 'Fn::Sub': '${ReportsBucket.Arn}/reports/*' } },
    // coldStartSnapshot's objects are `${prefix}/${function name}/${region}/${version}/${version option}/${caches}.json.gz`: this function's only.
    {
      Sid: 'ColdStartSnapshot',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: { 'Fn::Sub': `\${ReportsBucket.Arn}/snapshots/middy-cache-examples-${stage}-nightly-report/*` },
    },
    // Listing only under that prefix, so that a missing snapshot is a 404, not AccessDenied.
    {
      Sid: 'ColdStartSnapshotListing',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: { 'Fn::GetAtt': ['ReportsBucket', 'Arn'] },
      Condition: { StringLike: { 's3:prefix': `snapshots/middy-cache-examples-${stage}-nightly-report/*` } },
    },
  ],
})

/**
 * Counters whose figures tell which metrics add up to Gets: each get outcome a distinct power of
 * two, and beside them counts that are no gets, which no partition of Gets may include.
 */
const distinctCounters = (): CacheCounters =>
  Object.assign(new CacheCounters(), { hits: 1, l2Hits: 2, misses: 4, staleServed: 8, staleOnError: 16, errors: 32, l2Misses: 64, l2Errors: 128, loads: 256 })

describe('serverless.yml, packaged offline by osls and checked by cfn-lint', () => {
  let workDir: string
  let plain: Packaged
  let withRedis: Packaged
  // What the examples' cacheMetrics writes (their namespace, no default dimensions), from the EMF itself.
  const emitted = emittedMetrics({ namespace: metricsNamespace, service: serviceNames.productApi })

  beforeAll(async () => {
    requireCfnLint()
    workDir = mkdtempSync(join(tmpdir(), 'middy-cache-osls-'))
    // One after the other: serverless-esbuild builds in the service's own .esbuild folder.
    plain = await packageService(workDir, 'ci', [])
    withRedis = await packageService(workDir, 'prod', ['redisUrl=rediss://user:password@cache.example.com:6379', 'subnetIds=subnet-0a1b2c3d,subnet-1a2b3c4d', 'securityGroupIds=sg-0e4f5a6b'])
  })

  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true })
  })

  test('cfn-lint finds nothing in either template', async () => {
    await expect(Promise.all([cfnLint(plain.templatePath), cfnLint(withRedis.templatePath)])).resolves.toHaveLength(2)
  })

  test('every function runs nodejs22.x on arm64 with a role of its own, and there is no shared role', () => {
    const functions = resourcesOfType(plain.template, 'AWS::Lambda::Function')
    expect(functions.map(([id]) => id).sort()).toEqual(['NightlyReportLambdaFunction', 'OrdersWorkerLambdaFunction', 'ProductApiLambdaFunction'])
    for (const [id, fn] of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x')
      expect(fn.Properties.Architectures).toEqual(['arm64'])
      expect(roleOf(plain.template, id)).toBe(id.replace('LambdaFunction', 'Role'))
    }
    expect(resourcesOfType(plain.template, 'AWS::IAM::Role').map(([id]) => id).sort()).toEqual(['NightlyReportRole', 'OrdersWorkerRole', 'ProductApiRole'])
  })

  test("each role grants exactly its function's parameter, secret, table, queue and bucket", () => {
    for (const [roleId, statements] of Object.entries(expectedStatements('ci'))) {
      expect(statementsOf(plain.template, roleId)).toEqual(statements)
    }
    expect(resource(plain.template, 'ProductApiRole').Properties.ManagedPolicyArns).toEqual({
      'Fn::If': ['InVpc', [{ 'Fn::Sub': `arn:${partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole` }], { Ref: 'AWS::NoValue' }],
    })
    for (const roleId of ['OrdersWorkerRole', 'NightlyReportRole']) expect(resource(plain.template, roleId).Properties.ManagedPolicyArns).toBeUndefined()
  })

  test('each function is given exactly the environment variables its handler reads (a required one missing fails its INIT)', () => {
    const functions = resourcesOfType(plain.template, 'AWS::Lambda::Function')
    expect(functions).toHaveLength(3)
    for (const [id, fn] of functions) {
      const handlerModule = /^(.+)\.\w+$/.exec(fn.Properties.Handler as string)?.[1]
      const source = readFileSync(join(repositoryRoot, `${handlerModule ?? ''}.ts`), 'utf8')
      const read = [...source.matchAll(/requiredEnv\('(\w+)'\)|process\.env\.(\w+)/g)].map(([, required, optional]) => required ?? optional)
      const given = Object.keys((fn.Properties.Environment as { Variables: Record<string, Json> }).Variables)
      expect({ id, variables: [...new Set(read)].sort() }).toEqual({ id, variables: given.sort() })
    }
  })

  test('the tables, the bucket, the parameters and the secret the roles name are in the stack; the cache table has the TTL dynamoStore reads', () => {
    expect(resource(plain.template, 'CacheTable').Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    })
    expect(resource(plain.template, 'ProductsTable').Properties).toMatchObject({ KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }] })
    expect(resource(plain.template, 'ReportsBucket').Type).toBe('AWS::S3::Bucket')
    expect(resource(plain.template, 'StorefrontParameter').Properties.Name).toBe('/middy-cache-examples/ci/storefront')
    expect(resource(plain.template, 'ReportParameter').Properties.Name).toBe('/middy-cache-examples/ci/report')
    expect(resource(plain.template, 'PricingSecret').Type).toBe('AWS::SecretsManager::Secret')
  })

  test("nightly-report's cold-start snapshot lies in the reports bucket, under the one prefix its role may read and write", () => {
    const nightly = resource(plain.template, 'NightlyReportLambdaFunction').Properties
    const variables = (nightly.Environment as { Variables: Record<string, Json> }).Variables
    expect(variables.SNAPSHOT_BUCKET).toEqual({ Ref: 'ReportsBucket' })
    const prefix = variables.SNAPSHOT_PREFIX
    if (typeof prefix !== 'string') throw new Error(`SNAPSHOT_PREFIX is not a string: ${JSON.stringify(prefix)}`)
    const statement = statementsOf(plain.template, 'NightlyReportRole').find((candidate) => (candidate as JsonObject).Sid === 'ColdStartSnapshot') as { Resource: { 'Fn::Sub': string } }
    const granted = statement.Resource['Fn::Sub']
    expect(granted.startsWith('${ReportsBucket.Arn}/')).toBe(true)
    expect(granted.endsWith('/*')).toBe(true)
    // The key coldStartSnapshot reads and writes, for the unqualified function (EventBridge invokes $LATEST) and for a published version.
    for (const version of ['$LATEST', '12']) {
      const key = snapshotKey(prefix, { name: nightly.FunctionName as string, version, region: 'eu-west-1' }, 'v1', ['config'])
      expect(key.startsWith(granted.slice('${ReportsBucket.Arn}/'.length, -1))).toBe(true)
    }
  })

  test("the warm-up schedule sends what warmup() takes for a ping; product-api's interval is its rate and a minute's slack for a ping that fires late", () => {
    const rule = resource(plain.template, 'ProductApiEventsRuleSchedule1')
    const rate = /^rate\((\d+) minutes\)$/.exec(rule.Properties.ScheduleExpression as string)?.[1]
    expect(rate).toBe('5')
    const targets = rule.Properties.Targets as { Input: string; Arn: Json }[]
    expect(targets[0]?.Arn).toEqual({ 'Fn::GetAtt': ['ProductApiLambdaFunction', 'Arn'] })
    const settings = resolveWarmupOptions({ interval: warmupInterval })
    const ping = detectPing<Context>(JSON.parse(targets[0]?.Input ?? 'null'), lambdaContext(), settings.rules)
    expect(ping).toEqual({ source: 'warmer', concurrency: 3 })
    // README, "Refresh ahead": with `interval` just the rate, an entry that stops being fresh a little
    // after the next ping is due is left to go stale when that ping comes late.
    expect(settings.intervalMs - Number(rate) * 60_000).toBeGreaterThanOrEqual(60_000)
  })

  test("the dashboard draws cacheMetrics' metrics as they are written: names, namespace, dimension sets, and a statistic fit for each unit", () => {
    const metrics = dashboardMetrics(dashboardOf(plain.template))
    expect(metrics.length).toBeGreaterThanOrEqual(10)
    for (const metric of metrics) {
      expect(metric.namespace).toBe(metricsNamespace)
      const written = emitted.get(metric.name)
      expect({ name: metric.name, dimensions: metric.dimensions }).toEqual({ name: metric.name, dimensions: written?.dimensions })
      const fitsUnit = statFitsUnit(metric.stat, written?.unit)
      expect({ name: metric.name, stat: metric.stat, fitsUnit }).toEqual({ name: metric.name, stat: metric.stat, fitsUnit: true })
    }
    expect(new Set(metrics.map((metric) => metric.name))).toEqual(
      new Set(['HitRate', 'L1Hits', 'L2Hits', 'StaleServed', 'StaleOnError', 'Misses', 'ColdStart', 'WarmupPing', 'InitDuration', 'LoadLatency', 'L2Latency', 'LoadErrors', 'LoadTimeouts', 'L2Errors', 'GetErrors']),
    )
  })

  test("a stacked widget draws counts of product-api's products cache, each FILLed with 0, and its series add up to Gets", () => {
    const stacked = widgetsOf(dashboardOf(plain.template)).filter((widget) => widget.properties.stacked === true)
    expect(stacked.length).toBeGreaterThan(0)
    const figures = new Map(cacheFigures(distinctCounters(), false, new Set(metricGroups)).map((figure) => [figure.name, figure.value]))
    for (const widget of stacked) {
      const rows = (widget.properties.metrics ?? []).map(parseRow)
      const metrics = rows.filter(isMetricRow)
      const series = rows.filter((row): row is ExpressionRow => !isMetricRow(row) && row.visible)
      // Drawn only through FILL: a count of zero is not written, and a gap in one series breaks the stack.
      expect(metrics.map((row) => row.visible)).toEqual(metrics.map(() => false))
      const filledIds = series.map((row) => fillPattern.exec(row.expression)?.[1])
      expect(filledIds.sort()).toEqual(metrics.map((row) => row.id).sort())
      for (const row of metrics) {
        expect({ name: row.name, unit: emitted.get(row.name)?.unit }).toEqual({ name: row.name, unit: 'Count' })
        expect(row.dimensions).toEqual({ [serviceDimension]: serviceNames.productApi, [cacheDimension]: productsCacheName })
      }
      const names = metrics.map((row) => row.name)
      expect(new Set(names).size).toBe(names.length)
      // The series partition Gets: with each outcome a distinct power of two, a get outcome left out, one
      // drawn twice over (L1Misses beside Misses) or a count that is no get (L2Misses, Loads) misses the sum.
      expect(names.reduce((sum, name) => sum + (figures.get(name) ?? Number.NaN), 0)).toBe(figures.get('Gets'))
    }
  })

  test('the hit-rate alarm weighs hits by gets, over the products cache of product-api, as cacheMetrics writes them', () => {
    const alarm = resource(plain.template, 'ProductsHitRateAlarm').Properties
    // No gets is no traffic: no data, which must not breach (counts of zero are not written).
    expect(alarm).toMatchObject({ ComparisonOperator: 'LessThanThreshold', Threshold: 80, TreatMissingData: 'notBreaching' })
    const queries = alarmQueries(plain.template, 'ProductsHitRateAlarm')
    expect(queries.filter((query) => query.ReturnData).map((query) => query.Id)).toEqual(['hitRate'])
    const metricById = new Map<string, string>()
    for (const { Id, MetricStat } of queries) {
      if (MetricStat === undefined) continue
      metricById.set(Id, MetricStat.Metric.MetricName)
      const written = emitted.get(MetricStat.Metric.MetricName)
      expect(MetricStat.Metric.Namespace).toBe(metricsNamespace)
      expect(MetricStat.Metric.Dimensions.map((dimension) => dimension.Name)).toEqual(written?.dimensions)
      expect(MetricStat.Metric.Dimensions).toEqual([{ Name: serviceDimension, Value: serviceNames.productApi }, { Name: cacheDimension, Value: productsCacheName }])
      expect(written?.unit).toBe('Count')
      expect(MetricStat).toMatchObject({ Stat: 'Sum', Period: 300 })
    }
    // HitRate's own formula over sums: every hit count FILLed with 0 (a count of zero is not
    // written), Gets not, so that a period without gets stays without data; and only for a period
    // with enough gets (IF without an else drops the others), so that a quiet one cannot breach.
    const expression = queries.find((query) => query.Expression !== undefined)?.Expression ?? ''
    const match = /^IF\((\w+) >= (\d+), 100 \* \(((?:FILL\(\w+, 0\)(?: \+ )?)+)\) \/ (\w+)\)$/.exec(expression)
    if (match?.[1] === undefined || match[2] === undefined || match[3] === undefined || match[4] === undefined) throw new Error(`unexpected hit-rate expression: ${expression}`)
    const [, guardId, minimumGets, hits, getsId] = match
    expect(guardId).toBe(getsId)
    // At 80 %, a period breaches only with 20 % of its gets missed: at least 10 misses, never a few.
    expect((Number(minimumGets) * (100 - Number(alarm.Threshold))) / 100).toBeGreaterThanOrEqual(10)
    const hitIds = [...hits.matchAll(/FILL\((\w+), 0\)/g)].map(([, id]) => id ?? '')
    expect(hitIds.map((id) => metricById.get(id)).sort()).toEqual(['L1Hits', 'L2Hits', 'StaleServed'])
    expect(metricById.get(getsId)).toBe('Gets')
    expect([...metricById.keys()].sort()).toEqual([...hitIds, getsId].sort())
  })

  test('with Redis in a VPC, the params become stack parameters whose conditions give product-api REDIS_URL and the VPC, and take the cache table away', () => {
    const { Parameters: parameters, Conditions: conditions } = withRedis.template as unknown as { Parameters: Record<string, { Default: string }>; Conditions: JsonObject }
    expect(parameters.RedisUrl?.Default).toBe('rediss://user:password@cache.example.com:6379')
    expect(parameters.SubnetIds?.Default).toBe('subnet-0a1b2c3d,subnet-1a2b3c4d')
    expect(parameters.SecurityGroupIds?.Default).toBe('sg-0e4f5a6b')
    expect(conditions).toEqual({
      UsesRedis: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'RedisUrl' }, ''] }] },
      InVpc: { 'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', { Ref: 'SubnetIds' }] }, ''] }] },
    })
    const productApi = resource(withRedis.template, 'ProductApiLambdaFunction').Properties
    expect(productApi.Environment).toMatchObject({ Variables: { REDIS_URL: { Ref: 'RedisUrl' } } })
    expect(productApi.VpcConfig).toEqual({ 'Fn::If': ['InVpc', { SubnetIds: { Ref: 'SubnetIds' }, SecurityGroupIds: { Ref: 'SecurityGroupIds' } }, { Ref: 'AWS::NoValue' }] })
    for (const [roleId, statements] of Object.entries(expectedStatements('prod'))) {
      expect(statementsOf(withRedis.template, roleId)).toEqual(statements)
    }
  })
})
