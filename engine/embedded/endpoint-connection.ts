import { request } from 'node:http'
import { Readable } from 'node:stream'
import { ClickHouseError, type createClient } from '@clickhouse/client'
import type { EndpointFile } from './endpoint-file.js'
import { type SqlErrorBody, type SqlRequest, sqlRoute } from './query-endpoint.js'

/** `@clickhouse/client`'s connection contract (chDB implements the same one, see client-factory.ts). */
type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>
type Params = Parameters<ClientConnection['exec']>[0]
type Summary = Awaited<ReturnType<ClientConnection['command']>>['summary']

/**
 * A `@clickhouse/client` connection to another process's embedded ClickHouse, through the endpoint it serves
 * (query-endpoint.ts). Every call becomes one `POST /sql`; ClickHouse errors come back as the same
 * `ClickHouseError` (code, name, message) chDB raises in-process, so callers cannot tell the difference.
 */
export function createEndpointConnection(endpoint: Pick<EndpointFile, 'url' | 'token'>): ClientConnection {
  const run = async (params: Params, values?: string | NodeJS.ReadableStream) => {
    const body: SqlRequest = {
      query: params.query,
      clickhouse_settings: params.clickhouse_settings as Record<string, unknown> | undefined,
      query_params: params.query_params,
      query_id: params.query_id,
      values: values === undefined ? undefined : await text(values),
    }
    return post(endpoint, body, params.abort_signal)
  }
  const base = (queryId: string) => ({ query_id: queryId, response_headers: {}, http_status_code: 200 })
  const connection: ClientConnection = {
    async ping() {
      try {
        await post(endpoint, { query: 'SELECT 1' })
        return { success: true }
      } catch (error) {
        return { success: false, error: error as Error }
      }
    },
    async query(params) {
      const answer = await run(params)
      return { ...base(answer.queryId), stream: Readable.from([answer.body]) }
    },
    async exec(params) {
      const answer = await run(params, params.values as NodeJS.ReadableStream | undefined)
      return { ...base(answer.queryId), stream: Readable.from([answer.body]), summary: answer.summary }
    },
    async command(params) {
      const answer = await run(params)
      return { ...base(answer.queryId), summary: answer.summary }
    },
    async insert(params) {
      const answer = await run(params, params.values as string | NodeJS.ReadableStream)
      return { ...base(answer.queryId), summary: answer.summary }
    },
    async close() {},
  }
  return connection
}

interface Answer {
  body: Buffer
  queryId: string
  summary: Summary
}

function post(
  endpoint: Pick<EndpointFile, 'url' | 'token'>,
  body: SqlRequest,
  signal?: AbortSignal | undefined,
): Promise<Answer> {
  const payload = Buffer.from(JSON.stringify(body))
  return new Promise((resolveAnswer, reject) => {
    const req = request(
      new URL(sqlRoute, endpoint.url),
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${endpoint.token}`,
          'content-type': 'application/json',
          'content-length': payload.length,
        },
        signal,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const data = Buffer.concat(chunks)
          if (res.statusCode === 200) {
            const summary = parseJson(res.headers['x-clickhouse-summary']) as Summary
            resolveAnswer({ body: data, queryId: String(res.headers['x-clickhouse-query-id'] ?? ''), summary })
            return
          }
          const error = (parseJson(data.toString('utf8')) as SqlErrorBody | undefined)?.error
          const message = error?.message ?? `HTTP ${res.statusCode} from ${endpoint.url}`
          if (error?.code !== undefined) reject(new ClickHouseError({ message, code: error.code, type: error.type }))
          else reject(new Error(`the engine serving embedded ClickHouse answered ${res.statusCode}: ${message}`))
        })
      },
    )
    // Connection errors keep their code (ECONNREFUSED, …), so translateClickHouseError calls them unreachable.
    req.on('error', reject)
    req.end(payload)
  })
}

async function text(values: string | NodeJS.ReadableStream): Promise<string> {
  if (typeof values === 'string') return values
  const chunks: Buffer[] = []
  for await (const chunk of values) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk))
  return Buffer.concat(chunks).toString('utf8')
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return undefined
  try {
    return JSON.parse(value)
  } catch {
    return undefined
  }
}
