import { gzipSync } from 'node:zlib'
import { decodeSnapshot, encodeSnapshot, maxSnapshotBytes, recordBudgetBytes } from '../../src/snapshot/codec.js'

const createdAt = 1_800_000_000_000
const record = { key: '42', envelope: { c: createdAt, t: 60_000, w: 0, e: 0, v: { id: '42' } } }
const policies = new Map([['products', { ttlMs: 60_000, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, negativeTtlMs: 0 }]])
const namespaceVersions = new Map([['products', 1_731_000_000_000]])
const content = { version: 'v1', createdAt, caches: new Map([['products', [record]], ['config', []]]) }
const document = { format: 'middy-cache-snapshot/1', version: 'v1', createdAt, caches: { products: [record] } }

/** The snapshot's content with one record whose value pads its JSON to exactly `bytes`. */
const contentOfSize = (bytes: number) => {
  const padded = (value: string) => ({ ...content, caches: new Map([['products', [{ key: '42', envelope: { ...record.envelope, v: value } }]]]) })
  const unpadded = JSON.stringify({ ...document, caches: Object.fromEntries(padded('').caches) }).length
  return padded('x'.repeat(bytes - unpadded))
}

describe('the snapshot object', () => {
  test('is gzipped JSON that reads back as written', async () => {
    const body = await encodeSnapshot({ ...content, policies, namespaceVersions })
    expect(body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
    const read = await decodeSnapshot(body)
    expect(read).toEqual({ version: 'v1', createdAt, policies, namespaceVersions, caches: new Map([['products', [record]], ['config', []]]) })
  })

  test.each<[string, unknown]>([
    ['none, as writers before them made it', undefined],
    ['policies that are not an object', [1, 2]],
  ])('with %s, reads back with no policy: each cache is then held to the reader\'s options', async (_, written) => {
    const read = await decodeSnapshot(gzipSync(JSON.stringify({ ...document, policies: written })))
    expect(read).toEqual({ version: 'v1', createdAt, policies: new Map(), namespaceVersions: new Map(), caches: new Map([['products', [record]]]) })
  })

  test.each<[string, unknown]>([
    ['none, as writers before them made it', undefined],
    ['namespace versions that are not an object', 'products=3'],
  ])('with %s, reads back with no namespace version: a cache with L2 then restores none of its entries', async (_, written) => {
    const read = await decodeSnapshot(gzipSync(JSON.stringify({ ...document, namespaceVersions: written })))
    expect(read).toMatchObject({ namespaceVersions: new Map(), caches: new Map([['products', [record]]]) })
  })

  test('recordBudgetBytes is what maxSnapshotBytes leaves for the records, each of them its JSON and a comma', () => {
    const frame = { version: 'v1', createdAt, policies, namespaceVersions }
    const json = JSON.stringify({ format: 'middy-cache-snapshot/1', ...frame, policies: Object.fromEntries(policies), namespaceVersions: Object.fromEntries(namespaceVersions), caches: { products: [record, record], config: [] } })
    const records = 2 * (Buffer.byteLength(JSON.stringify(record)) + 1) - 1
    expect(Buffer.byteLength(json)).toBe(maxSnapshotBytes - recordBudgetBytes(frame, ['products', 'config']) + records)
  })

  test.each<[string, () => Promise<Uint8Array>]>([
    ['not gzip at all', () => Promise.resolve(Buffer.from('{"format":"middy-cache-snapshot/1"}'))],
    ['truncated by one byte', async () => { const body = await encodeSnapshot(content); return body.subarray(0, body.length - 1) }],
    ['truncated by half', async () => { const body = await encodeSnapshot(content); return body.subarray(0, body.length >> 1) }],
    ['a flipped byte (the CRC no longer matches)', async () => { const body = Buffer.from(await encodeSnapshot(content)); body[body.length - 12] = (body[body.length - 12] ?? 0) ^ 0xff; return body }],
    ['gzipped text that is not JSON', () => Promise.resolve(gzipSync('{ not json'))],
    ['another layout', () => Promise.resolve(gzipSync(JSON.stringify({ ...document, format: 'middy-cache-snapshot/2' })))],
    ['no creation time', () => Promise.resolve(gzipSync(JSON.stringify({ ...document, createdAt: 'yesterday' })))],
    ['a cache that is not a list', () => Promise.resolve(gzipSync(JSON.stringify({ ...document, caches: { products: { key: '42' } } })))],
    ['JSON poisoned with __proto__', () => Promise.resolve(gzipSync(`{"format":"middy-cache-snapshot/1","version":"v1","createdAt":${createdAt},"caches":{"__proto__":{"polluted":true}}}`))],
    ['empty', () => Promise.resolve(new Uint8Array())],
  ])('%s: not a snapshot, never an exception', async (_, body) => {
    await expect(decodeSnapshot(await body())).resolves.toBeUndefined()
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  test('a gzip bomb (64 MiB of spaces in under 200 KB) is refused', async () => {
    const bomb = gzipSync(Buffer.alloc(65 * 1024 * 1024, 0x20))
    expect(bomb.length).toBeLessThan(200_000)
    await expect(decodeSnapshot(bomb)).resolves.toBeUndefined()
  })

  test('a snapshot inflating to maxSnapshotBytes (8 MiB) reads back; one byte more is refused, so parsing it never holds an invocation', async () => {
    expect(maxSnapshotBytes).toBe(8 * 1024 * 1024)
    const atTheCap = contentOfSize(maxSnapshotBytes)
    const read = await decodeSnapshot(gzipSync(JSON.stringify({ ...document, caches: Object.fromEntries(atTheCap.caches) })))
    expect(read?.caches.get('products')).toEqual(atTheCap.caches.get('products'))
    const pastTheCap = contentOfSize(maxSnapshotBytes + 1)
    await expect(decodeSnapshot(gzipSync(JSON.stringify({ ...document, caches: Object.fromEntries(pastTheCap.caches) })))).resolves.toBeUndefined()
  })

  test('a snapshot no reader would take is not written: encoding it rejects, naming the cap and what to lower', async () => {
    await expect(encodeSnapshot(contentOfSize(maxSnapshotBytes))).resolves.toBeInstanceOf(Buffer)
    await expect(encodeSnapshot(contentOfSize(maxSnapshotBytes + 1))).rejects.toThrow(
      `middy-cache: the snapshot would take ${maxSnapshotBytes + 1} bytes, more than the ${maxSnapshotBytes} a reader takes; cover fewer caches, or lower their l1.maxEntries`,
    )
  })
})
