/**
 * CloudWatch Embedded Metric Format in tests: capture what a process writes, validate every line
 * against the EMF specification, and read metrics back as CloudWatch would aggregate them.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

export interface MetricDefinition {
  readonly Name: string
  readonly Unit?: string
  readonly StorageResolution?: number
}

export interface MetricDirective {
  readonly Namespace: string
  readonly Dimensions: readonly (readonly string[])[]
  readonly Metrics: readonly MetricDefinition[]
}

export interface EmfBlob {
  readonly _aws: { readonly Timestamp: number; readonly CloudWatchMetrics: readonly MetricDirective[] }
  readonly [member: string]: unknown
}

/** The units CloudWatch accepts. */
const units = new Set([
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits', 'Megabits',
  'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second',
  'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
])
const maxMetricsPerDirective = 100
const maxDimensionsPerSet = 30
const maxValuesPerMetric = 100

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const isName = (value: unknown, max: number): value is string => typeof value === 'string' && value.length >= 1 && value.length <= max

/** Throws, naming the rule, unless `line` is one valid EMF document. */
export const parseEmf = (line: string): EmfBlob => {
  const fail = (rule: string): never => {
    throw new Error(`not valid EMF (${rule}): ${line}`)
  }
  let blob: unknown
  try {
    blob = JSON.parse(line)
  } catch {
    return fail('not JSON')
  }
  if (!isRecord(blob)) return fail('the root is not an object')
  const aws = blob._aws
  if (!isRecord(aws)) return fail('no _aws object')
  if (typeof aws.Timestamp !== 'number' || !Number.isInteger(aws.Timestamp) || aws.Timestamp <= 0) fail('_aws.Timestamp is not epoch milliseconds')
  if (!Array.isArray(aws.CloudWatchMetrics) || aws.CloudWatchMetrics.length === 0) fail('_aws.CloudWatchMetrics is not a non-empty array')
  for (const directive of aws.CloudWatchMetrics as unknown[]) {
    if (!isRecord(directive)) return fail('a metric directive is not an object')
    if (!isName(directive.Namespace, 255)) fail('Namespace is not 1-255 characters')
    if (!Array.isArray(directive.Dimensions)) return fail('Dimensions is not an array')
    for (const set of directive.Dimensions as unknown[]) {
      if (!Array.isArray(set) || set.length > maxDimensionsPerSet) return fail(`a dimension set is not an array of at most ${maxDimensionsPerSet} names`)
      for (const name of set as unknown[]) {
        if (!isName(name, 255)) fail('a dimension name is not 1-255 characters')
        const value = blob[name as string]
        if (!isName(value, 1024)) fail(`dimension "${String(name)}" has no string value of 1-1024 characters at the root`)
      }
    }
    if (!Array.isArray(directive.Metrics) || directive.Metrics.length > maxMetricsPerDirective) fail(`Metrics is not an array of at most ${maxMetricsPerDirective}`)
    for (const metric of directive.Metrics as unknown[]) {
      if (!isRecord(metric) || !isName(metric.Name, 255)) return fail('a metric definition has no Name of 1-255 characters')
      if (metric.Unit !== undefined && !units.has(metric.Unit as string)) fail(`metric "${metric.Name}" has unit ${JSON.stringify(metric.Unit)}`)
      if (metric.StorageResolution !== undefined && metric.StorageResolution !== 1 && metric.StorageResolution !== 60) fail(`metric "${metric.Name}" has a StorageResolution other than 1 or 60`)
      const value = blob[metric.Name]
      const values = Array.isArray(value) ? (value as unknown[]) : [value]
      if (values.length === 0 || values.length > maxValuesPerMetric || !values.every((entry) => typeof entry === 'number' && Number.isFinite(entry))) {
        fail(`metric "${metric.Name}" has no number (or array of at most ${maxValuesPerMetric} numbers) at the root`)
      }
    }
  }
  return blob as EmfBlob
}

export interface Captured {
  /** Every line written to stdout since capture began, each a valid EMF blob (else `blobs` throws). */
  blobs(): EmfBlob[]
  /** What was written to stderr (Powertools' warnings). */
  stderr(): string
  restore(): void
}

const textOf = (chunk: unknown): string => (typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'))

/** Captures stdout and stderr, where Powertools writes EMF and its warnings, until `restore()`. */
export const captureOutput = (): Captured => {
  let stdout = ''
  let stderr = ''
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    stdout += textOf(chunk)
    return true
  })
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    stderr += textOf(chunk)
    return true
  })
  return {
    blobs: () => stdout.split('\n').filter((line) => line !== '').map(parseEmf),
    stderr: () => stderr,
    restore: () => {
      out.mockRestore()
      err.mockRestore()
    },
  }
}

/** Identifies one CloudWatch metric: namespace, name and its dimensions with their values. */
export interface MetricIdentity {
  readonly namespace: string
  readonly name: string
  readonly dimensions: Readonly<Record<string, string>>
}

/** Every value CloudWatch would record for `metric`: a dimension set must match its dimensions exactly. */
export const samplesOf = (blobs: readonly EmfBlob[], metric: MetricIdentity): number[] => {
  const wanted = Object.keys(metric.dimensions).sort().join('\0')
  const samples: number[] = []
  for (const blob of blobs) {
    for (const directive of blob._aws.CloudWatchMetrics) {
      if (directive.Namespace !== metric.namespace || !directive.Metrics.some((definition) => definition.Name === metric.name)) continue
      const matches = directive.Dimensions.some(
        (set) => [...set].sort().join('\0') === wanted && set.every((name) => blob[name] === metric.dimensions[name]),
      )
      if (!matches) continue
      const value = blob[metric.name]
      samples.push(...(Array.isArray(value) ? (value as number[]) : [value as number]))
    }
  }
  return samples
}

export const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0)
export const average = (values: readonly number[]): number => sum(values) / values.length

/** The unit a blob declares for metric `name`. */
export const unitOf = (blob: EmfBlob, name: string): string | undefined =>
  blob._aws.CloudWatchMetrics.flatMap((directive) => directive.Metrics).find((definition) => definition.Name === name)?.Unit

/** Names of the metrics a blob defines. */
export const metricNamesOf = (blob: EmfBlob): string[] => blob._aws.CloudWatchMetrics.flatMap((directive) => directive.Metrics.map((definition) => definition.Name))
