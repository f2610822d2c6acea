import type { BatchLoadContext } from '../../src/cache/options.js'
import type { SsmSource } from '../../src/sources/ssm.js'

/** One cache key read from one SSM parameter by name: configCache's parameters, secretsCache's SecureStrings. */
export interface ParameterRead {
  readonly key: string
  readonly name: string
  readonly decrypt: boolean
  /** The key's value from the parameter's; one that throws (JSON that no longer parses) fails that key alone. */
  readonly decode: (raw: string) => unknown
}

/**
 * Reads `reads` into `values` in GetParameters batches (`getByNames`: 10 names a call, the calls
 * sent at once), decrypted ones apart from plain ones, each name asked once however many keys read
 * it. A parameter SSM does not know is undefined (not found). A call SSM refuses fails the keys it
 * asked for, and a value that cannot be decoded its own key: the others are served.
 */
export const readParameters = async (ssm: SsmSource, reads: readonly ParameterRead[], context: Pick<BatchLoadContext, 'signal' | 'fail'>, values: Map<string, unknown>): Promise<void> => {
  const byDecrypt = new Map<boolean, ParameterRead[]>()
  for (const read of reads) {
    const batch = byDecrypt.get(read.decrypt)
    if (batch === undefined) byDecrypt.set(read.decrypt, [read])
    else batch.push(read)
  }
  await Promise.all(
    [...byDecrypt].map(async ([decrypt, batch]) => {
      const { values: found, failures } = await ssm.getByNames([...new Set(batch.map(({ name }) => name))], decrypt, context.signal)
      for (const { key, name, decode } of batch) {
        if (failures.has(name)) {
          context.fail(key, failures.get(name))
          continue
        }
        try {
          const raw = found.get(name)
          values.set(key, raw === undefined ? undefined : decode(raw))
        } catch (error) {
          context.fail(key, error)
        }
      }
    }),
  )
}
