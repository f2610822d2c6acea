/** The function whose environments share a snapshot: one snapshot per function version. */
export interface FunctionIdentity {
  readonly name: string
  /** A published version, or `$LATEST`. */
  readonly version: string
}

/** This function and version, as Lambda sets them before INIT; undefined off Lambda. */
export const currentFunction = (): FunctionIdentity | undefined => {
  const { AWS_LAMBDA_FUNCTION_NAME: name, AWS_LAMBDA_FUNCTION_VERSION: version } = process.env
  return name === undefined || name === '' || version === undefined || version === '' ? undefined : { name, version }
}

/**
 * `${prefix}/${function name}/${function version}/${version}/${caches}.json.gz`, the covered caches'
 * names sorted and joined by '+' (which no cache name holds): a new function version (new code)
 * never reads the snapshot of another, `version` is bumped when cached values change shape, and two
 * snapshots of one function that cover different caches (two handlers built in one module, say)
 * never overwrite each other.
 */
export const snapshotKey = (prefix: string, fn: FunctionIdentity, version: string, caches: readonly string[]): string =>
  `${prefix}/${fn.name}/${fn.version}/${version}/${[...caches].sort().join('+')}.json.gz`
