import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { codeBlocksIn, type MarkdownCodeBlock } from '../support/markdown-code-block.js'
import { typecheckVirtualFiles, type TypeDiagnostic } from '../support/typecheck-virtual-files.js'

// Every TypeScript example in the README must compile under the strictest settings we hold
// ourselves to. The self-contained ones (whole modules) compile as they stand. The others are
// fragments that use names the reader is meant to supply (getProduct, a dataCache named products,
// makeHandlerIdempotent...): they compile beside declarations of those names, so that an option
// renamed, a signature changed or a context property gone fails them all the same.
jest.setTimeout(60_000)

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8')
const blocks = codeBlocksIn(readme, 'ts')

/** The headings whose ```ts block is a whole module importing from 'middy-cache': compiled with nothing beside it. */
const selfContainedHeadings = ['configCache and secretsCache', 'Cold-start snapshot']

/** Fragments that go on from the example under another heading (the scope example reads the engine example's cache). */
const continuations: ReadonlyMap<string, string> = new Map([['Per-invocation scopes, outcomes and background work', 'The engine']])

/**
 * The names the fragments leave to the reader, typed as the text around them describes them. A
 * declaration file with no import or export, so that its names are global and an example's own
 * declaration of one (a Product interface, an engine cache named products) wins over it.
 */
const readerSupplied = `
interface Product { id: string; name: string; price: number }
declare function getProduct(id: string | undefined, options?: { signal: AbortSignal }): Promise<Product | undefined>
/** "a dataCache named 'products'", keyed by the event. */
declare const products: import('@middy/core').MiddlewareObj<unknown, unknown, Error, import('aws-lambda').Context & import('middy-cache').DataCacheContext<'products', Product>>
declare function fetchPrice(sku: string, options: { signal: AbortSignal }): Promise<number>
declare function fetchPrices(skus: readonly string[]): Promise<number[]>
declare function recordPrices(prices: readonly (number | undefined)[]): Promise<void>
declare function loadCart(principal: string | undefined): Promise<string[]>
declare const persistenceStore: unknown
declare function makeHandlerIdempotent(options: { persistenceStore: unknown }): import('@middy/core').MiddlewareObj
`
const readerSuppliedFile = 'README.reader-supplied.d.ts'

/** What a fragment may leave and a whole module may not: a name it declares for the reader to go on with. */
const unusedNameCodes: ReadonlySet<number> = new Set([6133, 6196, 6198])

interface Example {
  readonly title: string
  readonly fileName: string
  readonly source: string
  /** The README line of the source's 1-based `line`. */
  readonly readmeLine: (line: number) => number
}

const exampleOf = (block: MarkdownCodeBlock): Example => {
  const earlierHeading = continuations.get(block.heading)
  const earlier = earlierHeading === undefined ? undefined : blocks.find((candidate) => candidate.heading === earlierHeading)
  if (earlierHeading !== undefined && earlier === undefined) throw new Error(`no \`\`\`ts block under the heading "${earlierHeading}"`)
  const earlierLines = earlier === undefined ? 0 : earlier.code.split('\n').length
  return {
    title: `README.md:${block.firstLine}, under "${block.heading}"`,
    fileName: `README.example-${block.firstLine}.ts`,
    // `export {}` keeps each a module of its own, whatever it imports.
    source: `${earlier === undefined ? '' : `${earlier.code}\n`}${block.code}\nexport {}\n`,
    readmeLine: (line) => (earlier !== undefined && line <= earlierLines ? earlier.firstLine + line - 1 : block.firstLine + line - earlierLines - 1),
  }
}

const describeAt = (example: Example, { position, code, message }: TypeDiagnostic): string =>
  `${position === undefined ? 'README.md' : `README.md:${example.readmeLine(position.line)}:${position.column}`} TS${code}: ${message}`

const selfContained = selfContainedHeadings.map((heading) => {
  const block = blocks.find((candidate) => candidate.heading === heading)
  if (block === undefined) throw new Error(`no \`\`\`ts block under the heading "${heading}"`)
  return exampleOf(block)
})
const fragments = blocks.filter((block) => !selfContainedHeadings.includes(block.heading) || blocks.find((first) => first.heading === block.heading) !== block).map(exampleOf)

describe("README's TypeScript examples", () => {
  let wholeModuleDiagnostics: ReadonlyMap<string, readonly TypeDiagnostic[]>
  let fragmentDiagnostics: ReadonlyMap<string, readonly TypeDiagnostic[]>
  beforeAll(() => {
    wholeModuleDiagnostics = typecheckVirtualFiles(new Map(selfContained.map((example) => [example.fileName, example.source])))
    fragmentDiagnostics = typecheckVirtualFiles(new Map([[readerSuppliedFile, readerSupplied], ...fragments.map((example): [string, string] => [example.fileName, example.source])]))
  })

  test('every ```ts block is checked, as a whole module or as a fragment', () => {
    expect(selfContained.length + fragments.length).toBe(blocks.length)
    expect(fragments.length).toBeGreaterThan(0)
  })

  test.each(selfContained.map((example) => [example.title, example] as const))('the whole module at %s typechecks with tsconfig.json, middy-cache being entrypoints/', (_title, example) => {
    const found = wholeModuleDiagnostics.get(example.fileName) ?? []
    expect(found.map((diagnostic) => describeAt(example, diagnostic))).toEqual([])
  })

  test('the declarations of what the fragments leave to the reader typecheck', () => {
    expect(fragmentDiagnostics.get(readerSuppliedFile)).toEqual([])
  })

  test.each(fragments.map((example) => [example.title, example] as const))('the fragment at %s typechecks beside the names it leaves to the reader', (_title, example) => {
    const found = (fragmentDiagnostics.get(example.fileName) ?? []).filter((diagnostic) => !unusedNameCodes.has(diagnostic.code))
    expect(found.map((diagnostic) => describeAt(example, diagnostic))).toEqual([])
  })
})
