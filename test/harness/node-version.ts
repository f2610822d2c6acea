/** package.json "engines" and @middy/core 7 both require Node 22. */
export const MIN_NODE_MAJOR = 22

/**
 * Throws unless `version` (e.g. process.versions.node) is at least Node 22.
 * The machine's own node is older; npm puts the pinned `node` devDependency
 * first on PATH, so tests must be started through npm.
 */
export function assertSupportedNode(version: string, execPath = process.execPath): void {
  const major = Number.parseInt(version.split('.')[0] ?? '', 10)
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return
  throw new Error(
    `middy-cache tests need Node >= ${MIN_NODE_MAJOR}, but jest runs on Node ${version} (${execPath}). ` +
      'Run them through npm so that the pinned node devDependency is used: `npm test -- <path>` or `npx jest <path>`.',
  )
}
