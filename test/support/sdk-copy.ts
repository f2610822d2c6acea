/** The SDK packages a test loads a second copy of. */
interface SdkPackages {
  readonly '@aws-sdk/client-dynamodb': typeof import('@aws-sdk/client-dynamodb')
  readonly '@aws-sdk/client-s3': typeof import('@aws-sdk/client-s3')
  readonly '@aws-sdk/client-ssm': typeof import('@aws-sdk/client-ssm')
}

/**
 * Another copy of an AWS SDK package than the one the suite's modules load, every module under it
 * loaded afresh, as in a bundle that holds a second version of the SDK beside the package's: its
 * classes (clients, exceptions) are not the package's, so `instanceof` tells them apart.
 */
export const anotherCopyOf = <P extends keyof SdkPackages>(specifier: P): SdkPackages[P] => {
  let copy: { module: SdkPackages[P] } | undefined
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a module loaded again, apart: import() would share the suite's copy
    copy = { module: require(specifier) as SdkPackages[P] }
  })
  if (copy === undefined) throw new Error(`${specifier} was not loaded again`)
  return copy.module
}
