/** The function whose environments share a snapshot: one snapshot per function version and region. */
export interface FunctionIdentity {
  readonly name: string
  /** A published version, or `$LATEST`. */
  readonly version: string
  /** The region it runs in: one function name deployed to two regions is two functions, with their own configuration. */
  readonly region: string
}

/** This function, version and region, as Lambda sets them before INIT; undefined off Lambda. */
export const currentFunction = (): FunctionIdentity | undefined => {
  const { AWS_LAMBDA_FUNCTION_NAME: name, AWS_LAMBDA_FUNCTION_VERSION: version, AWS_REGION: region } = process.env
  if (name === undefined || name === '' || version === undefined || version === '' || region === undefined || region === '') return undefined
  return { name, version, region }
}

/**
 * `${prefix}/${function name}/${region}/${function version}/${version}/${caches}.json.gz`, the covered
 * caches' names sorted and joined by '+' (which no cache name holds): the function's deploy in another
 * region (reading a bucket both share) never reads this one's values, a new function version (new
 * code) never reads the snapshot of another, `version` is bumped when cached values change shape,
 * and two snapshots of one function that cover different caches (two handlers built in one module,
 * say) never overwrite each other.
 */
export const snapshotKey = (prefix: string, fn: FunctionIdentity, version: string, caches: readonly string[]): string =>
  `${prefix}/${fn.name}/${fn.region}/${fn.version}/${version}/${[...caches].sort().join('+')}.json.gz`
