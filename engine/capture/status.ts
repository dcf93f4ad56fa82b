import type { ClickHouseClient } from '@clickhouse/client'
import type { CaptureConfig } from '../config/config.js'
import { viewName } from './capture-view.js'
import { changelogTableName } from './changelog-table.js'
import { describeDrift, desiredCapture, sameCapture } from './plan-source.js'
import { type CaptureMode, latestVersions, readRegistry } from './registry.js'
import { splitSource } from './source-table.js'
import { blockColumnsEnabled } from './stream-capture.js'

export interface SourceStatus {
  source: string
  /** In the config file. */
  configured: boolean
  /** A live capture view (stream mode: the block columns) exists and the registry has a version not removed. */
  captured: boolean
  schemaVersion: number | null
  /** How it is captured (registered, else configured): view, or stream (no view, no changelog). */
  mode: CaptureMode
  viewPresent: boolean
  /** Rows of this source in the changelog (all versions); in stream mode, the rows of the table itself. */
  changelogRows: number
  /** What changed in the source since its captured version and is not migrated yet; null when none. */
  drift: string | null
}

/** Capture state of every configured or registered source. */
export async function captureStatus(client: ClickHouseClient, capture: CaptureConfig): Promise<SourceStatus[]> {
  const { database } = capture
  const latest = latestVersions(await readRegistry(client, database))
  const views = await client.query({
    query: "SELECT name FROM system.tables WHERE database = {db:String} AND engine = 'MaterializedView'",
    query_params: { db: database },
    format: 'JSONEachRow',
  })
  const viewNames = new Set((await views.json<{ name: string }>()).map((r) => r.name))
  const counts = await changelogCounts(client, database)
  const configured = new Map(capture.sources.map((s, i) => [s.table, { config: s, index: i }]))
  const names = [...new Set([...configured.keys(), ...latest.keys()])].sort()
  const statuses: SourceStatus[] = []
  for (const source of names) {
    const registered = latest.get(source)
    const viewPresent = viewNames.has(viewName(splitSource(source)))
    let drift: string | null = null
    const entry = configured.get(source)
    const mode = registered?.mode ?? entry?.config.mode ?? 'view'
    const live = mode === 'stream' ? await blockColumnsEnabled(client, splitSource(source)) : viewPresent
    if (entry) {
      try {
        const desired = await desiredCapture(client, entry.config, `capture.sources[${entry.index}]`)
        if (!registered) drift = 'not captured yet'
        else if (registered.removedAt !== null) drift = 'uncaptured; the next migrate captures it again'
        else if (!sameCapture(registered, desired)) drift = describeDrift(registered, desired)
      } catch (error) {
        drift = `cannot capture: ${(error as Error).message}`
      }
    } else {
      drift = 'not in the config (uncapture it, or add it back)'
    }
    statuses.push({
      source,
      configured: entry !== undefined,
      captured: live && registered !== undefined && registered.removedAt === null,
      schemaVersion: registered?.version ?? null,
      mode,
      viewPresent,
      changelogRows:
        mode === 'stream'
          ? await tableRows(client, source)
          : (counts.get(changelogTableName(splitSource(source))) ?? 0),
      drift,
    })
  }
  return statuses
}

/** Rows per source in its changelog table (all versions), from the active parts' row counts. */
async function changelogCounts(client: ClickHouseClient, database: string): Promise<Map<string, number>> {
  const result = await client.query({
    query: `SELECT table, sum(rows) AS n FROM system.parts
            WHERE database = {db:String} AND active AND startsWith(table, 'changelog_') GROUP BY table`,
    query_params: { db: database },
    format: 'JSONEachRow',
  })
  const byTable = new Map((await result.json<{ table: string; n: string }>()).map((r) => [r.table, Number(r.n)]))
  return byTable
}

/** Rows of a table, from its active parts. */
async function tableRows(client: ClickHouseClient, source: string): Promise<number> {
  const { database, table } = splitSource(source)
  const result = await client.query({
    query: 'SELECT sum(rows) AS n FROM system.parts WHERE database = {db:String} AND table = {table:String} AND active',
    query_params: { db: database, table },
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ n: string }>()
  return Number(row?.n ?? 0)
}
