import type { ClickHouseClient } from '@clickhouse/client'
import { qualifiedName, quoteIdentifier } from '../clickhouse/sql.js'
import { CaptureError } from '../errors.js'
import type { SourceTable } from './source-table.js'

/**
 * What stream mode (`capture.sources[].mode: stream`, ARCHITECTURE.md "Stream mode") needs of the server and of a
 * source table, and the one change `migrate` makes to the table. No view and no changelog: the engine reads the
 * source itself with `SELECT … FROM t STREAM [CURSOR {…}]` (engine/source/stream-source.ts).
 */

/** `SELECT … STREAM` and `enable_streaming_queries` arrived in ClickHouse 26.6. */
export const streamMinimumVersion = [26, 6] as const

/** True when a server of `version` with (or without) the enable_streaming_queries setting can serve stream mode. */
export function serverHasStream(version: string, hasSetting: boolean): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  const [wantMajor, wantMinor] = streamMinimumVersion
  return hasSetting && (major > wantMajor || (major === wantMajor && minor >= wantMinor))
}

/** Refuses servers without `SELECT … STREAM`, naming the version needed. */
export async function checkStreamSupport(client: ClickHouseClient, source: string): Promise<void> {
  const result = await client.query({
    query: `SELECT version() AS v,
                   (SELECT count() FROM system.settings WHERE name = 'enable_streaming_queries') AS has_setting`,
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ v: string; has_setting: string | number }>()
  const version = row?.v ?? '0.0'
  if (serverHasStream(version, Number(row?.has_setting ?? 0) > 0)) return
  const [major, minor] = streamMinimumVersion
  throw new CaptureError(
    source,
    `mode stream reads the table with SELECT … STREAM, which ClickHouse ${version} does not have: it needs ` +
      `ClickHouse ${major}.${minor} or newer (setting enable_streaming_queries). Upgrade the server, or capture ` +
      'this source with mode: view',
  )
}

/**
 * Why a source cannot be read in stream mode, or undefined when it can. A STREAM read sees the table's rows as they
 * are when read, not as they were inserted: merges that combine rows must never take away a change the engine has
 * not read yet. Checked in embedded ClickHouse 26.7 (test/capture/stream-capture.integration.test.ts):
 * - MergeTree never combines rows; ReplacingMergeTree keeps the surviving (latest) row at its own position, so it is
 *   read even when the rows it replaced were not;
 * - SummingMergeTree keeps the FIRST row's position for the merged sum: rows summed into a row already read are
 *   never read;
 * - (Versioned)CollapsingMergeTree cancels a −1 row with its +1: when the +1 was read already, the −1 is never read
 *   and a consumer keeps a row the table no longer has.
 */
export function streamEngineProblem(source: SourceTable): string | undefined {
  const engine = source.engine.replace(/^Replicated(?=\w*MergeTree$)/, '')
  if (engine === 'MergeTree' || engine === 'ReplacingMergeTree') return undefined
  if (engine === 'SummingMergeTree')
    return 'a SummingMergeTree merge adds later rows into the first row of their key, which the engine may have read already: those rows would never be published. Capture it with mode: view'
  if (engine === 'CollapsingMergeTree' || engine === 'VersionedCollapsingMergeTree')
    return `a ${engine} merge cancels a −1 row with its +1 row; when the +1 was published already, the −1 would never be. Capture it with mode: view`
  if (engine.endsWith('MergeTree'))
    return `mode stream reads MergeTree and ReplacingMergeTree tables only, not ${source.engine}. Capture it with mode: view`
  return `mode stream reads a table's parts in commit order; a ${source.engine} table has none (only MergeTree-family tables do). Capture it with mode: view`
}

/** True when the table persists `_block_number` and `_block_offset` (both settings on, from its engine_full). */
export async function blockColumnsEnabled(
  client: ClickHouseClient,
  source: { database: string; table: string },
): Promise<boolean> {
  const result = await client.query({
    query: 'SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {table:String}',
    query_params: { db: source.database, table: source.table },
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ engine_full: string }>()
  const settings = row?.engine_full ?? ''
  return (
    /\benable_block_number_column = (1|true)\b/.test(settings) &&
    /\benable_block_offset_column = (1|true)\b/.test(settings)
  )
}

/**
 * Turns both block columns on: from then on every row keeps its insert's block number and its offset in that block
 * through merges (_(checked)_: an ALTER on an existing table works, and later merges keep the values).
 */
export function enableBlockColumnsSql(source: SourceTable, cluster: string | undefined): string {
  const on = cluster ? ` ON CLUSTER ${quoteIdentifier(cluster)}` : ''
  return (
    `ALTER TABLE ${qualifiedName(source.database, source.table)}${on} ` +
    'MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1'
  )
}

/**
 * What turning the block columns on means for the rows already in the table, as a line for migrate's log. Parts
 * merged before it hold no persisted block columns: every row of such a part reads as the part's first block number,
 * offset = its position in the part (sorting-key order) _(checked)_. Those rows are still each read once, the cursor
 * stays unique, and later merges keep these values; only their order is the sorting key's, not the INSERTs'.
 */
export async function describeExistingParts(client: ClickHouseClient, source: SourceTable): Promise<string> {
  const result = await client.query({
    query: `SELECT count() AS n_parts, countIf(level > 0) AS n_merged, sum(rows) AS n_rows,
                   sumIf(rows, level > 0) AS n_merged_rows
            FROM system.parts WHERE database = {db:String} AND table = {table:String} AND active`,
    query_params: { db: source.database, table: source.table },
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ n_parts: string; n_merged: string; n_rows: string; n_merged_rows: string }>()
  const merged = Number(row?.n_merged ?? 0)
  const intro =
    `${source.source}: turning on enable_block_number_column and enable_block_offset_column ` +
    '(ALTER TABLE … MODIFY SETTING): from now on every row keeps its INSERT block number and offset through merges, ' +
    'and the engine reads the table from its first block (the rows already in it first, then every later INSERT).'
  if (merged === 0) return `${intro} No part was merged before: every existing row keeps its INSERT position too.`
  return (
    `${intro} ${merged} of its ${row?.n_parts} active parts (${row?.n_merged_rows} of ${row?.n_rows} rows) were merged ` +
    "before this: their rows carry their part's first block number and their position in sorting-key order, so " +
    'they are read once each, but in sorting-key order rather than INSERT order.'
  )
}
