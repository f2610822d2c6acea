/**
 * The names AWS can ever accept for the tables and buckets a factory is given, so that one it never
 * can fails at construction rather than at the first load.
 */

const tableNamePattern = /^[A-Za-z0-9_.-]{3,255}$/
/** The SDK takes a table's ARN wherever it takes its name. */
const tableArnPattern = /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}$/
/** S3's rules for a bucket name: 3 to 63 characters, starting and ending with a letter or digit, no two periods together, no IP address. */
const bucketNamePattern = /^(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
/** An access point, Object Lambda access point, Outposts access point or Multi-Region access point ARN, which the SDK takes as a bucket. */
const bucketArnPattern = /^arn:aws[a-z-]*:s3(?:-object-lambda|-outposts)?:[a-z0-9-]*:\d{12}:(?:accesspoint|outpost)\/[A-Za-z0-9./_-]+$/

export const tableNameRule = "a DynamoDB table name (3-255 letters, digits, '_', '.' or '-')"
export const isTableName = (value: unknown): value is string => typeof value === 'string' && tableNamePattern.test(value)

export const tableNameOrArnRule = `${tableNameRule} or a table ARN`
export const isTableNameOrArn = (value: unknown): value is string => isTableName(value) || (typeof value === 'string' && tableArnPattern.test(value))

export const bucketNameRule = "an S3 bucket name (3 to 63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit)"
export const isBucketName = (value: unknown): value is string => typeof value === 'string' && bucketNamePattern.test(value)

export const bucketNameOrArnRule = `${bucketNameRule} or an access point ARN`
export const isBucketNameOrArn = (value: unknown): value is string => isBucketName(value) || (typeof value === 'string' && bucketArnPattern.test(value))
