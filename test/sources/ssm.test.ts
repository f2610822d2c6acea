import { SSMClient, type GetParametersCommandInput } from '@aws-sdk/client-ssm'
import { createSsmSource } from '../../src/sources/ssm.js'
import { putParameters, uniqueName } from '../harness/index.js'
import { motoClientConfig } from '../support/aws-client-config.js'
import { deferred, type Deferred } from '../support/deferred.js'
import { testClients } from '../support/sdk-clients.js'

const clients = testClients()

afterEach(() => {
  clients.destroyAll()
})

const microtasks = async (count: number): Promise<void> => {
  for (let passed = 0; passed < count; passed++) await Promise.resolve()
}

/** Holds, once armed, the answer of the next GetParameters call that decrypts as `decrypt` says, between SSM's answer and the caller. */
const holdAnswer = (client: SSMClient, decrypt: boolean) => {
  let armed: { readonly answered: Deferred<undefined>; readonly release: Deferred<undefined> } | undefined
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const answer = await next(args)
      const held = armed
      if (held !== undefined && context.commandName === 'GetParametersCommand' && ((args.input as GetParametersCommandInput).WithDecryption === true) === decrypt) {
        armed = undefined
        held.answered.resolve(undefined)
        await held.release.promise
      }
      return answer
    },
    { step: 'initialize', name: 'middyCacheTestHoldAnswer' },
  )
  return {
    arm: () => {
      armed = { answered: deferred(), release: deferred() }
      return armed
    },
  }
}

describe('SSM source: one parameter read with and without decryption', () => {
  // Powertools keys its cache by name, not decryption, and getParametersByName keeps a read for 5 s
  // even with maxAge 0: the read started while the other stores its answer must not be given it.
  test.each([
    ['a plain read never gets the decrypted value', true],
    ['a decrypted read never gets the ciphertext', false],
  ])('%s, at whichever microtask it starts while the other read stores its answer', async (_title, firstDecrypts) => {
    const name = `/${uniqueName('shop')}/api-key`
    await putParameters({ [name]: { value: 'k-123', type: 'SecureString' } })
    const client = clients.made(new SSMClient(motoClientConfig()))
    const held = holdAnswer(client, firstDecrypts)
    const source = createSsmSource({ awsSdkV3Client: client })
    const alone = async (decrypt: boolean) => (await source.getByNames([name], decrypt)).values.get(name)
    const expected = { first: await alone(firstDecrypts), second: await alone(!firstDecrypts) }
    expect([expected.first, expected.second].sort()).toEqual(['k-123', 'kms:alias/aws/ssm:k-123'])

    const seen = []
    for (let delay = 0; delay < 20; delay++) {
      const hold = held.arm()
      const first = source.getByNames([name], firstDecrypts)
      await hold.answered.promise
      hold.release.resolve(undefined)
      await microtasks(delay)
      const second = await source.getByNames([name], !firstDecrypts)
      seen.push({ delay, first: (await first).values.get(name), second: second.values.get(name) })
    }
    expect(seen).toEqual(seen.map(({ delay }) => ({ delay, ...expected })))
  })
})
