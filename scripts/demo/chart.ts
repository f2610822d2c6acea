import type { InvocationRecord } from './recorder.js'

const width = 1100
const height = 460
const margin = { top: 70, right: 20, bottom: 45, left: 64 }
const plotWidth = width - margin.left - margin.right
const plotHeight = height - margin.top - margin.bottom
const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#e15759', '#76b7b2', '#edc948', '#9c755f', '#bab0ac']

const escapeXml = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
const round = (value: number): string => value.toFixed(1)

/**
 * Latency of every invocation in the order they started, on a log scale (a cold start is a
 * thousand times a warm hit), one colour per phase; cold starts ringed, failures crossed.
 */
export const latencyChart = (invocations: readonly InvocationRecord[], phases: readonly string[]): string => {
  const ordered = [...invocations].sort((a, b) => a.sequence - b.sequence)
  const lowest = 0.01
  const decades = Math.max(1, Math.ceil(Math.log10(Math.max(lowest * 10, ...ordered.map((record) => record.latencyMs)) / lowest)))
  const x = (index: number): number => margin.left + ((index + 0.5) / Math.max(1, ordered.length)) * plotWidth
  const y = (ms: number): number => margin.top + plotHeight - (Math.log10(Math.max(ms, lowest) / lowest) / decades) * plotHeight
  const colourOf = (phase: string): string => palette[phases.indexOf(phase) % palette.length] ?? '#000'

  const bands = phases.flatMap((phase) => {
    const indexes = ordered.flatMap((record, index) => (record.phase === phase ? [index] : []))
    const first = indexes[0]
    const last = indexes.at(-1)
    if (first === undefined || last === undefined) return []
    const left = x(first) - plotWidth / ordered.length / 2
    const right = x(last) + plotWidth / ordered.length / 2
    return [`<rect x="${round(left)}" y="${margin.top}" width="${round(right - left)}" height="${plotHeight}" fill="${colourOf(phase)}" fill-opacity="0.08"/>`]
  })
  // The legend names the phases in order, in rows across the top (at most about 7.5 px per character at 12 px).
  let legendX = margin.left
  let legendRow = 0
  const legend = phases.map((phase, order) => {
    const label = `${order + 1} ${phase}`
    const itemWidth = 28 + label.length * 7.5
    if (legendX + itemWidth > width - margin.right) {
      legendX = margin.left
      legendRow++
    }
    const itemX = legendX
    const itemY = 20 + legendRow * 18
    legendX += itemWidth
    return `<circle cx="${round(itemX + 5)}" cy="${itemY - 4}" r="5" fill="${colourOf(phase)}"/><text x="${round(itemX + 14)}" y="${itemY}" font-size="12">${escapeXml(label)}</text>`
  })
  const gridLines = Array.from({ length: decades + 1 }, (_, decade) => {
    const ms = lowest * 10 ** decade
    const label = Number(ms.toPrecision(1)).toLocaleString('en-US', { maximumFractionDigits: 2 })
    return (
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${round(y(ms))}" y2="${round(y(ms))}" stroke="#ddd"/>` +
      `<text x="${margin.left - 6}" y="${round(y(ms) + 4)}" font-size="11" text-anchor="end">${label}</text>`
    )
  })
  const points = ordered.map((record, index) => {
    const cx = round(x(index))
    const cy = round(y(record.latencyMs))
    const title = `<title>${escapeXml(`${record.phase} · ${record.environmentId} · ${record.latencyMs.toFixed(2)} ms${record.coldStart ? ' · cold start' : ''}${record.failure === undefined ? '' : ` · ${record.failure}`}`)}</title>`
    if (record.failure !== undefined) return `<text x="${cx}" y="${cy}" font-size="12" fill="#d00" text-anchor="middle" dominant-baseline="middle">×${title}</text>`
    const ring = record.coldStart ? ` r="5" fill="none" stroke="#000" stroke-width="1.5"` : ` r="2" fill="${colourOf(record.phase)}"`
    return `<circle cx="${cx}" cy="${cy}"${ring}>${title}</circle>`
  })

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...bands,
    ...legend,
    ...gridLines,
    ...points,
    `<text x="${margin.left + plotWidth / 2}" y="${height - 10}" font-size="12" text-anchor="middle">invocations, in the order they started (${ordered.length}); rings: cold starts</text>`,
    `<text transform="translate(16 ${margin.top + plotHeight / 2}) rotate(-90)" font-size="12" text-anchor="middle">latency, ms (log scale)</text>`,
    '</svg>',
    '',
  ].join('\n')
}
