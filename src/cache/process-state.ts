/**
 * The version of the state this package keeps per process: bump it when any of that state changes
 * shape, so that a copy of an incompatible version keeps its own rather than misreading ours.
 */
const stateVersion = 6

/**
 * The key under which the state (or the per-request value) called `name` is found by every copy of
 * this package in the process: a registered symbol, the same for every copy that asks for it.
 */
export const processWideKey = (name: string): symbol => Symbol.for(`middy-cache.${name}.v${String(stateVersion)}`)

const holder = globalThis as unknown as Record<symbol, object | undefined>

/**
 * The state called `name` that must be one per process, made by `create` in whichever copy of this
 * package asks first. A process may load two copies (an ESM import beside a CommonJS require, a
 * bundle that inlines the package twice), and module state would then split in two: warm-up and
 * snapshots would miss the caches registered by the other copy, and cold starts would count twice.
 * Ask once, at module load, and keep what it returns: the warm path then reads a module constant.
 */
export const processWide = <T extends object>(name: string, create: () => T): T =>
  // Every copy with this key's version makes the same shape for `name`.
  (holder[processWideKey(name)] ??= create()) as T
