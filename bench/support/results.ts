import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeResult } from './measure.js'

/** One line of the results table: a comparison, this suite's figure, the other's, their ratio, and the bar it answers to. */
export interface Row {
  readonly section: string
  readonly comparison: string
  readonly ours: string
  readonly theirs: string
  /** ours / theirs; undefined where a ratio means nothing. */
  readonly ratio: number | undefined
  /** The DESIGN or issue bar this row is held to, as text; undefined for a row given for information. */
  readonly bar: string | undefined
  readonly met: boolean | undefined
}

/** A row given for information: no bar. */
export const infoRow = (section: string, comparison: string, ours: string, theirs: string, ratio: number | undefined): Row => ({
  section,
  comparison,
  ours,
  theirs,
  ratio,
  bar: undefined,
  met: undefined,
})

export const formatNs = (ns: number): string => (ns < 1_000 ? `${ns.toFixed(0)} ns` : `${(ns / 1_000).toFixed(2)} us`)
export const formatMs = (ms: number): string => `${ms.toFixed(1)} ms`
export const formatBytes = (bytes: number): string => `${(bytes / 1_000).toFixed(1)} KB`

const cell = (text: string): string => text.replaceAll('|', '\\|')
const verdict = (met: boolean | undefined): string => (met === undefined ? '' : met ? 'met' : '**not met**')

/** The table as markdown, one block per section. */
export const renderTable = (rows: readonly Row[]): string => {
  const lines = ['| comparison | middy-cache | other | ratio | bar | |', '| --- | --- | --- | --- | --- | --- |']
  let section = ''
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section
      lines.push(`| **${cell(section)}** | | | | | |`)
    }
    const ratio = row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`
    lines.push(`| ${cell(row.comparison)} | ${cell(row.ours)} | ${cell(row.theirs)} | ${ratio} | ${cell(row.bar ?? '')} | ${verdict(row.met)} |`)
  }
  return lines.join('\n')
}

export interface RunInfo {
  readonly node: string
  readonly date: string
  readonly cpus: string
  readonly seconds: number
  /** The 1-minute load average when the run started and when it ended: other work on a shared machine skews the figures. */
  readonly load: readonly [number, number]
}

/** Writes results.md (the table with how it was measured) and results.json (the rows) beside the per-bench JSON. */
export const writeTable = (rows: readonly Row[], run: RunInfo): { markdown: string; path: string } => {
  const unmet = rows.filter((row) => row.met === false).length
  const markdown = [
    `# middy-cache benchmarks`,
    '',
    `\`npm run bench\`, Node ${run.node}, ${run.cpus}, ${run.date}, ${run.seconds.toFixed(0)} s in all, load average ${run.load[0].toFixed(1)} at the start and ${run.load[1].toFixed(1)} at the end.`,
    `Bars met: ${rows.filter((row) => row.met === true).length} of ${rows.filter((row) => row.met !== undefined).length}${unmet > 0 ? ` (${unmet} not met)` : ''}.`,
    '',
    renderTable(rows),
    '',
  ].join('\n')
  writeResult('results.json', { bench: 'all', ...run, rows })
  const path = join(import.meta.dirname, '..', 'results', 'results.md')
  writeFileSync(path, markdown)
  return { markdown, path }
}
