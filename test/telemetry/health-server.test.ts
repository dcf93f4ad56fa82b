import { Agent, request } from 'node:http'
import { describe, expect, it, onTestFinished } from 'vitest'
import {
  defaultReadinessTimeoutMs,
  type HealthServerOptions,
  type Readiness,
  readinessChecks,
  startHealthServer,
} from '../../engine/telemetry/health-server.js'

const ready: Readiness = { ready: true, checks: { clickhouse: { ok: true, detail: 'SELECT 1 in 2 ms' } } }

/** A server on a free port of 127.0.0.1, closed when the test ends. */
async function serve(options: Partial<HealthServerOptions> = {}) {
  const server = await startHealthServer({
    port: 0,
    liveness: () => ({ alive: true, detail: 'state=running' }),
    readiness: async () => ready,
    ...options,
  })
  onTestFinished(() => server.close())
  return server
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: unknown; response: Response }> {
  const response = await fetch(url, init)
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined, response }
}

describe('startHealthServer', () => {
  it('binds 127.0.0.1 by default and reports its url', async () => {
    const { url } = await serve()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(url).not.toMatch(/:0$/)
  })

  it('GET /healthz: 200 when alive, 503 when not, 503 when the probe throws', async () => {
    let alive: () => { alive: boolean; detail: string } = () => ({ alive: true, detail: 'state=running' })
    const { url } = await serve({ liveness: () => alive() })

    const up = await get(`${url}/healthz`)
    expect(up.status).toBe(200)
    expect(up.body).toEqual({ status: 'alive', detail: 'state=running' })
    expect(up.response.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(up.response.headers.get('cache-control')).toBe('no-store')

    alive = () => ({ alive: false, detail: 'state=failed' })
    expect(await get(`${url}/healthz`)).toMatchObject({
      status: 503,
      body: { status: 'not_alive', detail: 'state=failed' },
    })

    alive = () => {
      throw new Error('boom')
    }
    expect(await get(`${url}/healthz?verbose=1`)).toMatchObject({
      status: 503,
      body: { status: 'not_alive', detail: 'liveness check threw: boom' },
    })
  })

  it('GET /readyz: 200 with the checks when ready', async () => {
    const { url } = await serve()
    expect(await get(`${url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready', checks: ready.checks } })
  })

  it('GET /readyz: 503 with the failing check when not ready', async () => {
    const checks = {
      clickhouse: { ok: true, detail: 'SELECT 1 in 2 ms' },
      kafka: { ok: false, detail: 'ECONNREFUSED 127.0.0.1:9092' },
    }
    const { url } = await serve({ readiness: async () => ({ ready: false, checks }) })
    expect(await get(`${url}/readyz`)).toEqual(
      expect.objectContaining({ status: 503, body: { status: 'not_ready', checks } }),
    )
  })

  it('GET /readyz: a throwing or rejecting readiness is not ready, and the server keeps serving', async () => {
    let readiness: () => Promise<Readiness> = () => {
      throw new TypeError('sync throw')
    }
    const { url } = await serve({ readiness: () => readiness() })
    expect(await get(`${url}/readyz`)).toMatchObject({
      status: 503,
      body: { status: 'not_ready', checks: { readiness: { ok: false, detail: 'readiness check threw: sync throw' } } },
    })
    readiness = async () => {
      throw new Error('async reject')
    }
    expect(await get(`${url}/readyz`)).toMatchObject({
      status: 503,
      body: { checks: { readiness: { ok: false, detail: 'readiness check threw: async reject' } } },
    })
    readiness = async () => undefined as unknown as Readiness
    expect(await get(`${url}/readyz`)).toMatchObject({
      status: 503,
      body: { checks: { readiness: { ok: false, detail: 'readiness check returned no checks' } } },
    })
    readiness = async () => ready
    expect((await get(`${url}/readyz`)).status).toBe(200)
  })

  it(`GET /readyz: a hung readiness is not ready after ${defaultReadinessTimeoutMs} ms, named`, async () => {
    let calls = 0
    let recovered = false
    const { url } = await serve({
      readiness: () => {
        calls++
        return recovered ? Promise.resolve(ready) : new Promise<Readiness>(() => {})
      },
    })
    const started = performance.now()
    const [first, second] = await Promise.all([get(`${url}/readyz`), get(`${url}/readyz`)])
    const elapsed = performance.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(defaultReadinessTimeoutMs - 50)
    expect(elapsed).toBeLessThan(defaultReadinessTimeoutMs + 1_500)
    for (const answer of [first, second]) {
      expect(answer).toMatchObject({
        status: 503,
        body: {
          status: 'not_ready',
          checks: { readiness: { ok: false, detail: 'readiness check did not answer within 2000 ms' } },
        },
      })
    }
    expect(calls).toBe(1) // concurrent probes share the hung call instead of piling up more
    // A timed-out call is abandoned: the next probe calls again, and sees a recovered check.
    recovered = true
    expect(await get(`${url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } })
    expect(calls).toBe(2)
    // The liveness route is unaffected by a hung readiness.
    expect((await get(`${url}/healthz`)).status).toBe(200)
  })

  it('readinessChecks names the check that hung, failed or threw', async () => {
    const readiness = readinessChecks(
      {
        clickhouse: async () => ({ ok: true, detail: 'SELECT 1' }),
        kafka: () => new Promise(() => {}),
        offsets: () => {
          throw new Error('SQLITE_BUSY')
        },
        schema: () => false,
        migrations: () => undefined,
      },
      50,
    )
    const { url } = await serve({ readiness, readinessTimeoutMs: 1_000 })
    expect(await get(`${url}/readyz`)).toMatchObject({
      status: 503,
      body: {
        status: 'not_ready',
        checks: {
          clickhouse: { ok: true, detail: 'SELECT 1' },
          kafka: { ok: false, detail: 'did not answer within 50 ms' },
          offsets: { ok: false, detail: 'SQLITE_BUSY' },
          schema: { ok: false, detail: 'not ok' },
          migrations: { ok: true, detail: 'ok' },
        },
      },
    })
    const allOk = readinessChecks({ a: () => true, b: async () => ({ ok: true, detail: 'fine' }) })
    expect(await allOk()).toEqual({
      ready: true,
      checks: { a: { ok: true, detail: 'ok' }, b: { ok: true, detail: 'fine' } },
    })
  })

  it('HEAD on health routes: same status and headers, no body', async () => {
    const { url } = await serve({ readiness: async () => ({ ready: false, checks: {} }) })
    const healthz = await fetch(`${url}/healthz`, { method: 'HEAD' })
    expect(healthz.status).toBe(200)
    expect(healthz.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(Number(healthz.headers.get('content-length'))).toBeGreaterThan(0)
    expect(await healthz.text()).toBe('')
    const readyz = await fetch(`${url}/readyz`, { method: 'HEAD' })
    expect(readyz.status).toBe(503)
    expect(await readyz.text()).toBe('')
  })

  it('GET /metrics delegates to the handler, 404 without one; unknown routes 404; other methods 405', async () => {
    const bare = await serve()
    expect(await get(`${bare.url}/metrics`)).toMatchObject({ status: 404, body: { status: 'not_found' } })
    expect(await get(`${bare.url}/`)).toMatchObject({ status: 404 })
    expect(await get(`${bare.url}/healthz/extra`)).toMatchObject({ status: 404 })
    const post = await get(`${bare.url}/readyz`, { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.response.headers.get('allow')).toBe('GET, HEAD')

    const withMetrics = await serve({
      metrics: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('tailhouse_up 1\n')
      },
    })
    const metrics = await fetch(`${withMetrics.url}/metrics`)
    expect(metrics.status).toBe(200)
    expect(await metrics.text()).toBe('tailhouse_up 1\n')
    expect((await fetch(`${withMetrics.url}/metrics`, { method: 'DELETE' })).status).toBe(405)
  })

  it('a throwing metrics handler answers 500 and the server keeps serving', async () => {
    const { url } = await serve({
      metrics: () => {
        throw new Error('serializer bug')
      },
    })
    expect(await get(`${url}/metrics`)).toMatchObject({
      status: 500,
      body: { status: 'error', detail: 'serializer bug' },
    })
    expect((await get(`${url}/healthz`)).status).toBe(200)
  })

  it('close() is idempotent and stops accepting connections', async () => {
    const server = await serve()
    // Leave a keep-alive connection open: close() must not wait for it.
    const agent = new Agent({ keepAlive: true })
    onTestFinished(() => agent.destroy())
    await new Promise<void>((resolve, reject) => {
      const req = request(`${server.url}/healthz`, { agent })
      req.on('response', (res) => res.resume().on('end', () => resolve()))
      req.on('error', reject)
      req.end()
    })
    const first = server.close()
    expect(server.close()).toBe(first)
    await first
    await server.close()
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow()
  })

  it('rejects a port that is taken, and bad options', async () => {
    const { url } = await serve()
    const port = Number(new URL(url).port)
    await expect(
      startHealthServer({ port, liveness: () => ({ alive: true, detail: '' }), readiness: async () => ready }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' })
    await expect(
      startHealthServer({ port: 70_000, liveness: () => ({ alive: true, detail: '' }), readiness: async () => ready }),
    ).rejects.toThrow(/port/)
  })
})
