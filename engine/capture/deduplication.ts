import type { ClickHouseClient } from '@clickhouse/client'
import { qualifiedName } from '../clickhouse/sql.js'
import { splitSource } from './source-table.js'

/**
 * Whether a source deduplicates retried INSERTs — the half of the capture-boundary contract (ARCHITECTURE.md,
 * "Capture") that lives on the source table. A materialized view is not atomic with its source: an INSERT cut off
 * between the source's write and the view's (a crash, a failed view write) leaves rows capture never saw. A retry of
 * that INSERT with the same insert_deduplication_token brings them to the changelog exactly once (the changelog drops
 * a copy by its token); for the table itself to hold them once too, it must skip the rows it already has, which a
 * ReplicatedMergeTree does by default and a MergeTree only with non_replicated_deduplication_window > 0.
 */
export interface SourceDeduplication {
  source: string
  deduplicates: boolean
  /** What was found, e.g. "MergeTree with non_replicated_deduplication_window = 0". */
  detail: string
  /** What to do, when it does not deduplicate. */
  fix?: string
  /** The MergeTree setting holding its window, for a MergeTree-family source. */
  setting?: string
}

/** Replicated engines keep the hashes of this many recent blocks unless set otherwise. */
const windows = { replicated: 'replicated_deduplication_window', plain: 'non_replicated_deduplication_window' }

export async function sourceDeduplication(
  client: ClickHouseClient,
  sources: readonly string[],
  suggestedWindow: number,
): Promise<SourceDeduplication[]> {
  if (sources.length === 0) return []
  const result = await client.query({
    query: `SELECT concat(database, '.', name) AS source, engine, engine_full FROM system.tables
            WHERE concat(database, '.', name) IN {sources:Array(String)}`,
    query_params: { sources: [...sources] },
    format: 'JSONEachRow',
  })
  const tables = new Map(
    (await result.json<{ source: string; engine: string; engine_full: string }>()).map((t) => [t.source, t]),
  )
  const defaults = await serverDefaults(client)
  return sources.map((source): SourceDeduplication => {
    const table = tables.get(source)
    if (!table) return { source, deduplicates: false, detail: 'no such table' }
    if (table.engine === 'Null') {
      return { source, deduplicates: true, detail: 'Null keeps no rows; the changelog drops a retry by its token' }
    }
    if (!table.engine.endsWith('MergeTree')) {
      return {
        source,
        deduplicates: false,
        detail: `${table.engine} cannot deduplicate INSERTs`,
        fix:
          'a retried INSERT is written to the table twice while capture records it once (the changelog drops the ' +
          'copy by its token); use a MergeTree-family table where the table must match Kafka, and compare with ' +
          'tailhouse audit',
      }
    }
    const setting = table.engine.startsWith('Replicated') ? windows.replicated : windows.plain
    const window = settingOf(table.engine_full, setting) ?? defaults.get(setting) ?? 0
    if (window > 0)
      return { source, deduplicates: true, detail: `${table.engine} with ${setting} = ${window}`, setting }
    return {
      source,
      deduplicates: false,
      setting,
      detail: `${table.engine} with ${setting} = 0`,
      fix:
        `ALTER TABLE ${qualifiedName(splitSource(source).database, splitSource(source).table)} MODIFY SETTING ` +
        `${setting} = ${suggestedWindow} (or tailhouse migrate --set-dedup-window), so that a retried INSERT with ` +
        'the same insert_deduplication_token is written to the table once, as capture records it once',
    }
  })
}

/** A MergeTree setting in a table's engine_full (`… SETTINGS a = 1, b = 2`), if set there. */
function settingOf(engineFull: string, name: string): number | undefined {
  const match = engineFull.match(new RegExp(`\\b${name}\\s*=\\s*(\\d+)`))
  return match ? Number(match[1]) : undefined
}

async function serverDefaults(client: ClickHouseClient): Promise<Map<string, number>> {
  const result = await client.query({
    query: `SELECT name, value FROM system.merge_tree_settings WHERE name IN {names:Array(String)}`,
    query_params: { names: Object.values(windows) },
    format: 'JSONEachRow',
  })
  return new Map((await result.json<{ name: string; value: string }>()).map((r) => [r.name, Number(r.value)]))
}

/** ALTER statements that give the MergeTree sources without deduplication a window of `window` blocks. */
export function setDedupWindowSql(found: readonly SourceDeduplication[], window: number): string[] {
  return found
    .filter((d) => !d.deduplicates && d.setting !== undefined)
    .map((d) => {
      const { database, table } = splitSource(d.source)
      return `ALTER TABLE ${qualifiedName(database, table)} MODIFY SETTING ${d.setting} = ${window}`
    })
}
