import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetParameterCommand } from '@aws-sdk/client-ssm'
import { destroySeedClients, httpRequest, isAlive, putParameters, seedClients, startMoto, type MotoHandle } from './index.js'

describe('a private moto_server', () => {
  let moto: MotoHandle

  beforeAll(async () => {
    moto = await startMoto({ config: { lambda: { use_docker: false } } })
  })

  afterAll(async () => {
    destroySeedClients()
    await moto.stop()
  })

  test('stop() then restart() serves a fresh, reconfigured moto on the same port', async () => {
    const { endpoint } = moto
    const { ssm } = seedClients({ endpoint })
    await putParameters({ '/private/flag': 'on' }, { endpoint })
    expect((await ssm.send(new GetParameterCommand({ Name: '/private/flag' }))).Parameter?.Value).toBe('on')

    const { pid, port } = moto
    await moto.stop()
    expect(isAlive(pid)).toBe(false)
    await expect(httpRequest(`${endpoint}/moto-api/config`)).rejects.toThrow(/ECONNREFUSED/)

    await moto.restart()
    expect(moto.port).toBe(port)
    expect(moto.pid).not.toBe(pid)
    // A restart is an empty AWS, with the config applied again.
    await expect(ssm.send(new GetParameterCommand({ Name: '/private/flag' }))).rejects.toThrow(/ParameterNotFound|not found/i)
    const config = await httpRequest(`${endpoint}/moto-api/config`)
    expect(JSON.parse(config.body)).toMatchObject({ lambda: { use_docker: false } })
  })
})

test('a missing moto_server binary fails with how to install it', async () => {
  await expect(startMoto({ binary: 'middy-cache-no-such-moto-server' })).rejects.toThrow(
    /middy-cache-no-such-moto-server is not installed.*pip install "moto\[server\]"/,
  )
})

test('a shim that finds no moto_server (exit 127, as pyenv does) fails with how to install it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'middy-cache-shim-'))
  try {
    const shim = join(dir, 'moto_server')
    writeFileSync(shim, '#!/bin/sh\necho "pyenv: moto_server: command not found" >&2\nexit 127\n')
    chmodSync(shim, 0o755)
    await expect(startMoto({ binary: shim })).rejects.toThrow(/is not installed.*pip install "moto\[server\]"[\s\S]*pyenv: moto_server: command not found/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
