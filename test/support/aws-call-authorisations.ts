import type { SeenCall } from '../harness/index.js'
import type { Authorisation } from './iam-policy.js'

/** Where the calls were made: the partition, region and account their ARNs name. */
export interface Account {
  readonly partition: string
  readonly region: string
  readonly accountId: string
}

/** A call an AWS SDK made, as IAM would authorise it. */
export interface AuthorisedCall {
  /** The access key the call was signed with. */
  readonly accessKeyId: string
  readonly service: string
  readonly operation: string
  readonly authorisations: readonly Authorisation[]
}

const credentialScope = /Credential=([^/]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/

const bodyOf = (call: SeenCall): Record<string, unknown> => (call.body === '' ? {} : (JSON.parse(call.body) as Record<string, unknown>))

const stringField = (body: Record<string, unknown>, field: string): string => {
  const value = body[field]
  if (typeof value !== 'string') throw new Error(`the request has no ${field}: ${JSON.stringify(body)}`)
  return value
}

/**
 * The actions and resources IAM checks for one call, for the services and operations the suite
 * and the examples use. Any other call throws, naming it: a check that cannot tell what a call needs
 * must not pass it.
 */
export const authorisationsOf = (call: SeenCall, account: Account): AuthorisedCall => {
  const scope = credentialScope.exec(call.authorization)
  if (scope?.[1] === undefined || scope[2] === undefined) throw new Error(`an unsigned call: ${call.method} ${call.path}`)
  const [, accessKeyId, service] = scope
  const { partition, region, accountId } = account
  const arn = (service: string, resource: string): string => `arn:${partition}:${service}:${region}:${accountId}:${resource}`
  const authorise = (operation: string, resources: readonly string[], context: Record<string, string> = {}): AuthorisedCall => ({
    accessKeyId,
    service,
    operation,
    authorisations: resources.map((resource) => ({ action: `${service}:${operation}`, resource, context })),
  })
  const jsonOperation = call.target.split('.').at(-1) ?? ''

  if (service === 'ssm') {
    const body = bodyOf(call)
    const parameterArn = (name: string): string => (name.startsWith('arn:') ? name : arn('ssm', `parameter${name.startsWith('/') ? '' : '/'}${name}`))
    if (jsonOperation === 'GetParameters') return authorise(jsonOperation, (body.Names as string[]).map(parameterArn))
    if (jsonOperation === 'GetParameter') return authorise(jsonOperation, [parameterArn(stringField(body, 'Name'))])
    if (jsonOperation === 'GetParametersByPath') return authorise(jsonOperation, [parameterArn(stringField(body, 'Path'))])
  }
  if (service === 'secretsmanager' && (jsonOperation === 'GetSecretValue' || jsonOperation === 'DescribeSecret')) {
    const secretId = stringField(bodyOf(call), 'SecretId')
    // A secret's ARN ends with a random suffix that only Secrets Manager knows: the check needs it.
    if (!secretId.startsWith('arn:')) throw new Error(`${jsonOperation} by name (${secretId}): its ARN, which IAM checks, is not known here`)
    return authorise(jsonOperation, [secretId])
  }
  if (service === 'dynamodb') {
    const body = bodyOf(call)
    const tableArn = (table: string): string => arn('dynamodb', `table/${table}`)
    if (jsonOperation === 'BatchGetItem' || jsonOperation === 'BatchWriteItem') return authorise(jsonOperation, Object.keys(body.RequestItems as object).map(tableArn))
    if (['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan'].includes(jsonOperation)) return authorise(jsonOperation, [tableArn(stringField(body, 'TableName'))])
  }
  if (service === 's3') {
    // Path-style, as the SDK addresses an endpoint given by IP: /bucket/key.
    const [, bucket = '', ...keyParts] = call.path.split('/')
    const key = decodeURIComponent(keyParts.join('/'))
    if (key !== '') {
      const object = `arn:${partition}:s3:::${bucket}/${key}`
      if (call.method === 'GET' || call.method === 'HEAD') return authorise('GetObject', [object])
      if (call.method === 'PUT') return authorise('PutObject', [object])
      if (call.method === 'DELETE') return authorise('DeleteObject', [object])
    } else if (call.method === 'GET' && call.query.has('list-type')) {
      return authorise('ListBucket', [`arn:${partition}:s3:::${bucket}`], { 's3:prefix': call.query.get('prefix') ?? '' })
    }
  }
  if (service === 'lambda') {
    const invoked = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(call.path)?.[1]
    if (invoked !== undefined && call.method === 'POST') {
      const name = decodeURIComponent(invoked)
      const qualifier = call.query.get('Qualifier')
      const functionArn = name.startsWith('arn:') ? name : arn('lambda', `function:${name}${qualifier === null ? '' : `:${qualifier}`}`)
      return authorise('InvokeFunction', [functionArn])
    }
  }
  throw new Error(`a call this check cannot authorise: ${service} ${call.method} ${call.path} ${call.target}`)
}
