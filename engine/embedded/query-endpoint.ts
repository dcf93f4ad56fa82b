import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { Readable } from 'node:stream'
import type { ClickHouseClient } from '@clickhouse/client'
import { defaultEmbeddedDataDir } from '../clickhouse/options.js'
import { serverError } from '../clickhouse/server-error.js'
import { removeEndpointFile, writeEndpointFile } from './endpoint-file.js'

export interface SharedEmbeddedOptions {
  /** The client holding embedded ClickHouse (chDB) in this process. */
  client: ClickHouseClient
  /** Its data directory; default ./.tailhouse/clickhouse, like createClickHouse. */
  dataDir?: string | undefined
  /** What this process is, shown by other processes' messages; default "tailhouse start". */
  serving?: string
}

export interface SharedEmbedded {
  /** Base URL on 127.0.0.1. */
  url: string
  /** Removes the endpoint file, then stops listening. Idempotent; the client stays open. */
  close(): Promise<void>
}

/** The request body of `POST /sql`: one statement, as `@clickhouse/client` hands it to a connection. */
export interface SqlRequest {
  query: string
  clickhouse_settings?: Record<string, unknown>
  query_params?: Record<string, unknown>
  query_id?: string
  /** Data sent after the statement, e.g. the rows of `INSERT … FORMAT JSONEachRow`. */
  values?: string
}

export const sqlRoute = '/sql'
const maxBodyBytes = 64 << 20

/**
 * Shares this process's embedded ClickHouse with other tailhouse processes of the same user. chDB lets one process
 * open a data directory, so while an engine runs, `tailhouse sql`, `status` and `migrate` send their statements
 * here instead: `POST /sql` on 127.0.0.1 (a free port), authorized by a random token that only the endpoint file
 * (`<dataDir>/tailhouse-endpoint.json`, mode 0600) holds. Each request runs one statement through `client.exec`
 * and answers its raw output; a ClickHouse error answers 500 with its code and name, which the caller re-raises
 * (see endpoint-connection.ts). Serves embedded ClickHouse only: a server has its own HTTP interface.
 *
 * @example
 *   const client = await createClickHouse({ dataDir })
 *   const shared = await serveEmbeddedClickHouse({ client, dataDir, serving: 'my-app' })
 *   // … `tailhouse sql "SELECT 1"` with TAILHOUSE_CLICKHOUSE_DATA_DIR=dataDir now runs here …
 *   await shared.close()
 */
export async function serveEmbeddedClickHouse(options: SharedEmbeddedOptions): Promise<SharedEmbedded> {
  const dataDir = resolve(options.dataDir ?? defaultEmbeddedDataDir)
  const token = randomBytes(32).toString('hex')
  const expected = Buffer.from(`Bearer ${token}`)
  const server = createServer((req, res) => {
    handle(req, res, options.client, expected).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, { message: describe(error) })
      else res.destroy()
    })
  })
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject)
      resolveListen()
    })
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    writeEndpointFile(dataDir, {
      pid: process.pid,
      url,
      token,
      serving: options.serving ?? 'tailhouse start',
      startedAt: new Date().toISOString(),
    })
  } catch (error) {
    server.close()
    throw error
  }
  let closing: Promise<void> | undefined
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolveClose) => {
        removeEndpointFile(dataDir, token)
        server.close(() => resolveClose())
        server.closeIdleConnections()
      })
      return closing
    },
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  client: ClickHouseClient,
  expected: Buffer,
): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0]
  if (path !== sqlRoute) return sendError(res, 404, { message: `no route ${path}` })
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST')
    return sendError(res, 405, { message: `${req.method} ${path}; allowed: POST` })
  }
  const given = Buffer.from(req.headers.authorization ?? '')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return sendError(res, 401, {
      message: 'missing or wrong token (see tailhouse-endpoint.json in the data directory)',
    })
  }
  let request: SqlRequest
  try {
    request = JSON.parse((await readBody(req)).toString('utf8')) as SqlRequest
  } catch (error) {
    return sendError(res, 400, { message: `the body must be a JSON SqlRequest: ${describe(error)}` })
  }
  if (typeof request.query !== 'string' || request.query.trim() === '')
    return sendError(res, 400, { message: 'query is missing' })
  try {
    const result = await client.exec({
      query: request.query,
      clickhouse_settings: request.clickhouse_settings as never,
      query_params: request.query_params,
      query_id: request.query_id,
      values: request.values === undefined ? undefined : Readable.from([request.values]),
    })
    const chunks: Buffer[] = []
    for await (const chunk of result.stream) chunks.push(Buffer.from(chunk as Uint8Array))
    const body = Buffer.concat(chunks)
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      'x-clickhouse-query-id': result.query_id,
      'x-clickhouse-summary': JSON.stringify(result.summary ?? {}),
      'cache-control': 'no-store',
    })
    res.end(body)
  } catch (error) {
    const server = serverError(error)
    if (server) return sendError(res, 500, server)
    return sendError(res, 503, { message: describe(error) })
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBodyBytes) throw new Error(`larger than ${maxBodyBytes} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** The error body: `{"error":{"message","code","type"}}`, code and type as ClickHouse gave them. */
export interface SqlErrorBody {
  error: { message: string; code?: string | undefined; type?: string | undefined }
}

function sendError(res: ServerResponse, status: number, error: SqlErrorBody['error']): void {
  const text = `${JSON.stringify({ error } satisfies SqlErrorBody)}\n`
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
