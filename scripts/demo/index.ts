// `npm run demo`: the examples in a local Lambda runtime, against moto_server and redis-server.
// Options: --output DIR (default demo-output). Exits 1 if the demo failed, 130 on Ctrl-C.
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Cleanup } from './cleanup.js'
import { reportText } from './report-text.js'
import { runDemo } from './run-demo.js'

const { values } = parseArgs({ options: { output: { type: 'string', default: 'demo-output' } } })
const cleanup = new Cleanup()
// Set from a signal handler, so an object: the failure a stopped demo then meets is no failure to report.
const interruption = { by: undefined as NodeJS.Signals | undefined }
const stop = (signal: NodeJS.Signals): void => {
  // Ctrl-C may arrive twice (from the terminal, and relayed by a wrapper such as tsx's CLI): the first one stops the demo.
  if (interruption.by !== undefined) return
  interruption.by = signal
  console.error(`\ndemo: ${signal}, stopping everything it started...`)
  void cleanup.run().finally(() => process.exit(130))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

try {
  const report = await runDemo({ outputDir: resolve(values.output), progress: (line) => { console.log(line) } }, cleanup)
  await cleanup.run()
  console.log(`\n${reportText(report)}`)
} catch (error) {
  await cleanup.run()
  if (interruption.by === undefined) {
    console.error('demo failed:', error)
    process.exitCode = 1
  }
}
