/** Bounds of the in-memory tier. */
export interface MemoryStoreBounds {
  readonly maxEntries: number
  /** Approximate bytes, as the entries' `size` counts them. */
  readonly maxBytes: number
}

interface Sized {
  readonly size: number
}

/** A place in the recency list, from the least recently used (oldest) to the most recently used (newest). */
interface Node<E> {
  readonly key: string
  entry: E
  older: Node<E> | undefined
  newer: Node<E> | undefined
}

/**
 * The L1 tier: a Map for lookups and a doubly linked recency list, so that a read moves its entry
 * to the newest end with a few pointer writes, and eviction takes the oldest.
 */
export class MemoryStore<E extends Sized> {
  readonly #nodes = new Map<string, Node<E>>()
  readonly #bounds: MemoryStoreBounds
  #oldest: Node<E> | undefined
  #newest: Node<E> | undefined
  #bytes = 0
  #evictions = 0
  #changes = 0

  constructor(bounds: MemoryStoreBounds) {
    this.#bounds = bounds
  }

  get(key: string): E | undefined {
    const node = this.#nodes.get(key)
    if (node === undefined) return undefined
    if (node !== this.#newest) {
      this.#unlink(node)
      this.#append(node)
    }
    return node.entry
  }

  /** Stores `entry` and evicts the least recently used until within bounds; false when it alone exceeds `maxBytes`. */
  set(key: string, entry: E): boolean {
    this.delete(key)
    const { maxEntries, maxBytes } = this.#bounds
    if (entry.size > maxBytes) return false
    const node: Node<E> = { key, entry, older: undefined, newer: undefined }
    this.#changes++
    this.#nodes.set(key, node)
    this.#append(node)
    this.#bytes += entry.size
    while (this.#nodes.size > maxEntries || this.#bytes > maxBytes) this.#evictOldest()
    return true
  }

  /** `key`'s entry, without changing its recency. */
  peek(key: string): E | undefined {
    return this.#nodes.get(key)?.entry
  }

  delete(key: string): boolean {
    const node = this.#nodes.get(key)
    if (node === undefined) return false
    this.#changes++
    this.#nodes.delete(key)
    this.#unlink(node)
    this.#bytes -= node.entry.size
    return true
  }

  /** Every key and entry, oldest first, without changing their recency. */
  *entries(): IterableIterator<[string, E]> {
    for (const [key, node] of this.#nodes) yield [key, node.entry]
  }

  clear(): void {
    this.#changes++
    this.#nodes.clear()
    this.#oldest = undefined
    this.#newest = undefined
    this.#bytes = 0
  }

  get size(): number {
    return this.#nodes.size
  }

  get bytes(): number {
    return this.#bytes
  }

  get evictions(): number {
    return this.#evictions
  }

  /** Grows with every entry stored, removed or evicted: unchanged, it vouches that an earlier read still holds. */
  get changes(): number {
    return this.#changes
  }

  #append(node: Node<E>): void {
    node.older = this.#newest
    node.newer = undefined
    if (this.#newest === undefined) this.#oldest = node
    else this.#newest.newer = node
    this.#newest = node
  }

  #unlink(node: Node<E>): void {
    if (node.older === undefined) this.#oldest = node.newer
    else node.older.newer = node.newer
    if (node.newer === undefined) this.#newest = node.older
    else node.newer.older = node.older
    node.older = undefined
    node.newer = undefined
  }

  #evictOldest(): void {
    const oldest = this.#oldest
    if (oldest === undefined) return
    this.delete(oldest.key)
    this.#evictions++
  }
}
