export interface MarkdownCodeBlock {
  /** The title of the heading the block stands under; '' before the first heading. */
  readonly heading: string
  /** The code between the fences. */
  readonly code: string
  /** The 1-based line of the document on which the code's first line stands. */
  readonly firstLine: number
}

const fence = /^(`{3,}|~{3,})\s*([\w-]*)/
const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/

/**
 * Every code block in `language`, in the document's order, with the heading it stands under.
 * Headings are looked for only outside code blocks, where a `# comment` is not one.
 */
export const codeBlocksIn = (markdown: string, language: string): MarkdownCodeBlock[] => {
  const lines = markdown.split('\n')
  const blocks: MarkdownCodeBlock[] = []
  let openFence: string | undefined
  let currentHeading = ''
  let blockLanguage = ''
  let blockStart = 0
  for (const [index, line] of lines.entries()) {
    if (openFence !== undefined) {
      if (line.trimEnd() !== openFence) continue
      if (blockLanguage === language) blocks.push({ heading: currentHeading, code: lines.slice(blockStart, index).join('\n'), firstLine: blockStart + 1 })
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
    currentHeading = heading.exec(line)?.[1] ?? currentHeading
  }
  return blocks
}
