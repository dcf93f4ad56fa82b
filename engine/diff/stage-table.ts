/**
 * A stage table: rows of a source copied in one read, as its view would write them into the changelog (the same
 * columns, from the view's own SELECT), each with its row hash (row-hash.ts). A snapshot publishes one (op `read`);
 * an audit diffs one against the changelog (settle.ts) and writes what is left into the changelog (`--repair`).
 *
 * Its own MergeTree with block number and offset columns, not partitioned, not TTL'd: read in cursor order like a
 * changelog, and never changed after it is sealed (an audit's diff deletes rows from it before).
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { type CaptureSelectOptions, type CaptureSpec, captureSelect } from '../capture/capture-view.js'
import { metaColumns } from '../capture/changelog-table.js'
import { qualifiedName, quoteIdentifier } from '../clickhouse/sql.js'
import { type ReadWindow, withReadWindow } from './insert-barrier.js'
import { rowHashSql } from './row-hash.js'

/** The row hash column of a stage table. */
export const stageHashColumn = '__row_hash'

/** CREATE of an empty stage table with the changelog's columns (CREATE … AS: every schema version's columns). */
export function createStageSql(database: string, stage: string, changelog: string): string[] {
  const table = qualifiedName(database, stage)
  return [
    `CREATE TABLE ${table} AS ${qualifiedName(database, changelog)}
     ENGINE = MergeTree ORDER BY tuple()
     SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1`,
    `ALTER TABLE ${table} ADD COLUMN ${stageHashColumn} FixedString(16)`,
  ]
}

export function dropStageSql(database: string, stage: string): string {
  return `DROP TABLE IF EXISTS ${qualifiedName(database, stage)} SYNC`
}

/** The hash of the source's rows as the view's SELECT makes them: column `h`. */
export function sourceHashesSql(spec: CaptureSpec, options: CaptureSelectOptions = {}): string {
  return `SELECT ${rowHashSql(spec.columns.map((c) => quoteIdentifier(c.column)))} AS h FROM (${captureSelect(spec, options)})`
}

/** INSERT … SELECT of the source's rows (as the view writes them, with their hash) into a stage table. */
export function copySourceSql(
  database: string,
  stage: string,
  spec: CaptureSpec,
  options: CaptureSelectOptions = {},
): string {
  const columns = [
    metaColumns.schemaVersion,
    metaColumns.queryId,
    metaColumns.op,
    metaColumns.drift,
    ...spec.columns.map((c) => quoteIdentifier(c.column)),
  ]
  const hash = rowHashSql(spec.columns.map((c) => quoteIdentifier(c.column)))
  return `INSERT INTO ${qualifiedName(database, stage)} (${[...columns, stageHashColumn].join(', ')})
SELECT ${columns.join(', ')}, ${hash} FROM (${captureSelect(spec, options)})`
}

/** Copies the source into a stage table, in the window of two looks at the INSERTs running (insert-barrier.ts). */
export async function copySource(
  client: ClickHouseClient,
  database: string,
  stage: string,
  spec: CaptureSpec,
  options: CaptureSelectOptions = {},
): Promise<ReadWindow> {
  const { window } = await withReadWindow(client, () =>
    client.command({ query: copySourceSql(database, stage, spec, options) }),
  )
  return window
}

/** Rows of a stage table, and the cursor position (block, offset) of its last one; undefined when empty. */
export async function stageExtent(
  client: ClickHouseClient,
  database: string,
  stage: string,
): Promise<{ rows: number; last: { blockNumber: bigint; blockOffset: bigint } | undefined }> {
  const result = await client.query({
    query: `SELECT count() AS n, toString(max(_block_number)) AS b,
                   toString(argMax(_block_offset, (_block_number, _block_offset))) AS o
            FROM ${qualifiedName(database, stage)}`,
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ n: string | number; b: string; o: string }>()
  const rows = Number(row?.n ?? 0)
  return {
    rows,
    last: rows === 0 ? undefined : { blockNumber: BigInt(row?.b ?? 0), blockOffset: BigInt(row?.o ?? 0) },
  }
}
