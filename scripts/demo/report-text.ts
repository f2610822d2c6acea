import type { CacheFigures, ColdStartFigures, DemoReport, PhaseFigures } from './report.js'

type Align = 'left' | 'right'

/** A plain-text table: columns padded to their widest cell. */
const table = (headers: readonly string[], align: readonly Align[], rows: readonly (readonly string[])[]): string[] => {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (align[column] === 'right' ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map(line)]
}

const milliseconds = (value: number | undefined): string => (value === undefined ? '-' : value < 10 ? value.toFixed(2) : value.toFixed(1))
const count = (value: number): string => (value === 0 ? '-' : value.toLocaleString('en-US'))
const percent = (value: number | undefined): string => (value === undefined ? '-' : `${value.toFixed(1)}%`)
const kilobytes = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`

const phaseRows = (phases: readonly PhaseFigures[]): string[] => {
  const rows = phases.map((phase, index) => [
    `${index + 1} ${phase.name}`,
    String(phase.invocations),
    String(phase.environments),
    count(phase.coldStarts),
    String(phase.failed),
    milliseconds(phase.p50Ms),
    milliseconds(phase.p99Ms),
    count(phase.sourceCalls.ssm),
    count(phase.sourceCalls.secretsmanager),
    count(phase.sourceCalls.dynamodb),
    count(phase.lambdaInvokes),
  ])
  const lines = table(
    ['phase', 'invocations', 'envs', 'cold', 'failed', 'p50 ms', 'p99 ms', 'SSM', 'Secrets', 'DynamoDB', 'Invoke'],
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    rows,
  )
  const [header = '', ...body] = lines
  return [
    header,
    ...phases.flatMap((phase, index) => [
      body[index] ?? '',
      `    ${phase.shows}`,
      ...phase.notes.map((note) => `    -> ${note}`),
      ...(phase.failedSourceCalls === 0 ? [] : [`    -> ${phase.failedSourceCalls} SDK calls (retries included) failed against the outage`]),
      ...phase.failures.slice(0, 3).map((failure) => `    !! ${failure}`),
    ]),
  ]
}

const cacheRows = (caches: readonly CacheFigures[]): string[] =>
  table(
    ['phase', 'function / cache', 'gets', 'hit rate', 'L1', 'L2', 'stale', 'stale-on-error', 'source', 'errors', 'loads', 'L2 errors'],
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    caches
      .filter((figures) => figures.gets > 0 || figures.loads > 0)
      .map((figures) => [
        figures.phase,
        `${figures.service} / ${figures.cache}`,
        count(figures.gets),
        percent(figures.hitRate),
        count(figures.l1Hits),
        count(figures.l2Hits),
        count(figures.staleServed),
        count(figures.staleOnError),
        count(figures.misses),
        count(figures.getErrors),
        count(figures.loads),
        count(figures.l2Errors),
      ]),
  )

const coldStartRows = (coldStarts: readonly ColdStartFigures[]): string[] =>
  table(
    ['environment', 'phase', 'started by', 'INIT ms', 'first invocation ms', 'total ms'],
    ['left', 'left', 'left', 'right', 'right', 'right'],
    coldStarts.map((start) => [start.environmentId, start.phase, start.trigger, milliseconds(start.initMs), milliseconds(start.firstInvocationMs), milliseconds(start.totalMs)]),
  )

/** The report as the demo prints it. */
export const reportText = (report: DemoReport): string => {
  const { setup, totals } = report
  const redis = 'url' in setup.redis ? `redis-server ${setup.redis.url} (product-api's shared tier)` : `no redis-server (${setup.redis.unavailable}): product-api runs with memory only`
  const byService = `SSM ${totals.sourceCallsByService.ssm}, Secrets Manager ${totals.sourceCallsByService.secretsmanager}, DynamoDB ${totals.sourceCallsByService.dynamodb}`
  return [
    'middy-cache demo: the examples in a local Lambda runtime',
    `  moto_server ${setup.moto} (SSM, Secrets Manager, DynamoDB, S3); ${redis}`,
    `  bundles (esbuild, minified, AWS SDK external): ${setup.bundles.map((bundle) => `${bundle.name} ${kilobytes(bundle.bytes)}`).join(', ')}`,
    '',
    'Phases (latency: what the caller waited for, INIT included on a cold start; SDK calls: retries included)',
    ...phaseRows(report.phases),
    '',
    'Gets per cache and tier, from the EMF the functions wrote (hit rate: L1 + L2 + stale, of gets; source: gets that waited for a load;',
    "  loads: loader calls, refreshes and warm-up reloads included; INIT's prefetch, which runs before any invocation, is counted",
    '  by the first invocation of its environment)',
    ...cacheRows(report.caches),
    '',
    'Cold starts (INIT: loading the bundled handler, which starts the config and secrets prefetch)',
    ...coldStartRows(report.coldStarts),
    '',
    `Source calls: ${totals.sourceCalls} SDK calls to SSM, Secrets Manager and DynamoDB (${byService}) for ${totals.invocations} invocations,`,
    `  ${totals.failedSourceCalls} of them failed attempts during the outage; handlers that read every value from its source would have made ${totals.uncachedSourceCalls.toLocaleString('en-US')}.`,
    `Failed invocations: ${totals.failed}.`,
    `EMF: ${report.files.emf}   chart: ${report.files.chart}   report: ${report.files.report}   (${(report.durationMs / 1000).toFixed(1)} s)`,
  ].join('\n')
}
