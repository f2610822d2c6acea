import { assertSupportedNode, httpRequest, isAlive, readHarnessState } from './index.js'

describe('global setup', () => {
  test('its env vars reach the test workers', () => {
    const state = readHarnessState()
    // Workers are forked after global setup (or, with --runInBand, are the same process).
    expect([process.pid, process.ppid]).toContain(state.ownerPid)
    expect(process.env.AWS_ENDPOINT_URL).toBe(state.moto.url)
    expect(process.env.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(process.env.REDIS_URL).toBe(state.redis.url)
    expect(process.env.REDIS_URL).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/)
    expect(process.env.REDIS_URL).not.toBe('redis://127.0.0.1:6379') // never the shared Redis
    expect(process.env.AWS_REGION).toBe('us-east-1')
    expect(process.env.AWS_ACCESS_KEY_ID).toBe('test')
    expect(process.env.AWS_SECRET_ACCESS_KEY).toBe('test')
  })

  test('the global services run under the recorded pids', () => {
    const state = readHarnessState()
    for (const service of [state.moto, state.redis]) {
      expect(service.pids).toHaveLength(1)
      expect(service.pids.every((pid) => isAlive(pid))).toBe(true)
    }
  })

  test('moto runs Lambda without Docker', async () => {
    const { status, body } = await httpRequest(`${process.env.AWS_ENDPOINT_URL!}/moto-api/config`)
    expect(status).toBeLessThan(300)
    expect(JSON.parse(body)).toMatchObject({ lambda: { use_docker: false } })
  })
})

describe('Node version check', () => {
  test('the tests run on Node 22 or later', () => {
    expect(() => {
      assertSupportedNode(process.versions.node)
    }).not.toThrow()
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22)
  })

  test('an older Node fails with a message that says to run through npm', () => {
    expect(() => {
      assertSupportedNode('20.20.2', '/usr/bin/node')
    }).toThrow(/Node >= 22, but jest runs on Node 20\.20\.2 \(\/usr\/bin\/node\).*npm test/)
    expect(() => {
      assertSupportedNode('22.0.0')
    }).not.toThrow()
  })
})
