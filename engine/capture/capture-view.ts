import { qualifiedName, quoteIdentifier, quoteString } from '../clickhouse/sql.js'
import type { CapturedColumn } from '../schema/clickhouse-type.js'
import { wireExpression } from '../schema/parse-clickhouse-type.js'
import { changelogTableName, metaColumns, wireType } from './changelog-table.js'
import type { SourceTable } from './source-table.js'

/** Everything that defines one captured version of a source. */
export interface CaptureSpec {
  source: SourceTable
  /** The database of the changelog. */
  database: string
  cluster: string | undefined
  version: number
  opExpression: string
  /** The captured columns in payload order, with the changelog columns holding them. */
  columns: Array<CapturedColumn & { column: string }>
  /** The fingerprint of the captured columns' types, as registered (fingerprintQuery). */
  fingerprint: string
}

/** The view's name in the changelog database: `capture_<db>__<table>`. */
export function viewName(source: { database: string; table: string }): string {
  return `capture_${source.database}__${source.table}`
}

/**
 * The view's SELECT: one changelog row per source row, the captured columns copied natively — as long as their types
 * are still those of the schema version. The fingerprint of the types is a constant per inserted block, so every
 * expression below takes one branch for the whole block, and ClickHouse evaluates only that one:
 *
 * - same types: each column goes to its changelog column as it is (the CAST is to the same type);
 * - a column's type changed (ALTER … MODIFY COLUMN) and `migrate` has not run since: copying into the changelog's
 *   columns would convert the values (70000 into a UInt16 column is 4464) or fail the INSERT. The row goes to the
 *   `__drift` column instead, as the fingerprint of its actual types followed by the row in RowBinary of those types,
 *   made with formatRow, never formatRowNoNewline (which strips a final 0x0A byte: data in binary); the native
 *   columns get defaults. The engine decodes it by the fingerprint once `migrate` has registered the new types.
 *
 * (One SELECT: a view over `UNION ALL` feeds only its first SELECT with the inserted rows.)
 */
export function viewSelect(spec: CaptureSpec): string {
  return captureSelect(spec)
}

/** How a SELECT like the view's reads the source when it is not fed by an INSERT (snapshots, audit). */
export interface CaptureSelectOptions {
  /** An SQL expression of the op instead of the spec's (e.g. `'read'` for snapshot rows). */
  op?: string
  /** Read the source with FINAL (ReplacingMergeTree, CollapsingMergeTree: the rows its merges would keep). */
  final?: boolean
  /** An SQL condition on the source's columns: only the rows it holds for. */
  where?: string
}

/**
 * The view's SELECT, also run over the source table itself: the rows as the view would have written them. With
 * FINAL or a condition the source is read in a subquery, so that the condition sees the table's columns and not the
 * SELECT's aliases (a JSON column's alias is its JSON text).
 */
export function captureSelect(spec: CaptureSpec, options: CaptureSelectOptions = {}): string {
  // Source columns are read qualified: `f(x) AS x` would otherwise refer to its own alias.
  const read = (c: CapturedColumn) => wireExpression(c, sourceAlias)
  const fingerprint = `cityHash64(${spec.columns.map((c) => `toTypeName(${sourceAlias}.${quoteIdentifier(c.name)})`).join(', ')})`
  const same = `${fingerprint} = ${spec.fingerprint}`
  const columns = [
    `toUInt16(${spec.version}) AS ${metaColumns.schemaVersion}`,
    `queryID() AS ${metaColumns.queryId}`,
    `${options.op ?? spec.opExpression} AS ${metaColumns.op}`,
    `if(${same}, '', concat(toFixedString(reinterpretAsString(${fingerprint}), 8), formatRow('RowBinary', ${spec.columns.map(read).join(', ')}))) AS ${metaColumns.drift}`,
    ...spec.columns.map((c) => {
      const type = quoteString(wireType(c))
      return `if(${same}, CAST(${read(c)}, ${type}), defaultValueOfTypeName(${type})) AS ${quoteIdentifier(c.column)}`
    }),
  ]
  const table = qualifiedName(spec.source.database, spec.source.table)
  const from =
    options.final || options.where
      ? `(SELECT ${spec.columns.map((c) => quoteIdentifier(c.name)).join(', ')} FROM ${table}${options.final ? ' FINAL' : ''}${options.where ? ` WHERE (${options.where})` : ''})`
      : table
  return [`SELECT ${columns.join(',\n    ')}`, `FROM ${from} AS ${sourceAlias}`].join('\n')
}

const sourceAlias = '__source'

function onCluster(spec: CaptureSpec): string {
  return spec.cluster ? ` ON CLUSTER ${quoteIdentifier(spec.cluster)}` : ''
}

/**
 * No IF NOT EXISTS: migrate creates the view only when no view of that name exists, and anything else holding the
 * name must fail loudly (and roll the source back) instead of being taken for a live capture.
 */
export function createViewSql(spec: CaptureSpec): string {
  const view = qualifiedName(spec.database, viewName(spec.source))
  const changelog = qualifiedName(spec.database, changelogTableName(spec.source))
  return `CREATE MATERIALIZED VIEW ${view}${onCluster(spec)}\nTO ${changelog}\nAS ${viewSelect(spec)}`
}

/**
 * Replaces the view's query in place. ALTER ... MODIFY QUERY swaps the SELECT of a TO-view atomically: every
 * INSERT runs either the old or the new query, so schema evolution has no window in which rows go uncaptured
 * (dropping and re-creating the view would have one) and none captured twice (two views side by side would).
 */
export function modifyViewSql(spec: CaptureSpec): string {
  return `ALTER TABLE ${qualifiedName(spec.database, viewName(spec.source))}${onCluster(spec)}\nMODIFY QUERY ${viewSelect(spec)}`
}

export function dropViewSql(
  source: { database: string; table: string },
  database: string,
  cluster: string | undefined,
): string {
  const on = cluster ? ` ON CLUSTER ${quoteIdentifier(cluster)}` : ''
  return `DROP VIEW IF EXISTS ${qualifiedName(database, viewName(source))}${on} SYNC`
}

/**
 * The fingerprint the view computes, for the registry. Hashing system.columns' type names would not do:
 * toTypeName prints some types differently (a named Tuple spans several lines), so the names are produced by
 * the same printer, from a value of each type.
 */
export function fingerprintQuery(columns: CapturedColumn[]): string {
  const names = columns.map((c) => `toTypeName(defaultValueOfTypeName(${quoteString(c.typeName)}))`)
  return `SELECT toString(cityHash64(${names.join(', ')})) AS fingerprint`
}
