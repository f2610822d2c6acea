export interface MarkdownCodeBlock {
  /** The code between the fences. */
  readonly code: string
  /** The 1-based line of the document on which the code's first line stands. */
  readonly firstLine: number
}

const fence = /^(`{3,}|~{3,})\s*([\w-]*)/
const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/

/**
 * The first code block in `language` that stands between the heading titled `title` and the next
 * heading. Headings are looked for only outside code blocks, where a `# comment` is not one.
 * Throws, naming what is missing, when the heading or the block is not there.
 */
export const codeBlockUnderHeading = (markdown: string, title: string, language: string): MarkdownCodeBlock => {
  const lines = markdown.split('\n')
  let openFence: string | undefined
  let underTitle = false
  let blockLanguage = ''
  let blockStart = 0
  for (const [index, line] of lines.entries()) {
    if (openFence !== undefined) {
      if (line.trimEnd() !== openFence) continue
      if (underTitle && blockLanguage === language) return { code: lines.slice(blockStart, index).join('\n'), firstLine: blockStart + 1 }
      openFence = undefined
      continue
    }
    const opening = fence.exec(line)
    if (opening !== null) {
      openFence = opening[1]
      blockLanguage = opening[2] ?? ''
      blockStart = index + 1
      continue
    }
    const headingTitle = heading.exec(line)?.[1]
    if (headingTitle === undefined) continue
    if (underTitle) break
    underTitle = headingTitle === title
  }
  throw new Error(underTitle ? `no \`\`\`${language} block under the heading "${title}"` : `no heading "${title}"`)
}
