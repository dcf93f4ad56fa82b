/**
 * The table a snapshot is published from, `snapshot_<db>__<table>__<id>` in the capture database: the changelog's
 * columns (every schema version's, so the changelog's own read query reads it), and `__seq`, the rows numbered
 * 0, 1, 2, … and sorted by it. A read from a position is then a range of the sorting key: it reads the rows it
 * returns and no others, however large the table (a changelog-like read in block order would sort the whole rest of
 * the table at every read). Written once, when the snapshot is built, never changed, dropped once published.
 */
import { type CaptureSelectOptions, type CaptureSpec, captureSelect } from '../capture/capture-view.js'
import { metaColumns } from '../capture/changelog-table.js'
import { qualifiedName, quoteIdentifier } from '../clickhouse/sql.js'

export const sequenceColumn = '__seq'

/** CREATE of the empty table, with the changelog's columns as they are now. */
export function createSnapshotTableSql(database: string, table: string, changelog: string): string {
  return `CREATE TABLE ${qualifiedName(database, table)}
ENGINE = MergeTree ORDER BY ${sequenceColumn}
AS SELECT *, toUInt64(0) AS ${sequenceColumn} FROM ${qualifiedName(database, changelog)} LIMIT 0`
}

function columnsOf(spec: CaptureSpec): string[] {
  return [
    metaColumns.schemaVersion,
    metaColumns.queryId,
    metaColumns.op,
    metaColumns.drift,
    ...spec.columns.map((c) => quoteIdentifier(c.column)),
  ]
}

/** INSERT … SELECT of the source's rows as the view writes them, with op `read`, numbered. */
export function fillFromSourceSql(
  database: string,
  table: string,
  spec: CaptureSpec,
  options: CaptureSelectOptions,
): string {
  const columns = columnsOf(spec)
  return `INSERT INTO ${qualifiedName(database, table)} (${[metaColumns.ingest, ...columns, sequenceColumn].join(', ')})
SELECT now64(6), ${columns.join(', ')}, rowNumberInAllBlocks() FROM (${captureSelect(spec, { ...options, op: "'read'" })})`
}

/** INSERT … SELECT of what a diff left in a stage table (engine/diff/stage-table.ts), numbered. */
export function fillFromStageSql(database: string, table: string, stage: string, spec: CaptureSpec): string {
  const columns = columnsOf(spec)
  return `INSERT INTO ${qualifiedName(database, table)} (${[metaColumns.ingest, ...columns, sequenceColumn].join(', ')})
SELECT now64(6), ${columns.join(', ')}, rowNumberInAllBlocks() FROM ${qualifiedName(database, stage)}`
}
