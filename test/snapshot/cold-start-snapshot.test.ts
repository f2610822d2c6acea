import { randomBytes } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { encodeSnapshot, maxSnapshotBytes } from '../../src/snapshot/codec.js'
import { createSecret, putParameters, uniqueName } from '../harness/index.js'
import { samplesOf } from '../support/emf.js'
import { invoke } from '../support/invoke.js'
import { setEnv } from '../support/env.js'
import { lambdaContext } from '../support/lambda-context.js'
import type { DataLoadContext } from '../../middlewares/data-cache.js'
import { inEnvironment, movableTime, snapshotTests, namespace, objectKeyOf, objectText, patientTimeouts, productFunction, putRawObject, readObject, service, timeForTheReadOnly, type WrittenSnapshot } from './environments.js'

const product = (id: string) => ({ id, name: `Product ${id}` })
const minute = 60_000
const snapshots = snapshotTests('snapshots')
const { bucket } = snapshots

/** Every value cacheMetrics wrote for the products cache under `name`, in order. */
const products = (name: string): number[] => samplesOf(snapshots.output.blobs(), { namespace, name, dimensions: { service, cache: 'products' } })
const puts = (commands: Map<string, number>): number => commands.get('PutObjectCommand') ?? 0

describe('a new environment starts warm from the snapshot another one wrote', () => {
  test('the second environment hydrates from the first one\'s snapshot and makes no source call for the hydrated keys', async () => {
    const first = await productFunction({ bucket })
    expect(await invoke(first.handler, { ids: ['1', '2', '3'] })).toEqual([product('1'), product('2'), product('3')])
    expect(first.load).toHaveBeenCalledTimes(3)
    // No snapshot yet: the first environment writes one after its invocation.
    expect(puts(first.commands)).toBe(1)

    const second = await productFunction({ bucket })
    expect(await invoke(second.handler, { ids: ['1', '2', '3'] })).toEqual([product('1'), product('2'), product('3')])
    expect(second.load).not.toHaveBeenCalled()
    expect(await invoke(second.handler, { ids: ['4'] })).toEqual([product('4')])
    expect(second.load.mock.calls.map(([id]) => id)).toEqual(['4'])
    // It read once, and found the snapshot fresh: nothing to write.
    expect(second.commands.get('GetObjectCommand')).toBe(1)
    expect(puts(second.commands)).toBe(0)
    expect([...first.warnings, ...second.warnings]).toEqual([])

    // Written by the invocation that waited for the read, one per environment.
    expect(products('SnapshotMisses')).toEqual([1])
    expect(products('SnapshotHydrated')).toEqual([3])
    expect(products('SnapshotLoadLatency')).toHaveLength(2)
    expect(products('SnapshotLoadLatency').every((latency) => latency >= 0)).toBe(true)
  })

  test('an S3 client of another copy of the SDK (a second version in the bundle) is taken: one environment writes the snapshot, the next hydrates from it', async () => {
    const first = await productFunction({ bucket, clientOfAnotherCopy: true })
    expect(await invoke(first.handler, { ids: ['1', '2'] })).toEqual([product('1'), product('2')])
    expect(puts(first.commands)).toBe(1)
    const second = await productFunction({ bucket, clientOfAnotherCopy: true })
    expect(await invoke(second.handler, { ids: ['1', '2'] })).toEqual([product('1'), product('2')])
    expect(second.load).not.toHaveBeenCalled()
    expect([...first.warnings, ...second.warnings]).toEqual([])
    expect(products('SnapshotMisses')).toEqual([1])
    expect(products('SnapshotHydrated')).toEqual([2])
  })

  test('a value with a "__proto__" key (parsed data keeps it as its own) stays in memory: the rest of the snapshot still restores', async () => {
    const first = await productFunction({ bucket })
    const poisoned = JSON.parse('{"id":"2","name":"Product 2","__proto__":{"admin":true}}') as { id: string; name: string }
    first.load.mockImplementation((id) => Promise.resolve(id === '2' ? poisoned : product(id)))
    await invoke(first.handler, { ids: ['1', '2'] })

    const second = await productFunction({ bucket })
    expect(await invoke(second.handler, { ids: ['1', '2'] })).toEqual([product('1'), product('2')])
    // Only the value that cannot travel is loaded again; a reader refusing its JSON would have refused the whole snapshot.
    expect(second.load.mock.calls.map(([id]) => id)).toEqual(['2'])
    expect(second.warnings).toEqual([])
  })

  test('the same function in another region, sharing the bucket, never restores this region\'s snapshot', async () => {
    const restoreRegion = setEnv({ AWS_REGION: 'us-east-1' })
    try {
      const east = await productFunction({ bucket })
      await invoke(east.handler, { ids: ['1'] })
      expect(puts(east.commands)).toBe(1)

      process.env.AWS_REGION = 'eu-west-1'
      const west = await productFunction({ bucket })
      await invoke(west.handler, { ids: ['1'] })
      expect(west.load.mock.calls.map(([id]) => id)).toEqual(['1'])
      expect(products('SnapshotMisses')).toEqual([1, 1])
    } finally {
      restoreRegion()
    }
  })

  test('restored entries keep the freshness they were loaded with', async () => {
    const time = movableTime()
    const first = await productFunction({ bucket })
    await invoke(first.handler, { ids: ['1'] })
    time.advance(4 * minute)

    const second = await productFunction({ bucket })
    await invoke(second.handler, { ids: ['1'] })
    expect(second.load).not.toHaveBeenCalled()
    // 5 minutes and a second after the first environment loaded it: past its 5-minute ttl, here too.
    time.advance(61_000)
    await invoke(second.handler, { ids: ['1'] })
    expect(second.load.mock.calls.map(([id]) => id)).toEqual(['1'])
  })
})

