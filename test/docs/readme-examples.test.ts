import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { codeBlockUnderHeading, type MarkdownCodeBlock } from '../support/markdown-code-block.js'
import { typecheckVirtualFiles, type TypeDiagnostic } from '../support/typecheck-virtual-files.js'

// A README example a user copies must compile under the strictest settings we hold ourselves to.
// Only self-contained examples are here: the others are fragments that use names (getProduct,
// products, makeHandlerIdempotent...) the reader is meant to supply, and would fail for that alone.
jest.setTimeout(60_000)

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8')

/** The headings whose first ```ts block is a whole module importing from 'middy-cache'. */
const selfContainedExamples = ['configCache and secretsCache', 'Cold-start snapshot']

const virtualFileName = (heading: string): string => `README.${heading.replace(/\W+/g, '-')}.ts`

const describeAt = (block: MarkdownCodeBlock, { position, code, message }: TypeDiagnostic): string => {
  const where = position === undefined ? 'README.md' : `README.md:${block.firstLine + position.line - 1}:${position.column}`
  return `${where} TS${code}: ${message}`
}

describe("README's TypeScript examples", () => {
  const blocks = new Map(selfContainedExamples.map((heading) => [heading, codeBlockUnderHeading(readme, heading, 'ts')]))
  let diagnostics: ReadonlyMap<string, readonly TypeDiagnostic[]>
  beforeAll(() => {
    diagnostics = typecheckVirtualFiles(new Map([...blocks].map(([heading, block]) => [virtualFileName(heading), block.code])))
  })

  test.each([...blocks])('the example under "%s" typechecks with tsconfig.json, middy-cache being entrypoints/', (heading, block) => {
    const found = diagnostics.get(virtualFileName(heading)) ?? []
    expect(found.map((diagnostic) => describeAt(block, diagnostic))).toEqual([])
  })
})
