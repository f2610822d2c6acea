import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'

// serverless.yml as CloudFormation: `osls package` offline, and the parts of the template its tests read.

const run = promisify(execFile)
export const repositoryRoot = join(__dirname, '..', '..')
const osls = join(repositoryRoot, 'node_modules', 'osls', 'bin', 'serverless.js')

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

export interface Resource {
  readonly Type: string
  readonly Properties: JsonObject
  readonly Condition?: string
}

export interface Template {
  readonly Resources: Record<string, Resource>
  readonly Parameters?: Record<string, { readonly Type: string; readonly Default?: Json }>
  readonly Conditions?: Record<string, Json>
}

export interface Packaged {
  readonly template: Template
  readonly templatePath: string
}

// osls must work from the files alone: fake credentials, no STS, and a dead proxy for anything that
// would still reach for the network.
const offlineEnv = (home: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: home,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  SLS_TELEMETRY_DISABLED: '1',
  SLS_NOTIFICATIONS_MODE: 'off',
  SLS_INTERACTIVE_SETUP_DISABLE: '1',
  HTTP_PROXY: 'http://127.0.0.1:9',
  HTTPS_PROXY: 'http://127.0.0.1:9',
  NO_PROXY: '',
})

/** Held by the process that packages: serverless-esbuild builds in the service's one .esbuild folder. */
const packagingLock = join(repositoryRoot, '.serverless-package.lock')
const lockWaitMs = 120_000

/** Whether the lock's holder is gone (it died mid-package): its pid is no process, or it never wrote one. */
const lockAbandoned = (): boolean => {
  try {
    process.kill(Number(readFileSync(join(packagingLock, 'pid'), 'utf8')), 0)
    return false
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true
    // No pid yet: its holder is between taking the lock and writing it, unless that was long ago.
    try {
      return Date.now() - statSync(packagingLock).mtimeMs > lockWaitMs
    } catch {
      return false
    }
  }
}

/** Runs `work` while no other process (a test file in another Jest worker) packages the service. */
const whilePackagingAlone = async <T>(work: () => Promise<T>): Promise<T> => {
  const deadline = Date.now() + lockWaitMs
  for (;;) {
    try {
      mkdirSync(packagingLock)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (lockAbandoned()) rmSync(packagingLock, { recursive: true, force: true })
      else if (Date.now() > deadline) throw new Error(`another osls package held ${packagingLock} for ${lockWaitMs / 1000} s`, { cause: error })
      else await sleep(200)
    }
  }
  try {
    writeFileSync(join(packagingLock, 'pid'), String(process.pid))
    return await work()
  } finally {
    rmSync(packagingLock, { recursive: true, force: true })
  }
}

/** `osls package` for `stage`, offline, into `workDir/stage`; one at a time, across processes. */
export const packageService = async (workDir: string, stage: string, params: readonly string[]): Promise<Packaged> => {
  const outDir = join(workDir, stage)
  await whilePackagingAlone(() =>
    run(process.execPath, [osls, 'package', '--stage', stage, '--package', outDir, ...params.map((param) => `--param=${param}`)], {
      cwd: repositoryRoot,
      env: offlineEnv(workDir),
      timeout: 40_000,
    }),
  )
  const templatePath = join(outDir, 'cloudformation-template-update-stack.json')
  return { template: JSON.parse(readFileSync(templatePath, 'utf8')) as Template, templatePath }
}

export const resourcesOfType = (template: Template, type: string): [string, Resource][] => Object.entries(template.Resources).filter(([, resource]) => resource.Type === type)

export const resource = (template: Template, logicalId: string): Resource => {
  const found = template.Resources[logicalId]
  if (found === undefined) throw new Error(`the template has no ${logicalId}`)
  return found
}

/** The role a function runs with: serverless.yml names it as `!Sub '${XRole.Arn}'`. */
export const roleOf = (template: Template, functionId: string): string => {
  const role = resource(template, functionId).Properties.Role as { 'Fn::Sub'?: string }
  const match = /^\$\{(\w+)\.Arn\}$/.exec(role['Fn::Sub'] ?? '')
  if (match?.[1] === undefined) throw new Error(`${functionId} has no role of its own: ${JSON.stringify(role)}`)
  return match[1]
}

export const statementsOf = (template: Template, roleId: string): Json[] => {
  const policies = resource(template, roleId).Properties.Policies as { PolicyDocument: { Statement: Json[] } }[]
  return policies.flatMap((policy) => policy.PolicyDocument.Statement)
}

