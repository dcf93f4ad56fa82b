import type { ClickHouseClient } from '@clickhouse/client'
import { quoteString } from '../clickhouse/sql.js'
import { translateClickHouseError } from '../clickhouse/translate-error.js'

/** What `system.query_log` says about INSERTs: a table for the terminal, or why there is none. */
export type QueryLogAnswer =
  | { kind: 'rows'; table: string }
  | { kind: 'none-yet' }
  | { kind: 'no-query-log'; reason: string }

/**
 * Looks the INSERTs up in `system.query_log` (on every replica of `cluster` when given) and returns their finished
 * entries as a PrettyCompact table. Embedded ClickHouse (chDB) has no query log at all, which is said plainly; a
 * server flushes its log every few seconds, so very recent INSERTs may not be there yet.
 */
export async function queryLogRows(
  client: ClickHouseClient,
  target: string,
  queryIds: string[],
  cluster?: string | undefined,
): Promise<QueryLogAnswer> {
  try {
    const [exists] = await (
      await client.query({
        query: `SELECT count() AS n FROM system.tables WHERE database = 'system' AND name = 'query_log'`,
        format: 'JSONEachRow',
      })
    ).json<{ n: number | string }>()
    if (Number(exists?.n ?? 0) === 0) {
      return {
        kind: 'no-query-log',
        reason: target.startsWith('embedded')
          ? 'embedded ClickHouse (chDB) keeps no query log: it has no system.query_log table'
          : `${target} has no system.query_log table (query_log is off in its server config)`,
      }
    }
    const source = cluster ? `clusterAllReplicas(${quoteString(cluster)}, system.query_log)` : 'system.query_log'
    const result = await client.exec({
      query: `SELECT query_id, event_time, query_duration_ms AS duration_ms, written_rows, user,
                     substring(replaceRegexpAll(query, '\\\\s+', ' '), 1, 80) AS query
              FROM ${source}
              WHERE type = 'QueryFinish' AND query_id IN (${queryIds.map(quoteString).join(', ')})
              ORDER BY event_time_microseconds
              FORMAT PrettyCompactMonoBlock`,
    })
    const chunks: Buffer[] = []
    for await (const chunk of result.stream) chunks.push(Buffer.from(chunk as Uint8Array))
    const table = Buffer.concat(chunks).toString('utf8')
    return table.trim() === '' ? { kind: 'none-yet' } : { kind: 'rows', table }
  } catch (error) {
    throw translateClickHouseError(error, target)
  }
}