describe('a restored entry is held to the options of the deploy that reads it', () => {
  test('a deploy that shortens ttl under the same function version ($LATEST) restores entries fresh no longer than the new ttl', async () => {
    const time = movableTime()
    const before = await productFunction({ bucket, freshness: { ttl: '1h' } })
    await invoke(before.handler, { ids: ['1'] })

    const after = await productFunction({ bucket, freshness: { ttl: '1m' } })
    await invoke(after.handler, { ids: ['1'] })
    expect(after.load).not.toHaveBeenCalled()
    expect(products('SnapshotHydrated')).toEqual([1])
    // Past the new deploy's ttl: loaded again, where the old deploy's hour would have kept it fresh.
    time.advance(61_000)
    await invoke(after.handler, { ids: ['1'] })
    expect(after.load.mock.calls.map(([id]) => id)).toEqual(['1'])
  })

  test('under unchanged options, the freshness an entry set for itself comes back whole, past the cache\'s ttl too', async () => {
    const time = movableTime()
    const loadLonger = (id: string, { setFreshness }: DataLoadContext) => {
      setFreshness({ ttl: '1h' })
      return Promise.resolve(product(id))
    }
    const first = await productFunction({ bucket })
    first.load.mockImplementation(loadLonger)
    await invoke(first.handler, { ids: ['1'] })

    const second = await productFunction({ bucket })
    time.advance(10 * minute)
    await invoke(second.handler, { ids: ['1'] })
    expect(second.load).not.toHaveBeenCalled()
  })

  test('a snapshot that does not say what options wrote it (an older writer) is held to the reader\'s', async () => {
    const time = movableTime()
    const record = { key: '1', envelope: { c: Date.now(), t: 60 * minute, w: 0, e: 0, v: { id: '1', name: 'from the snapshot' } } }
    const olderLayout = gzipSync(JSON.stringify({ format: 'middy-cache-snapshot/1', version: 'v1', createdAt: Date.now(), caches: { products: [record] } }))
    await putRawObject(bucket, objectKeyOf(snapshots.functionName), olderLayout)
    const environment = await productFunction({ bucket })
    expect(await invoke(environment.handler, { ids: ['1'] })).toEqual([{ id: '1', name: 'from the snapshot' }])
    time.advance(5 * minute + 1_000)
    expect(await invoke(environment.handler, { ids: ['1'] })).toEqual([product('1')])
    expect(environment.load).toHaveBeenCalledTimes(1)
  })
})