/** The dashboard's JSON, with the values CloudFormation substitutes filled in. */
export const dashboardOf = (template: Template): JsonObject => {
  const body = resource(template, 'CacheDashboard').Properties.DashboardBody as { 'Fn::Sub': string }
  return JSON.parse(body['Fn::Sub'].replaceAll('${AWS::Region}', 'us-east-1').replaceAll('${ProductsHitRateAlarm.Arn}', 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:x')) as JsonObject
}

const searchPattern = /^SEARCH\('\{([^}]+)\} MetricName="(\w+)"', '([\w.]+)', 300\)$/
export const fillPattern = /^FILL\((\w+), 0\)$/

export interface Widget {
  readonly properties: { readonly title?: string; readonly metrics?: Json[][]; readonly stat?: string; readonly stacked?: boolean }
}

/** A metric a widget names itself (not through SEARCH), with its dimensions' values and its options. */
export interface MetricRow {
  readonly namespace: string
  readonly name: string
  readonly dimensions: Record<string, string>
  readonly id: string | undefined
  readonly visible: boolean
  readonly stat: string | undefined
}

/** A metric-math row: SEARCH, or an expression over the widget's own metric rows. */
export interface ExpressionRow {
  readonly expression: string
  readonly visible: boolean
}

const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value)

const stringOrNothing = (value: Json | undefined): string | undefined => (typeof value === 'string' ? value : undefined)

export const parseRow = (row: Json[]): MetricRow | ExpressionRow => {
  const [first, second, ...rest] = row
  if (typeof first === 'string' && typeof second === 'string') {
    const pairs = rest.filter((entry): entry is string => typeof entry === 'string')
    const dimensions = Object.fromEntries(pairs.flatMap((entry, index) => (index % 2 === 0 ? [[entry, pairs[index + 1] ?? '']] : [])))
    const options = rest.find(isObject) ?? {}
    return { namespace: first, name: second, dimensions, id: stringOrNothing(options.id), visible: options.visible !== false, stat: stringOrNothing(options.stat) }
  }
  if (isObject(first) && typeof first.expression === 'string') return { expression: first.expression, visible: first.visible !== false }
  throw new Error(`unexpected metric ${JSON.stringify(row)}`)
}

export const isMetricRow = (row: MetricRow | ExpressionRow): row is MetricRow => 'name' in row

export const widgetsOf = (dashboard: JsonObject): Widget[] => dashboard.widgets as unknown as Widget[]

/**
 * A metric a dashboard widget or the alarm reads: its namespace, the names of its dimensions, their
 * values where it names them (SEARCH takes every value), its name and its statistic.
 */
export interface ReadMetric {
  readonly namespace: string
  readonly dimensions: string[]
  readonly dimensionValues: Readonly<Record<string, string>> | undefined
  readonly name: string
  readonly stat: string
}

/**
 * Every metric a dashboard widget reads: those it names, and those it finds with SEARCH. Any other
 * expression must FILL one of the widget's own metrics.
 */
export const dashboardMetrics = (dashboard: JsonObject): ReadMetric[] =>
  widgetsOf(dashboard).flatMap((widget) => {
    const rows = (widget.properties.metrics ?? []).map(parseRow)
    const ids = new Set(rows.filter(isMetricRow).map((row) => row.id))
    return rows.flatMap((row): ReadMetric[] => {
      if (isMetricRow(row)) {
        return [{ namespace: row.namespace, name: row.name, dimensions: Object.keys(row.dimensions), dimensionValues: row.dimensions, stat: row.stat ?? widget.properties.stat ?? 'Average' }]
      }
      const filled = fillPattern.exec(row.expression)?.[1]
      if (filled !== undefined && ids.has(filled)) return []
      const match = searchPattern.exec(row.expression)
      if (match?.[1] === undefined || match[2] === undefined || match[3] === undefined) throw new Error(`unexpected expression ${row.expression}`)
      const [namespace = '', ...dimensions] = match[1].split(',')
      return [{ namespace, dimensions, dimensionValues: undefined, name: match[2], stat: match[3] }]
    })
  })

export interface AlarmQuery {
  readonly Id: string
  readonly ReturnData: boolean
  readonly Expression?: string
  readonly MetricStat?: {
    readonly Metric: { readonly Namespace: string; readonly MetricName: string; readonly Dimensions: readonly { readonly Name: string; readonly Value: string }[] }
    readonly Stat: string
    readonly Period: number
  }
}

export const alarmQueries = (template: Template, alarmId: string): AlarmQuery[] => resource(template, alarmId).Properties.Metrics as unknown as AlarmQuery[]

/** Every metric an alarm's queries read. */
export const alarmMetrics = (template: Template, alarmId: string): ReadMetric[] =>
  alarmQueries(template, alarmId).flatMap(({ MetricStat }) =>
    MetricStat === undefined
      ? []
      : [{
          namespace: MetricStat.Metric.Namespace,
          name: MetricStat.Metric.MetricName,
          dimensions: MetricStat.Metric.Dimensions.map((dimension) => dimension.Name),
          dimensionValues: Object.fromEntries(MetricStat.Metric.Dimensions.map((dimension) => [dimension.Name, dimension.Value])),
          stat: MetricStat.Stat,
        }],
  )

/**
 * The statistics that mean something for a unit: counts add up (a count of zero is not written, so
 * its Average would be over the invocations that had one), a rate per invocation is averaged, and
 * a duration is averaged or taken at a percentile.
 */
const statsFor: Readonly<Record<string, RegExp>> = { Count: /^Sum$/, Percent: /^Average$/, Milliseconds: /^(Average|p\d+(\.\d+)?)$/ }

export const statFitsUnit = (stat: string, unit: string | undefined): boolean => statsFor[unit ?? '']?.test(stat) ?? false
