import { DescribeTimeToLiveCommand, GetItemCommand } from '@aws-sdk/client-dynamodb'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager'
import { GetParametersCommand } from '@aws-sdk/client-ssm'
import {
  createBucket,
  createSecret,
  createTable,
  destroySeedClients,
  putItems,
  putObject,
  putParameters,
  seedClients,
  uniqueName,
  updateSecret,
} from './index.js'

// Every seed goes to the global moto through AWS_ENDPOINT_URL and is read back with the plain SDK.
afterAll(() => {
  destroySeedClients()
})

test('uniqueName gives a fresh, lowercase name every call', () => {
  const names = new Set(Array.from({ length: 100 }, () => uniqueName('orders')))
  expect(names.size).toBe(100)
  for (const name of names) expect(name).toMatch(/^orders-[0-9a-z]+-[0-9a-f]{8}$/)
})

test('putParameters stores String, StringList and SecureString parameters', async () => {
  const prefix = `/${uniqueName('harness')}`
  await putParameters({
    [`${prefix}/plain`]: 'hello',
    [`${prefix}/list`]: ['a', 'b', 'c'],
    [`${prefix}/secure`]: { value: 's3cr3t', type: 'SecureString' },
  })
  const { Parameters = [], InvalidParameters = [] } = await seedClients().ssm.send(
    new GetParametersCommand({ Names: [`${prefix}/plain`, `${prefix}/list`, `${prefix}/secure`], WithDecryption: true }),
  )
  expect(InvalidParameters).toEqual([])
  const byName = Object.fromEntries(Parameters.map((p) => [p.Name ?? '', { type: p.Type, value: p.Value }]))
  expect(byName).toEqual({
    [`${prefix}/plain`]: { type: 'String', value: 'hello' },
    [`${prefix}/list`]: { type: 'StringList', value: 'a,b,c' },
    [`${prefix}/secure`]: { type: 'SecureString', value: 's3cr3t' },
  })

  // A second put overwrites, which is how tests change a value under a cache.
  await putParameters({ [`${prefix}/plain`]: 'changed' })
  const again = await seedClients().ssm.send(new GetParametersCommand({ Names: [`${prefix}/plain`] }))
  expect(again.Parameters?.[0]?.Value).toBe('changed')
})

test('createSecret stores strings, bytes and JSON; updateSecret adds a version', async () => {
  const { secrets } = seedClients()
  const text = uniqueName('text')
  const binary = uniqueName('binary')
  const json = uniqueName('json')
  const arn = await createSecret(text, 'plain text')
  await createSecret(binary, new Uint8Array([0, 1, 2, 255]))
  await createSecret(json, { user: 'app', password: 'pw' })

  expect(arn).toMatch(/^arn:aws:secretsmanager:us-east-1:\d+:secret:/)
  expect((await secrets.send(new GetSecretValueCommand({ SecretId: text }))).SecretString).toBe('plain text')
  expect((await secrets.send(new GetSecretValueCommand({ SecretId: binary }))).SecretBinary).toEqual(new Uint8Array([0, 1, 2, 255]))
  const stored = await secrets.send(new GetSecretValueCommand({ SecretId: json }))
  expect(JSON.parse(stored.SecretString ?? '')).toEqual({ user: 'app', password: 'pw' })

  await updateSecret(json, { user: 'app', password: 'rotated' })
  const rotated = await secrets.send(new GetSecretValueCommand({ SecretId: json }))
  expect(JSON.parse(rotated.SecretString ?? '')).toEqual({ user: 'app', password: 'rotated' })
  expect(rotated.VersionId).not.toBe(stored.VersionId)
})

test('createTable and putItems store marshalled items', async () => {
  const table = uniqueName('products')
  await createTable(table, 'id', { ttlAttribute: 'expiresAt' })
  await putItems(table, [
    { id: 'p1', name: 'Pen', price: 1.5, tags: ['office'], meta: { stock: 3, active: true, note: null } },
    { id: 'p2', name: 'Ink', price: 7 },
  ])
  const { dynamodb } = seedClients()
  const first = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'p1' } } }))
  expect(first.Item).toEqual({
    id: { S: 'p1' },
    name: { S: 'Pen' },
    price: { N: '1.5' },
    tags: { L: [{ S: 'office' }] },
    meta: { M: { stock: { N: '3' }, active: { BOOL: true }, note: { NULL: true } } },
  })
  const second = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'p2' } } }))
  expect(second.Item?.price).toEqual({ N: '7' })
  const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: table }))
  expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' })
})

test('createBucket and putObject store objects', async () => {
  const bucket = uniqueName('snapshots')
  await createBucket(bucket)
  await putObject(bucket, 'l1/snapshot.json', '{"entries":[]}', { contentType: 'application/json' })
  await putObject(bucket, 'raw.bin', new Uint8Array([9, 8, 7]))
  const { s3 } = seedClients()
  const json = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'l1/snapshot.json' }))
  expect(json.ContentType).toBe('application/json')
  expect(await json.Body?.transformToString()).toBe('{"entries":[]}')
  const raw = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'raw.bin' }))
  expect(await raw.Body?.transformToByteArray()).toEqual(new Uint8Array([9, 8, 7]))
})

test('seed helpers refuse to run without a local endpoint', () => {
  const saved = process.env.AWS_ENDPOINT_URL
  process.env.AWS_ENDPOINT_URL = ''
  try {
    expect(() => seedClients()).toThrow(/AWS_ENDPOINT_URL is not set/)
  } finally {
    process.env.AWS_ENDPOINT_URL = saved
  }
})
