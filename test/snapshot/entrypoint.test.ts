import { reachedFrom } from '../support/reached-from.js'


describe('the S3 client loads only from middy-cache/snapshot', () => {
  test('middy-cache alone reaches no snapshot module', async () => {
    const { modules } = await reachedFrom('entrypoints/index.ts')
    expect(modules.filter((module) => module.startsWith('src/snapshot/') || module === 'middlewares/cold-start-snapshot.ts')).toEqual([])
  })

  test('middy-cache/snapshot brings @aws-sdk/client-s3 and no other client', async () => {
    const { packages } = await reachedFrom('entrypoints/snapshot.ts')
    expect(packages.filter((name) => name.startsWith('@aws-sdk/') || name === 'ioredis')).toEqual(['@aws-sdk/client-s3'])
  })
})
