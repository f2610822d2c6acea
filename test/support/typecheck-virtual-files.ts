import { join } from 'node:path'
import ts from 'typescript'

const repositoryRoot = join(__dirname, '..', '..')

export interface TypeDiagnostic {
  /** 1-based line and column in the virtual file; absent for a diagnostic of no file, such as one about the options. */
  readonly position?: { readonly line: number; readonly column: number }
  readonly code: number
  readonly message: string
}

/** The compiler options of the repository's tsconfig.json, the ones `npm run typecheck` uses. */
const repositoryCompilerOptions = (): ts.CompilerOptions => {
  const configPath = join(repositoryRoot, 'tsconfig.json')
  const read = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path))
  if (read.error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'))
  const parsed = ts.parseJsonConfigFileContent(read.config as unknown, ts.sys, repositoryRoot, undefined, configPath)
  if (parsed.errors.length > 0) throw new Error(parsed.errors.map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')).join('\n'))
  return parsed.options
}

const toTypeDiagnostic = ({ file, start, code, messageText }: ts.Diagnostic): TypeDiagnostic => {
  const message = ts.flattenDiagnosticMessageText(messageText, '\n')
  if (file === undefined || start === undefined) return { code, message }
  const { line, character } = file.getLineAndCharacterOfPosition(start)
  return { position: { line: line + 1, column: character + 1 }, code, message }
}

/**
 * Typechecks sources that exist only in memory as if each were a file of that name at the
 * repository's root: with its tsconfig.json options, its paths (so `middy-cache` is the
 * entrypoints' source) and its package.json (so each is an ES module). All share one program,
 * because building it is what takes the time. Returns each file's diagnostics, by file name.
 */
export const typecheckVirtualFiles = (sources: ReadonlyMap<string, string>): ReadonlyMap<string, readonly TypeDiagnostic[]> => {
  const options = repositoryCompilerOptions()
  const virtual = new Map([...sources].map(([name, text]) => [join(repositoryRoot, name), text]))
  const disk = ts.createCompilerHost(options, true)
  const host: ts.CompilerHost = {
    ...disk,
    fileExists: (path) => virtual.has(path) || disk.fileExists(path),
    readFile: (path) => virtual.get(path) ?? disk.readFile(path),
    // languageVersion carries the module format the file's package.json implies, so it is passed on.
    getSourceFile: (path, languageVersion, ...rest) => {
      const text = virtual.get(path)
      return text === undefined ? disk.getSourceFile(path, languageVersion, ...rest) : ts.createSourceFile(path, text, languageVersion, true)
    },
  }
  const program = ts.createProgram([...virtual.keys()], options, host)
  return new Map(
    [...sources.keys()].map((name) => {
      const file = program.getSourceFile(join(repositoryRoot, name))
      if (file === undefined) throw new Error(`the program did not take in ${name}`)
      return [name, ts.getPreEmitDiagnostics(program, file).map(toTypeDiagnostic)]
    }),
  )
}