describe('a snapshot that holds more than a cache keeps in memory', () => {
  test('restores only the l1.maxEntries entries written last, and counts those', async () => {
    const ids = ['1', '2', '3', '4', '5']
    const records = ids.map((id) => ({ key: id, envelope: { c: Date.now(), t: 5 * minute, w: 0, e: 0, v: product(id) } }))
    await putRawObject(bucket, objectKeyOf(snapshots.functionName), await encodeSnapshot({ version: 'v1', createdAt: Date.now(), caches: new Map([['products', records]]) }))
    const environment = await productFunction({ bucket, l1: { maxEntries: 3 } })
    expect(await invoke(environment.handler, { ids: ['3', '4', '5'] })).toEqual([product('3'), product('4'), product('5')])
    expect(environment.load).not.toHaveBeenCalled()
    expect(products('SnapshotHydrated')).toEqual([3])
    expect(environment.entries()).toBe(3)
    expect(environment.warnings).toEqual([])
  })
})

describe('a snapshot that cannot be used is ignored, counted, and replaced', () => {
  const fresh = (value: unknown = { id: '1', name: 'from the snapshot' }) => ({ key: '1', envelope: { c: Date.now(), t: 5 * minute, w: 0, e: 0, v: value } })
  const snapshotOf = (version: string, createdAt: number): Promise<Buffer> =>
    encodeSnapshot({ version, createdAt, caches: new Map([['products', [fresh()]]]) })
  /** A well-formed snapshot whose JSON passes maxSnapshotBytes, as a writer without the cap (an older version of this library) made it. */
  const inflatingPastTheCap = (): Buffer =>
    gzipSync(JSON.stringify({ format: 'middy-cache-snapshot/1', version: 'v1', createdAt: Date.now(), caches: { products: [fresh({ id: '1', name: 'x'.repeat(maxSnapshotBytes) })] } }))

  test.each<[string, () => Promise<Uint8Array>, RegExp | undefined]>([
    ['older than maxAge', () => snapshotOf('v1', Date.now() - 25 * 60 * minute), undefined],
    ['corrupt', () => Promise.resolve(randomBytes(300)), /is corrupt, truncated, larger than 8388608 bytes inflated, or not a snapshot; ignored, and replaced/],
    ['truncated', async () => { const body = await snapshotOf('v1', Date.now()); return body.subarray(0, body.length - 4) }, /is corrupt, truncated, larger than/],
    ['inflating past maxSnapshotBytes, which the first invocation would wait to parse', () => Promise.resolve(inflatingPastTheCap()), /is corrupt, truncated, larger than 8388608 bytes inflated, or not a snapshot; ignored, and replaced/],
    ['larger than maxSnapshotBytes compressed: not even downloaded', () => Promise.resolve(randomBytes(maxSnapshotBytes + 1)), /is larger than 8388608 bytes, the most a snapshot may take; ignored, and replaced/],
    ['of another version', () => snapshotOf('v0', Date.now()), /holds version "v0", not "v1"; ignored, and replaced/],
    ['made in the future, which would stop every rewrite until then', () => snapshotOf('v1', Date.now() + 24 * 60 * minute), /was made in the future .*; ignored, and replaced/],
  ])('%s', async (_, body, warning) => {
    await putRawObject(bucket, objectKeyOf(snapshots.functionName), await body())
    const environment = await productFunction({ bucket })
    const invokedAt = Date.now()
    expect(await invoke(environment.handler, { ids: ['1'] })).toEqual([product('1')])
    expect(environment.load).toHaveBeenCalledTimes(1)
    expect(products('SnapshotMisses')).toEqual([1])
    expect(products('SnapshotHydrated')).toEqual([])
    if (warning === undefined) expect(environment.warnings).toEqual([])
    else expect(environment.warnings).toEqual([expect.stringMatching(warning)])

    const replaced = await readObject(bucket, objectKeyOf(snapshots.functionName))
    expect(replaced).toMatchObject({ format: 'middy-cache-snapshot/1', version: 'v1', caches: { products: [{ key: '1', envelope: { v: product('1') } }] } })
    // Made by this invocation, not the one found.
    expect(replaced?.createdAt).toBeGreaterThanOrEqual(invokedAt)
    expect(replaced?.createdAt).toBeLessThanOrEqual(Date.now())
  })
})

