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
 * `${prefix}/${function name}/${function version}/${version}.json.gz`: a new function version (new
 * code) never reads the snapshot of another, and `version` is bumped when cached values change shape.
 */
export const snapshotKey = (prefix: string, fn: FunctionIdentity, version: string): string => `${prefix}/${fn.name}/${fn.version}/${version}.json.gz`
