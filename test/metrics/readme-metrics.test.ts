import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { cacheDimension, metricGroups, serviceDimension } from '../../src/metrics/catalog.js'
import { emittedMetrics } from '../support/emitted-metrics.js'

// What a user reads in README's metrics tables is what lands in CloudWatch: every name, unit,
// group and dimension set, read back from the EMF the writer prints.

interface DocumentedMetric {
  readonly name: string
  readonly unit: string
  readonly group: string
  readonly dimensions: readonly string[]
}

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8')

/** The rows of the two tables under cacheMetrics' "### Metrics": per cache first, then per invocation. */
const documentedMetrics = (): DocumentedMetric[] => {
  const section = /\n## cacheMetrics\n[\s\S]*?\n### Metrics\n([\s\S]*?)\n### /.exec(readme)?.[1]
  if (section === undefined) throw new Error('README has no "### Metrics" section under "## cacheMetrics"')
  const tables = section.split(/\n(?=Per (?:cache|invocation),)/).filter((part) => part.startsWith('Per '))
  if (tables.length !== 2) throw new Error(`expected the per-cache and the per-invocation tables, found ${tables.length}`)
  return tables.flatMap((table) => {
    const dimensions = table.startsWith('Per cache') ? [serviceDimension, cacheDimension] : [serviceDimension]
    return [...table.matchAll(/^\| `(\w+)` \| (\w+) \| (\w+) \|/gm)].map(([, name = '', unit = '', group = '']) => ({ name, unit, group, dimensions }))
  })
}

describe("README's cacheMetrics tables", () => {
  const documented = documentedMetrics()
  const emitted = emittedMetrics({ namespace: 'Shop', service: 'orders' })

  test('name every metric written, and none that is not', () => {
    expect(documented.map((metric) => metric.name).sort()).toEqual([...emitted.keys()].sort())
  })

  test.each(documented.map((metric) => [metric.name, metric] as const))('%s: the unit and dimension set written', (name, metric) => {
    expect(emitted.get(name)).toEqual({ unit: metric.unit, dimensions: metric.dimensions })
  })

  test.each(metricGroups.map((group) => [group]))('group %s: exactly the metrics written when only it is asked for', (group) => {
    const written = [...emittedMetrics({ namespace: 'Shop', service: 'orders', groups: [group] }).keys()].sort()
    expect(documented.filter((metric) => metric.group === group).map((metric) => metric.name).sort()).toEqual(written)
  })
})
