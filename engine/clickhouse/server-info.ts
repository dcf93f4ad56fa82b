import type { ClickHouseClient } from '@clickhouse/client'
import { translateClickHouseError } from './translate-error.js'

/** Asks ClickHouse for its version; the first call also proves it is reachable. `target` names it in errors. */
export async function serverVersion(client: ClickHouseClient, target: string): Promise<string> {
  try {
    const result = await client.query({ query: 'SELECT version() AS version', format: 'JSONEachRow' })
    const [row] = await result.json<{ version: string }>()
    return row?.version ?? 'unknown'
  } catch (error) {
    throw translateClickHouseError(error, target)
  }
}
