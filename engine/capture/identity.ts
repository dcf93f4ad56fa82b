import type { ClickHouseClient } from '@clickhouse/client'
import { quoteIdentifier } from '../clickhouse/sql.js'
import { CaptureError } from '../errors.js'

/**
 * The identity of a capture database's changelogs (migrations/0002_identity.sql): the engine binds its checkpoint,
 * SQLite state and transactional id to it, so that state of other changelogs is never taken for these.
 */
export async function readChangelogIdentity(client: ClickHouseClient, database: string): Promise<string> {
  const exists = await client.query({
    query: "SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = 'identity'",
    query_params: { db: database },
    format: 'JSONEachRow',
  })
  const [table] = await exists.json<{ n: string | number }>()
  const result =
    Number(table?.n ?? 0) === 0
      ? undefined
      : await client.query({
          query: `SELECT toString(id) AS id FROM ${quoteIdentifier(database)}.identity FINAL
                  ORDER BY updated_at DESC LIMIT 1`,
          format: 'JSONEachRow',
        })
  const [row] = (await result?.json<{ id: string }>()) ?? []
  if (!row) {
    throw new CaptureError(
      '',
      `${database} has no changelog identity (${database}.identity): run tailhouse migrate before starting the engine`,
    )
  }
  return row.id
}

/** The first 8 hex digits: enough to tell changelogs apart in ids and logs. */
export function shortIdentity(identity: string): string {
  return identity.replaceAll('-', '').slice(0, 8)
}
