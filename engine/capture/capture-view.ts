import { qualifiedName, quoteIdentifier, quoteString } from '../clickhouse/sql.js'
import type { CapturedColumn } from '../schema/clickhouse-type.js'
import { wireExpression } from '../schema/parse-clickhouse-type.js'
import type { SourceTable } from './source-table.js'

/** Everything that defines one captured version of a source. */
export interface CaptureSpec {
  source: SourceTable
  /** The database of the changelog. */
  database: string
  cluster: string | undefined
  version: number
  opExpression: string
  columns: CapturedColumn[]
}

/** The view's name in the changelog database: `capture_<db>__<table>`. */
export function viewName(source: { database: string; table: string }): string {
  return `capture_${source.database}__${source.table}`
}

/**
 * The view's SELECT: one changelog row per source row. The payload is the captured columns in RowBinary, made
 * with formatRow, never formatRowNoNewline: the latter strips a final 0x0A byte, which in binary is data (a UInt8
 * of 10, a string ending in a newline: about one row in 256 would be cut). The
 * fingerprint hashes their type names as the block has them (constant per block), so a payload is always
 * decoded by the types it was written with even if the source changed type before `migrate` ran again.
 */
export function viewSelect(spec: CaptureSpec): string {
  const names = spec.columns.map((c) => quoteIdentifier(c.name))
  return [
    'SELECT',
    `    ${quoteString(spec.source.source)} AS source,`,
    `    ${spec.opExpression} AS op,`,
    `    toUInt32(${spec.version}) AS schema_version,`,
    `    cityHash64(${names.map((n) => `toTypeName(${n})`).join(', ')}) AS schema_fingerprint,`,
    '    queryID() AS query_id,',
    "    getSetting('insert_deduplication_token') AS dedup_token,",
    `    formatRow('RowBinary', ${spec.columns.map(wireExpression).join(', ')}) AS payload`,
    `FROM ${qualifiedName(spec.source.database, spec.source.table)}`,
  ].join('\n')
}

function onCluster(spec: CaptureSpec): string {
  return spec.cluster ? ` ON CLUSTER ${quoteIdentifier(spec.cluster)}` : ''
}

/**
 * No IF NOT EXISTS: migrate creates the view only when no view of that name exists, and anything else holding the
 * name must fail loudly (and roll the source back) instead of being taken for a live capture.
 */
export function createViewSql(spec: CaptureSpec): string {
  const view = qualifiedName(spec.database, viewName(spec.source))
  return `CREATE MATERIALIZED VIEW ${view}${onCluster(spec)}\nTO ${qualifiedName(spec.database, 'changelog')}\nAS ${viewSelect(spec)}`
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