describe('when a snapshot is written', () => {
  test('at most once per environment per half maxAge; then the environment refreshes the one it wrote', async () => {
    const time = movableTime()
    const environment = await productFunction({ bucket, snapshot: { maxAge: '1h' } })
    await invoke(environment.handler, { ids: ['1'] })
    await invoke(environment.handler, { ids: ['2'] })
    expect(puts(environment.commands)).toBe(1)
    time.advance(29 * minute)
    await invoke(environment.handler, { ids: ['3'] })
    expect(puts(environment.commands)).toBe(1)
    // Past half maxAge and the spread (a tenth of maxAge) that keeps environments from writing at once.
    time.advance(7 * minute)
    await invoke(environment.handler, { ids: ['4'] })
    await invoke(environment.handler, { ids: ['5'] })
    expect(puts(environment.commands)).toBe(2)
    // 1, 2 and 3 expired (5-minute ttl): what is written is what could still serve.
    expect((await readObject(bucket, objectKeyOf(snapshots.functionName)))?.caches.products?.map((record) => record.key)).toEqual(['4'])
  })

  test('an environment that finds a snapshot past half maxAge hydrates from it and writes a newer one', async () => {
    const time = movableTime()
    const first = await productFunction({ bucket, snapshot: { maxAge: '20m' } })
    await invoke(first.handler, { ids: ['1'] })
    const written = await readObject(bucket, objectKeyOf(snapshots.functionName))
    // Past half maxAge and its spread of a tenth.
    time.advance(12 * minute)

    const second = await productFunction({ bucket, snapshot: { maxAge: '20m' } })
    await invoke(second.handler, { ids: ['2'] })
    expect(products('SnapshotMisses')).toEqual([1])
    expect(puts(second.commands)).toBe(1)
    const refreshed = await readObject(bucket, objectKeyOf(snapshots.functionName))
    expect(refreshed?.createdAt).toBeGreaterThanOrEqual((written?.createdAt ?? 0) + 12 * minute)
    expect(refreshed?.caches.products?.map((record) => record.key)).toEqual(['2'])
  })

  test('trimmed to what a reader takes: the newest entries that fit are written, and the environment says how many it left out', async () => {
    const environment = await productFunction({ bucket, snapshot: { maxAge: '1h' } })
    // Three values of 3 MiB: more JSON than maxSnapshotBytes, two of them less.
    environment.load.mockImplementation((id) => Promise.resolve({ id, name: 'x'.repeat(3 * 1024 * 1024) }))
    await invoke(environment.handler, { ids: ['1', '2', '3'] })
    await invoke(environment.handler, { ids: ['1'] })
    expect(puts(environment.commands)).toBe(1)
    expect(environment.warnings).toEqual([
      expect.stringMatching(/^middy-cache: the cold-start snapshot s3:\/\/.* is written without its 1 oldest entries \(of 3\), which would pass the 8388608 bytes a reader takes; cover fewer caches, or lower their l1\.maxEntries$/),
    ])
    const text = await objectText(bucket, objectKeyOf(snapshots.functionName))
    expect(Buffer.byteLength(text ?? '')).toBeLessThanOrEqual(maxSnapshotBytes)
    expect((JSON.parse(text ?? '{}') as WrittenSnapshot).caches.products?.map((record) => record.key)).toEqual(['2', '3'])

    // A partial warm start: the entries written are restored, the one left out is loaded. Six MiB
    // read from moto and parsed can outlast the default 200 ms wait on a busy machine: this is about
    // what was written, not how fast it is read, so the reader waits as long as patientTimeouts says.
    const next = await productFunction({ bucket, snapshot: { maxAge: '1h' } })
    await invoke(next.handler, { ids: ['1', '2', '3'] })
    expect(next.load.mock.calls.map(([id]) => id)).toEqual(['1'])
    expect(products('SnapshotHydrated')).toEqual([2])
  })

  test('never when not even the newest entry fits: the environment says so, and tries again only after half maxAge', async () => {
    const time = movableTime()
    const environment = await productFunction({ bucket, snapshot: { maxAge: '1h' } })
    environment.load.mockImplementation((id) => Promise.resolve({ id, name: 'x'.repeat(maxSnapshotBytes) }))
    await invoke(environment.handler, { ids: ['1'] })
    await invoke(environment.handler, { ids: ['1'] })
    expect(puts(environment.commands)).toBe(0)
    const tooLarge: unknown = expect.stringMatching(/^middy-cache: the cold-start snapshot s3:\/\/.* is not written: its 1 entries would pass the 8388608 bytes a reader takes/)
    expect(environment.warnings).toEqual([tooLarge])
    time.advance(30 * minute)
    await invoke(environment.handler, { ids: ['1'] })
    expect(puts(environment.commands)).toBe(0)
    expect(environment.warnings).toEqual([tooLarge, tooLarge])
  })

  test('caches that hold only values that cannot travel (a Date, say) are not collected again on every invocation: the next try is half maxAge later', async () => {
    const time = movableTime()
    const environment = await productFunction({ bucket, snapshot: { maxAge: '1h' } })
    environment.load.mockImplementation((id) => Promise.resolve(id === 'dated' ? { ...product(id), updatedAt: new Date(0) } : product(id)))
    await invoke(environment.handler, { ids: ['dated'] })
    await invoke(environment.handler, { ids: ['1'] })
    expect(puts(environment.commands)).toBe(0)
    time.advance(31 * minute)
    await invoke(environment.handler, { ids: ['2'] })
    expect(puts(environment.commands)).toBe(1)
    expect((await readObject(bucket, objectKeyOf(snapshots.functionName)))?.caches.products?.map((record) => record.key)).toEqual(['2'])
    // Once for the cache, however many tries leave the value out.
    expect(environment.warnings).toEqual([expect.stringContaining('cache "products"')])
    expect(environment.warnings[0]).toContain('key "dated": value.updatedAt is a Date')
  })

  test('a write the invocation had no time left for is made during the next warm-up ping', async () => {
    const environment = await productFunction({ bucket })
    // Time to wait for the read, not for the whole writeTimeout past the reserve.
    expect(await invoke(environment.handler, { ids: ['1'] }, lambdaContext(timeForTheReadOnly))).toEqual([product('1')])
    expect(puts(environment.commands)).toBe(0)
    expect(await invoke(environment.handler, { warmer: true })).toMatchObject({ warmed: true })
    expect(puts(environment.commands)).toBe(1)
    expect((await readObject(bucket, objectKeyOf(snapshots.functionName)))?.caches.products?.map((record) => record.key)).toEqual(['1'])
    // Written once: the next invocation finds nothing due.
    await invoke(environment.handler, { ids: ['2'] })
    expect(puts(environment.commands)).toBe(1)
  })

  test('never begun with less than writeTimeout left: encoding is work no deadline stops, so the next invocation with time writes it', async () => {
    const environment = await productFunction({ bucket })
    // Seconds past the reserve: time for a PutObject, but not for the whole writeTimeout.
    expect(await invoke(environment.handler, { ids: ['1'] }, lambdaContext(timeForTheReadOnly))).toEqual([product('1')])
    expect(puts(environment.commands)).toBe(0)
    expect(await invoke(environment.handler, { ids: ['2'] })).toEqual([product('2')])
    expect(puts(environment.commands)).toBe(1)
    expect((await readObject(bucket, objectKeyOf(snapshots.functionName)))?.caches.products?.map((record) => record.key)).toEqual(['1', '2'])
    expect(environment.warnings).toEqual([])
  })
})

