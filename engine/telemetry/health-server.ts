/**
 * The engine's HTTP endpoints for orchestrators and Prometheus, on node:http:
 *
 * | route          | answers                                                                                    |
 * |----------------|--------------------------------------------------------------------------------------------|
 * | `GET /healthz` | 200 `{"status":"alive","detail":...}`, or 503 `{"status":"not_alive",...}`: restart me     |
 * | `GET /readyz`  | 200 `{"status":"ready","checks":{...}}`, or 503 `{"status":"not_ready",...}`: do not route |
 * | `GET /metrics` | the Prometheus exposition, from the `metrics` handler; 404 when there is none              |
 *
 * HEAD is answered on `/healthz` and `/readyz` (same status, no body); another method on a known route gets 405,
 * an unknown route 404. A readiness call is bounded by `readinessTimeoutMs` (2 s): a hung one answers 503 with
 * the check named. Checks that throw are reported, never crash the server.
 *
 * @example
 * const health = await startHealthServer({
 *   host: '127.0.0.1',
 *   port: 9464,
 *   liveness: () => ({ alive: engine.state !== 'failed', detail: engine.state }),
 *   readiness: readinessChecks({ clickhouse: () => pingClickHouse(), kafka: () => pingKafka() }),
 *   metrics: telemetry.handle,
 * })
 * // ... on shutdown:
 * await health.close()
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface CheckResult {
  ok: boolean
  detail: string
}

export interface Liveness {
  alive: boolean
  detail: string
}

export interface Readiness {
  ready: boolean
  checks: Record<string, CheckResult>
}

export interface HealthServerOptions {
  /** Interface to bind; default 127.0.0.1 (use 0.0.0.0 in a container). */
  host?: string
  /** TCP port; 0 picks any free port (read it from the returned `url`). */
  port: number
  /** Synchronous and cheap: is the process worth keeping, or should it be restarted? */
  liveness: () => Liveness
  /** Can the engine do its work now? Called per request, bounded by `readinessTimeoutMs`. */
  readiness: () => Promise<Readiness>
  /** Serves `GET /metrics`, e.g. `createEngineMetrics(...).handle`. */
  metrics?: (req: IncomingMessage, res: ServerResponse) => void
  /** Bound on one readiness call, in ms; default {@link defaultReadinessTimeoutMs}. */
  readinessTimeoutMs?: number
}

export interface HealthServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string
  /** Stops accepting connections and resolves when open requests are answered. Idempotent. */
  close(): Promise<void>
}

export const defaultReadinessTimeoutMs = 2_000

/** The check reported when the readiness callback as a whole throws or hangs. */
export const readinessCheckName = 'readiness'

const healthRoutes = new Set(['/healthz', '/readyz'])

/** Starts listening; rejects when the address cannot be bound (e.g. EADDRINUSE). */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const host = options.host ?? '127.0.0.1'
  const timeoutMs = options.readinessTimeoutMs ?? defaultReadinessTimeoutMs
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) {
    throw new RangeError(`port must be an integer in 0..65535; got ${options.port}`)
  }
  if (!(timeoutMs > 0)) throw new RangeError(`readinessTimeoutMs must be > 0; got ${timeoutMs}`)

  // Concurrent probes share one readiness call, so a hung check is not called again by every probe; once a call
  // has timed out it is abandoned, so the next probe tries afresh and a check that recovers is seen.
  let inFlight: Promise<Readiness> | undefined
  const readiness = (): Promise<Readiness> => {
    if (!inFlight) {
      const started: Promise<Readiness> = settleReadiness(options.readiness).finally(() => {
        if (inFlight === started) inFlight = undefined
      })
      inFlight = started
    }
    const call = inFlight
    return withTimeout(call, timeoutMs).catch(() => {
      if (inFlight === call) inFlight = undefined
      return notReady(`readiness check did not answer within ${timeoutMs} ms`)
    })
  }

  const server = createServer((req, res) => {
    route(req, res, options, readiness).catch((error: unknown) => {
      // Only reachable through a bug here or a throwing metrics handler: answer 500, keep serving.
      if (!res.headersSent) sendJson(req, res, 500, { status: 'error', detail: describe(error) })
      else res.destroy()
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port: options.port }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`

  let closing: Promise<void> | undefined
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
      return closing
    },
  }
}

/**
 * A readiness callback from named checks, run concurrently, each bounded by `timeoutMs` (default 1500, under the
 * server's 2 s so a hung check is named rather than the whole call). Ready when every check is ok. A check
 * returns `{ ok, detail }`, or `true`/`undefined` for ok; a throw or rejection is not ok, with its message.
 */
export function readinessChecks(
  checks: Record<string, () => CheckResult | boolean | undefined | Promise<CheckResult | boolean | undefined>>,
  timeoutMs = 1_500,
): () => Promise<Readiness> {
  return async () => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
        try {
          const result = await withTimeout(
            Promise.resolve().then(() => check()),
            timeoutMs,
          )
          if (result === undefined || result === true) return [name, { ok: true, detail: 'ok' }]
          if (result === false) return [name, { ok: false, detail: 'not ok' }]
          return [name, { ok: result.ok === true, detail: String(result.detail) }]
        } catch (error) {
          return [name, { ok: false, detail: describe(error) }]
        }
      }),
    )
    const results = Object.fromEntries(entries)
    return { ready: entries.every(([, result]) => result.ok), checks: results }
  }
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  options: HealthServerOptions,
  readiness: () => Promise<Readiness>,
): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0]
  const method = req.method ?? 'GET'
  if (path === '/metrics') {
    if (!options.metrics) return sendJson(req, res, 404, { status: 'not_found', detail: 'metrics are not enabled' })
    if (method !== 'GET') return methodNotAllowed(req, res, 'GET')
    return options.metrics(req, res)
  }
  if (path === undefined || !healthRoutes.has(path)) {
    return sendJson(req, res, 404, { status: 'not_found', detail: `no route ${path}` })
  }
  if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(req, res, 'GET, HEAD')

  if (path === '/healthz') {
    const { alive, detail } = liveness(options.liveness)
    return sendJson(req, res, alive ? 200 : 503, { status: alive ? 'alive' : 'not_alive', detail })
  }
  const { ready, checks } = await readiness()
  return sendJson(req, res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks })
}

function liveness(probe: () => Liveness): Liveness {
  try {
    const { alive, detail } = probe()
    return { alive: alive === true, detail: String(detail) }
  } catch (error) {
    return { alive: false, detail: `liveness check threw: ${describe(error)}` }
  }
}

/** Never rejects: a throw, a rejection or a malformed answer becomes a failed check named `readiness`. */
async function settleReadiness(probe: () => Promise<Readiness>): Promise<Readiness> {
  try {
    const result = await probe()
    if (typeof result !== 'object' || result === null || typeof result.checks !== 'object' || !result.checks) {
      return notReady('readiness check returned no checks')
    }
    return { ready: result.ready === true, checks: result.checks }
  } catch (error) {
    return notReady(`readiness check threw: ${describe(error)}`)
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function notReady(detail: string): Readiness {
  return { ready: false, checks: { [readinessCheckName]: { ok: false, detail } } }
}

function methodNotAllowed(req: IncomingMessage, res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow)
  sendJson(req, res, 405, { status: 'method_not_allowed', detail: `${req.method} ${req.url}; allowed: ${allow}` })
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(req.method === 'HEAD' ? undefined : text)
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
