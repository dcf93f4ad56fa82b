import type { ClickHouseClient } from '@clickhouse/client'
import { CaptureError } from '../errors.js'
import { dropViewSql } from './capture-view.js'
import { latestVersions, readRegistry, registerVersionSql } from './registry.js'
import { splitSource } from './source-table.js'

/**
 * Stops capturing a source: drops its view, then marks its latest version removed. The registry keeps every
 * version, so the engine can still decode the source's rows already in the changelog.
 */
export async function uncapture(
  client: ClickHouseClient,
  options: { database: string; cluster: string | undefined; source: string; onStatement?: (sql: string) => void },
): Promise<{ version: number }> {
  const { database, cluster, source } = options
  const latest = latestVersions(await readRegistry(client, database)).get(source)
  if (!latest || latest.removedAt !== null) throw new CaptureError(source, 'is not captured (see tailhouse status)')
  const statements = [
    dropViewSql(splitSource(source), database, cluster),
    registerVersionSql(database, { ...latest, removedAt: 'now' }),
  ]
  for (const sql of statements) {
    options.onStatement?.(sql)
    await client.command({ query: sql })
  }
  return { version: latest.version }
}
