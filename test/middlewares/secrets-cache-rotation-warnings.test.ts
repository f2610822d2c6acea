import middy from '@middy/core'
import { secretsCache } from '../../middlewares/secrets-cache.js'
import { CacheTimeoutError } from '../../src/index.js'
import { awsJsonError, createSecret, startHttpFaultProxy, uniqueName, type HttpFaultProxy } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { invoke } from '../support/invoke.js'

/**
 * capTtlAtRotation's warning (once per secret) is about a secret that loaded uncapped: a load that
 * failed, was given up on or found nothing has no ttl to cap, and must not spend the one warning a
 * DescribeSecret refused later would give.
 */

let faults: HttpFaultProxy

beforeEach(async () => {
  faults = await startHttpFaultProxy({ target: process.env.AWS_ENDPOINT_URL ?? '' })
})

afterEach(async () => {
  await faults.close()
})

const denied = awsJsonError('AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/shop/fn is not authorized to perform: secretsmanager:DescribeSecret')

/** A handler reading `secret` with capTtlAtRotation through the fault proxy, its warnings kept in `warnings`. */
const cappedReader = (secret: { readonly name: string; readonly optional?: boolean }, warnings: string[], options: { readonly timeout?: '100ms' } = {}) =>
  middy()
    .use(
      secretsCache({
        secrets: { key: secret },
        ...options,
        capTtlAtRotation: true,
        logger: { warn: (message) => { warnings.push(message) } },
        prefetch: false,
        secretsManager: { clientConfig: motoClientConfig(faults.url) },
      }),
    )
    .handler((_event, context) => Promise.resolve(context.secrets.key))

describe('secretsCache capTtlAtRotation warnings, through a fault proxy in front of moto_server', () => {
  test('a load given up on past its timeout warns of nothing (its DescribeSecret was aborted, not refused); the refusal that follows is warned of', async () => {
    const name = uniqueName('shop/slow-rotation')
    await createSecret(name, 'v1')
    const warnings: string[] = []
    const handler = cappedReader({ name }, warnings, { timeout: '100ms' })
    faults.inject({ target: 'secretsmanager.GetSecretValue', hang: true, times: 1 })
    faults.inject({ target: 'secretsmanager.DescribeSecret', hang: true, times: 1 })
    await expect(invoke(handler)).rejects.toThrow(CacheTimeoutError)
    await faults.abandoned('secretsmanager.DescribeSecret')
    expect(warnings).toEqual([])

    faults.inject({ target: 'secretsmanager.DescribeSecret', ...denied })
    expect(await invoke(handler)).toBe('v1')
    expect(warnings).toEqual([expect.stringContaining(`DescribeSecret of secret "${name}" (context.secrets.key) failed, so its ttl is not capped at its next rotation: AccessDeniedException`)])
  })

  test('an optional secret not found, or one whose GetSecretValue is refused too, warns of nothing', async () => {
    const missing = uniqueName('shop/missing-rotation')
    const missingWarnings: string[] = []
    expect(await invoke(cappedReader({ name: missing, optional: true }, missingWarnings))).toBeUndefined()
    expect(faults.requests('secretsmanager.DescribeSecret')).toEqual({ seen: 1, answered: 0 })
    expect(missingWarnings).toEqual([])

    const refused = uniqueName('shop/refused-rotation')
    await createSecret(refused, 'v1')
    const refusedWarnings: string[] = []
    faults.inject({ target: 'secretsmanager.GetSecretValue', ...awsJsonError('AccessDeniedException', 'User is not authorized to perform: secretsmanager:GetSecretValue') })
    faults.inject({ target: 'secretsmanager.DescribeSecret', ...denied })
    await expect(invoke(cappedReader({ name: refused }, refusedWarnings))).rejects.toThrow(`loading secret "${refused}" (context.secrets.key) for cache "secrets" failed`)
    expect(refusedWarnings).toEqual([])
  })
})
