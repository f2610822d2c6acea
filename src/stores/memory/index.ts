export { MemoryStore, type MemoryStoreBounds } from './memory-store.js'
export { estimateSize } from './size.js'
