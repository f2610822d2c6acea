import type { Context } from 'aws-lambda'
import { CreateAliasCommand, CreateFunctionCommand, LambdaClient, PublishVersionCommand } from '@aws-sdk/client-lambda'
import { request } from 'node:http'
import { crc32 } from 'node:zlib'
import { lambdaContext } from './lambda-context.js'

/** A function moto knows, with a published version and an alias on it. */
export interface MotoFunction {
  /** Unqualified ARN. */
  readonly arn: string
  readonly version: string
  readonly alias: string
}

const account = '123456789012'
const roleName = 'middy-cache-test-lambda'

const endpointOf = (endpoint?: string): string => {
  const resolved = endpoint ?? process.env.AWS_ENDPOINT_URL
  if (resolved === undefined || resolved === '') throw new Error('AWS_ENDPOINT_URL is not set: these helpers only talk to a local moto')
  return resolved
}

/** POSTs a form to moto's query API (IAM), without keep-alive. */
const postForm = (endpoint: string, form: Record<string, string>): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const body = new URLSearchParams(form).toString()
    const req = request(
      new URL('/', endpoint),
      {
        method: 'POST',
        agent: false,
        headers: {
          connection: 'close',
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(Buffer.byteLength(body)),
          // moto routes a query request to its service by the credential scope.
          authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0`,
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.once('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })
        })
        res.once('error', reject)
      },
    )
    req.once('error', reject)
    req.end(body)
  })

/** Moto refuses CreateFunction unless the execution role exists in its IAM. */
const ensureRole = async (endpoint: string): Promise<string> => {
  const answer = await postForm(endpoint, {
    Action: 'CreateRole',
    Version: '2010-05-08',
    RoleName: roleName,
    AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
  })
  if (answer.status !== 200 && !answer.body.includes('EntityAlreadyExists')) throw new Error(`moto CreateRole answered ${answer.status}: ${answer.body}`)
  return `arn:aws:iam::${account}:role/${roleName}`
}

/** A zip archive holding one file, stored uncompressed: all CreateFunction needs. */
export const zipOf = (fileName: string, content: string): Buffer => {
  const data = Buffer.from(content)
  const name = Buffer.from(fileName)
  const checksum = crc32(data)
  const local = Buffer.alloc(30)
  local.writeUInt32LE(0x04034b50, 0)
  local.writeUInt16LE(20, 4)
  local.writeUInt32LE(checksum, 14)
  local.writeUInt32LE(data.length, 18)
  local.writeUInt32LE(data.length, 22)
  local.writeUInt16LE(name.length, 26)
  const central = Buffer.alloc(46)
  central.writeUInt32LE(0x02014b50, 0)
  central.writeUInt16LE(20, 4)
  central.writeUInt16LE(20, 6)
  central.writeUInt32LE(checksum, 16)
  central.writeUInt32LE(data.length, 20)
  central.writeUInt32LE(data.length, 24)
  central.writeUInt16LE(name.length, 28)
  const localPart = Buffer.concat([local, name, data])
  const centralPart = Buffer.concat([central, name])
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(1, 8)
  end.writeUInt16LE(1, 10)
  end.writeUInt32LE(centralPart.length, 12)
  end.writeUInt32LE(localPart.length, 16)
  return Buffer.concat([localPart, centralPart, end])
}

/** Creates a function in moto (without Docker, its Invoke echoes the payload), publishes a version and aliases it. */
export const createMotoFunction = async (name: string, alias = 'live', endpoint?: string): Promise<MotoFunction> => {
  const resolved = endpointOf(endpoint)
  const role = await ensureRole(resolved)
  const client = new LambdaClient({ endpoint: resolved, region: 'us-east-1' })
  try {
    const created = await client.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Role: role,
        Handler: 'index.handler',
        Code: { ZipFile: zipOf('index.js', 'exports.handler = async (event) => event\n') },
      }),
    )
    const published = await client.send(new PublishVersionCommand({ FunctionName: name }))
    await client.send(new CreateAliasCommand({ FunctionName: name, Name: alias, FunctionVersion: published.Version }))
    if (created.FunctionArn === undefined || published.Version === undefined) throw new Error(`moto did not describe function ${name}`)
    return { arn: created.FunctionArn, version: published.Version, alias }
  } finally {
    client.destroy()
  }
}

/** A Lambda context without `invokedFunctionArn`, as a local runner may hand one to a handler. */
export const withoutFunctionArn = (): Context => {
  const context = lambdaContext()
  Reflect.deleteProperty(context, 'invokedFunctionArn')
  return context
}