describe('what a snapshot holds', () => {
  test('no secret, no decrypted SecureString, no principal-scoped value; its key names the function and its version', async () => {
    const app = uniqueName('app')
    await putParameters({ [`/${app}/table`]: 'orders-table', [`/${app}/password`]: { value: 'hunter2-from-ssm', type: 'SecureString' } })
    await createSecret(`${app}/stripe`, 'sk_live_from_secrets_manager')
    const warnings: string[] = []
    const handler = await inEnvironment(async () => {
      const [{ default: middy }, { coldStartSnapshot }, { configCache }, { secretsCache }, { dataCache }] = await Promise.all([
        import('@middy/core'),
        import('../../entrypoints/snapshot.js'),
        import('../../middlewares/config-cache.js'),
        import('../../middlewares/secrets-cache.js'),
        import('../../middlewares/data-cache.js'),
      ])
      type Event = { pathParameters: { id: string } }
      return middy<Event>()
        // 'secrets' is listed, but its cache is created after this middleware: skipped at run time, and told.
        .use(coldStartSnapshot({ bucket, caches: ['config', 'products', 'carts', 'secrets'], logger: { warn: (message) => { warnings.push(message) } }, ...patientTimeouts }))
        .use(configCache({ parameters: { table: `/${app}/table`, password: { name: `/${app}/password`, decrypt: true } }, ttl: '5m' }))
        .use(secretsCache({ secrets: { stripe: `${app}/stripe` }, ttl: '5m' }))
        .use(dataCache({ name: 'products', key: (event: Event) => event.pathParameters.id, load: (id) => product(id), ttl: '5m' }))
        .use(dataCache({ name: 'carts', key: () => 'cart', load: (_key, { principal }) => ({ owner: principal, items: ['cart-item-of-the-user'] }), ttl: '5m', scope: 'principal' }))
        .handler((_event, context) => Promise.resolve({ table: context.config.table, password: context.config.password, stripe: context.secrets.stripe, product: context.products, cart: context.carts }))
    })
    const event = { pathParameters: { id: '42' }, requestContext: { authorizer: { jwt: { claims: { sub: 'user-7fa3', iss: 'https://issuer.example' } } } } }
    // Everything is in memory: the values reached the handler.
    expect(await invoke(handler, event)).toEqual({
      table: 'orders-table',
      password: 'hunter2-from-ssm',
      stripe: 'sk_live_from_secrets_manager',
      product: product('42'),
      cart: { owner: 'jwt:["https://issuer.example","user-7fa3"]', items: ['cart-item-of-the-user'] },
    })

    const key = objectKeyOf(snapshots.functionName, ['config', 'products', 'carts', 'secrets'])
    const text = await objectText(bucket, key)
    expect(text).toContain('orders-table')
    expect(text).toContain('Product 42')
    for (const secret of ['hunter2-from-ssm', 'sk_live_from_secrets_manager', 'cart-item-of-the-user', 'user-7fa3']) expect(text).not.toContain(secret)
    const written = await readObject(bucket, key)
    // carts is principal-scoped: left out whole, and told, like a secrets cache created after the middleware.
    expect(Object.keys(written?.caches ?? {}).sort()).toEqual(['config', 'products'])
    expect(written?.caches.config?.map((record) => record.key)).toEqual([`/${app}/table`])
    expect(warnings.sort()).toEqual([
      expect.stringMatching(/covers no cache named "carts": none was created, or it holds secrets or per-caller values/),
      expect.stringMatching(/covers no cache named "secrets": none was created, or it holds secrets/),
    ])
  })

  test('a decrypted SecureString found in a snapshot (planted, or an older writer\'s) is not restored: its value comes from SSM', async () => {
    const app = uniqueName('app')
    await putParameters({ [`/${app}/table`]: 'orders-table', [`/${app}/password`]: { value: 'hunter2-from-ssm', type: 'SecureString' } })
    const envelope = (value: unknown) => ({ c: Date.now(), t: 5 * minute, w: 0, e: 0, v: value })
    await putRawObject(
      bucket,
      objectKeyOf(snapshots.functionName, ['config']),
      await encodeSnapshot({
        version: 'v1',
        createdAt: Date.now(),
        caches: new Map([['config', [
          { key: `/${app}/table`, envelope: envelope('table-from-the-snapshot') },
          { key: `/${app}/password#decrypt`, envelope: envelope('password-from-the-snapshot') },
        ]]]),
      }),
    )
    const handler = await inEnvironment(async () => {
      const [{ default: middy }, { coldStartSnapshot }, { configCache }] = await Promise.all([
        import('@middy/core'),
        import('../../entrypoints/snapshot.js'),
        import('../../middlewares/config-cache.js'),
      ])
      return middy()
        .use(coldStartSnapshot({ bucket, caches: ['config'], logger: { warn: () => undefined }, ...patientTimeouts }))
        .use(configCache({ parameters: { table: `/${app}/table`, password: { name: `/${app}/password`, decrypt: true } }, ttl: '5m', prefetch: false }))
        .handler((_event, context) => Promise.resolve({ table: context.config.table, password: context.config.password }))
    })
    expect(await invoke(handler)).toEqual({ table: 'table-from-the-snapshot', password: 'hunter2-from-ssm' })
  })

  const principalCovered = ['products', 'carts', 'sessions']
  /** A function whose snapshot covers a shared products cache and two principal-scoped ones: a dataCache and an engine cache registered so, whose keys have no principal in them. */
  const principalFunction = (warnings: string[]) =>
    inEnvironment(async () => {
      const [{ default: middy }, { coldStartSnapshot }, { dataCache }, engine] = await Promise.all([
        import('@middy/core'),
        import('../../entrypoints/snapshot.js'),
        import('../../middlewares/data-cache.js'),
        import('../../src/cache/index.js'),
      ])
      const sessionLoad = jest.fn((key: string) => `session of ${key}`)
      const sessions = engine.createCache({ name: 'sessions', load: sessionLoad, ttl: '5m' })
      engine.registerCache({ cache: sessions, kind: engine.CacheKind.Data, secret: false, scope: 'principal' })
      type Event = { pathParameters: { id: string } }
      const handler = middy<Event>()
        .use(coldStartSnapshot({ bucket, caches: principalCovered, logger: { warn: (message) => { warnings.push(message) } }, ...patientTimeouts }))
        .use(dataCache({ name: 'products', key: (event: Event) => event.pathParameters.id, load: (id) => product(id), ttl: '5m' }))
        .use(dataCache({ name: 'carts', key: () => 'cart', load: (_key, { principal }) => ({ owner: principal, items: ['cart-item-of-the-user'] }), ttl: '5m', scope: 'principal' }))
        .handler(async (_event, context) => ({ product: context.products, cart: context.carts, session: await sessions.get('user-7fa3', {}) }))
      return { handler, sessionLoad }
    })
  const callerEvent = { pathParameters: { id: '42' }, requestContext: { authorizer: { jwt: { claims: { sub: 'user-7fa3', iss: 'https://issuer.example' } } } } }

  test('a cache registered as principal-scoped writes none of its entries, whatever the shape of their keys', async () => {
    const warnings: string[] = []
    const { handler } = await principalFunction(warnings)
    expect(await invoke(handler, callerEvent)).toEqual({
      product: product('42'),
      cart: { owner: 'jwt:["https://issuer.example","user-7fa3"]', items: ['cart-item-of-the-user'] },
      session: 'session of user-7fa3',
    })

    const text = await objectText(bucket, objectKeyOf(snapshots.functionName, principalCovered))
    expect(text).toContain('Product 42')
    for (const perCaller of ['session of', 'cart-item-of-the-user', 'user-7fa3']) expect(text).not.toContain(perCaller)
    expect(Object.keys((await readObject(bucket, objectKeyOf(snapshots.functionName, principalCovered)))?.caches ?? {})).toEqual(['products'])
    expect(warnings.sort()).toEqual([
      expect.stringMatching(/covers no cache named "carts": .*per-caller values/),
      expect.stringMatching(/covers no cache named "sessions": .*per-caller values/),
    ])
  })

  test('a snapshot that holds entries for a principal-scoped cache restores none of them', async () => {
    const envelope = (value: unknown) => ({ c: Date.now(), t: 5 * minute, w: 0, e: 0, v: value })
    await putRawObject(
      bucket,
      objectKeyOf(snapshots.functionName, principalCovered),
      await encodeSnapshot({
        version: 'v1',
        createdAt: Date.now(),
        caches: new Map([
          ['products', [{ key: '42', envelope: envelope({ id: '42', name: 'from the snapshot' }) }]],
          ['sessions', [{ key: 'user-7fa3', envelope: envelope('another caller\'s session') }]],
        ]),
      }),
    )
    const { handler, sessionLoad } = await principalFunction([])
    expect(await invoke(handler, callerEvent)).toMatchObject({ product: { id: '42', name: 'from the snapshot' }, session: 'session of user-7fa3' })
    expect(sessionLoad).toHaveBeenCalledTimes(1)
  })
})
