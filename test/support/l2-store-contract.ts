import type { L2Store } from '../../src/stores/l2-store.js'

const signal = new AbortController().signal
const text = (payload: Uint8Array | undefined): string | undefined => (payload === undefined ? undefined : Buffer.from(payload).toString())

/**
 * What every shared-tier store does alike, whatever holds the values: the tests to run inside each
 * store's own `describe`, with `storeWith` making a store under a prefix of its own.
 */
export const l2StoreContract = (storeWith: () => L2Store): void => {
  test('set, get, getMany in the order asked (a key asked twice answers twice) and delete', async () => {
    const store = storeWith()
    await store.set('a', Buffer.from('1'), 60_000, signal)
    await store.set('b', Buffer.from('2'), 60_000, signal)
    expect(text(await store.get('a', signal))).toBe('1')
    expect((await store.getMany(['b', 'missing', 'a', 'b'], signal)).map(text)).toEqual(['2', undefined, '1', '2'])
    await store.delete('a', signal)
    expect(await store.get('a', signal)).toBeUndefined()
  })

  test('a lease is taken once, released only with its token, and reports the value beside it', async () => {
    const store = storeWith()
    expect(await store.acquireLease('k', 'first', 60_000, signal)).toEqual({ acquired: true, payload: undefined })
    await store.set('k', Buffer.from('written'), 60_000, signal)
    const second = await store.acquireLease('k', 'second', 60_000, signal)
    expect(second.acquired).toBe(false)
    expect(text(second.payload)).toBe('written')
    await store.releaseLease('k', 'second', signal)
    expect((await store.acquireLease('k', 'third', 60_000, signal)).acquired).toBe(false)
    await store.releaseLease('k', 'first', signal)
    expect((await store.acquireLease('k', 'third', 60_000, signal)).acquired).toBe(true)
  })

  test('acquireLeases takes the leases of keys under one token as acquireLease takes each, aligned with them: one another holds is not taken, the value beside each is reported, and the token gives each back', async () => {
    const store = storeWith()
    const acquireLeases = store.acquireLeases?.bind(store)
    expect(acquireLeases).toBeDefined()
    if (acquireLeases === undefined) return
    await store.acquireLease('held', 'another', 60_000, signal)
    await store.set('written', Buffer.from('beside'), 60_000, signal)
    const attempts = await acquireLeases(['free', 'held', 'written'], 'batch', 60_000, signal)
    expect(attempts.map(({ acquired, payload }) => ({ acquired, payload: text(payload) }))).toEqual([
      { acquired: true, payload: undefined },
      { acquired: false, payload: undefined },
      { acquired: true, payload: 'beside' },
    ])
    expect((await store.acquireLease('free', 'next', 60_000, signal)).acquired).toBe(false)
    for (const key of ['free', 'written']) await store.releaseLease(key, 'batch', signal)
    expect((await acquireLeases(['free', 'written'], 'next', 60_000, signal)).map(({ acquired }) => acquired)).toEqual([true, true])
  })

  test('peekLease reads the value and whether the lease is held, taking nothing', async () => {
    const store = storeWith()
    const peekLease = store.peekLease?.bind(store)
    expect(peekLease).toBeDefined()
    if (peekLease === undefined) return
    expect(await peekLease('k', signal)).toEqual({ held: false, payload: undefined })
    await store.acquireLease('k', 'holder', 60_000, signal)
    expect(await peekLease('k', signal)).toEqual({ held: true, payload: undefined })
    await store.set('k', Buffer.from('written'), 60_000, signal)
    const seen = await peekLease('k', signal)
    expect({ held: seen.held, payload: text(seen.payload) }).toEqual({ held: true, payload: 'written' })
    await store.releaseLease('k', 'holder', signal)
    expect((await peekLease('k', signal)).held).toBe(false)
    // Looking took nothing: another environment takes the lease.
    expect((await store.acquireLease('k', 'next', 60_000, signal)).acquired).toBe(true)
  })

  test('counters start at 0 and increment', async () => {
    const store = storeWith()
    expect(await store.readCounter('c', signal)).toBe(0)
    expect(await store.incrementCounter('c', 1_000, signal)).toBe(1)
    expect(await store.incrementCounter('c', 1_000, signal)).toBe(2)
    expect(await store.readCounter('c', signal)).toBe(2)
  })
}
