import { qualifiedName, quoteIdentifier, quoteString } from '../clickhouse/sql.js'
import { CaptureError } from '../errors.js'
import type { CapturedColumn } from '../schema/clickhouse-type.js'
import { formatClickHouseType } from '../schema/parse-clickhouse-type.js'

/**
 * One changelog table per source (ARCHITECTURE.md, "Capture"): the captured columns copied natively, plus a few
 * columns of tailhouse's own. Native columns cost a source's INSERTs far less than one serialized payload column
 * (bench/capture-overhead) and let ClickHouse encode messages in the read query.
 *
 * - Not partitioned: INSERT deduplication (a retried INSERT with the same insert_deduplication_token) works per
 *   partition, and a retry must be deduplicated whenever it comes within the window, not only within the same hour.
 * - `ORDER BY tuple()`: `_block_offset` is insertion order. `_block_number` must never be in the sorting key.
 * - Block number and offset columns from creation: merges keep every row's identity.
 * - Retention drops whole parts once every row in them is older than retentionDays (`ttl_only_drop_parts`), so rows
 *   are kept at least that long, never rewritten.
 * - Never mutated: a source column's type change adds a column (see {@link planColumns}), it never modifies one, so
 *   rows already captured keep the exact values they were written with.
 */

/** tailhouse's own columns, in every changelog table, before the captured ones. */
export const metaColumns = {
  /** The source's schema version the row was captured with (registry `schema_version`). */
  schemaVersion: '__schema_version',
  /** When the row reached the changelog, by the server's clock. */
  ingest: '__ingest',
  /** queryID() of the INSERT. */
  queryId: '__query_id',
  /** insert, upsert, delete, retract (by source engine), read (snapshots). */
  op: '__op',
  /**
   * Empty, except for rows whose source columns no longer have the types of their schema version (an ALTER …
   * MODIFY COLUMN not migrated yet): 8 bytes of the types' fingerprint (UInt64, little endian), then the row in
   * RowBinary of those types. The native columns of such a row hold defaults. See capture-view.ts.
   */
  drift: '__drift',
} as const

export const opEnum = "Enum8('insert' = 1, 'upsert' = 2, 'delete' = 3, 'retract' = 4, 'read' = 5)"

const metaColumnNames = new Set<string>(Object.values(metaColumns))

/** `changelog_<db>__<table>` in the capture database. */
export function changelogTableName(source: { database: string; table: string }): string {
  return `changelog_${source.database}__${source.table}`
}

/** A captured column as the changelog stores it: the physical column and its type. */
export interface ChangelogColumn {
  /** The source column. */
  name: string
  /** Its type in the source when captured (`system.columns`). */
  type: string
  /** The changelog column holding it. */
  column: string
  /** The changelog column's type: the source type, but JSON, Dynamic and Variant as their JSON text (String). */
  wireType: string
}

/**
 * The type a captured column has in the changelog (see wireExpression in parse-clickhouse-type.ts): the source type,
 * but JSON, Dynamic and Variant as String, and Nested as the `Array(Tuple(...))` it is on the wire — a `Nested`
 * column in CREATE TABLE is split into one array per field under the default `flatten_nested = 1`, and the view's
 * column would then have no target.
 */
export function wireType(column: CapturedColumn): string {
  const type = column.type
  if (type.kind === 'json') return 'String'
  if (type.kind === 'nested') {
    return formatClickHouseType({ kind: 'array', element: { kind: 'tuple', elements: type.fields } })
  }
  return column.typeName
}

/**
 * Which changelog column holds each captured column of a new version: the column of the same name and type if the
 * table has one (a column kept, or back after a drop), else a new one — named like the source column, or
 * `<name>__v<version>` when that name holds another type already (a type change).
 *
 * @param existing the changelog's columns now (name → type); empty for a new table.
 */
export function planColumns(
  source: string,
  columns: readonly CapturedColumn[],
  version: number,
  existing: ReadonlyMap<string, string>,
): ChangelogColumn[] {
  const taken = new Map(existing)
  return columns.map((c) => {
    if (metaColumnNames.has(c.name)) {
      throw new CaptureError(
        source,
        `column ${c.name} has a name tailhouse's changelog uses itself; rename it or add it to exclude`,
      )
    }
    const type = wireType(c)
    let column = c.name
    if (taken.has(column) && taken.get(column) !== type) column = `${c.name}__v${version}`
    for (let n = 2; taken.has(column) && taken.get(column) !== type; n++) column = `${c.name}__v${version}_${n}`
    taken.set(column, type)
    return { name: c.name, type: c.typeName, column, wireType: type }
  })
}

export interface ChangelogTableSpec {
  /** The capture database. */
  database: string
  cluster: string | undefined
  source: { database: string; table: string }
  retentionDays: number
  dedupWindow: number
}

/**
 * CREATE TABLE of a source's changelog. On a cluster: one ReplicatedMergeTree per shard (the shard's replicas
 * share it), fed by views on the shard-local source tables.
 */
export function createChangelogSql(spec: ChangelogTableSpec, columns: readonly ChangelogColumn[]): string {
  const table = qualifiedName(spec.database, changelogTableName(spec.source))
  const on = spec.cluster ? ` ON CLUSTER ${quoteIdentifier(spec.cluster)}` : ''
  const engine = spec.cluster
    ? "ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')"
    : 'MergeTree'
  // Replicated tables also forget a token after replicated_deduplication_window_seconds (one hour by default): keep
  // them as long as the changelog keeps rows, so a retry is deduplicated within the window of blocks, as unreplicated.
  const dedup = spec.cluster
    ? `replicated_deduplication_window = ${spec.dedupWindow}, replicated_deduplication_window_seconds = ${spec.retentionDays * 86_400}`
    : `non_replicated_deduplication_window = ${spec.dedupWindow}`
  return [
    `CREATE TABLE IF NOT EXISTS ${table}${on}`,
    '(',
    [
      `    ${metaColumns.schemaVersion} UInt16`,
      `    ${metaColumns.ingest} DateTime64(6) DEFAULT now64(6)`,
      `    ${metaColumns.queryId} LowCardinality(String)`,
      `    ${metaColumns.op} ${opEnum}`,
      `    ${metaColumns.drift} String`,
      ...columns.map((c) => `    ${quoteIdentifier(c.column)} ${c.wireType}`),
    ].join(',\n'),
    ')',
    `ENGINE = ${engine}`,
    'ORDER BY tuple()',
    `TTL toDateTime(${metaColumns.ingest}) + INTERVAL ${spec.retentionDays} DAY`,
    `SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1, ttl_only_drop_parts = 1, ${dedup}`,
    `COMMENT ${quoteString(`tailhouse changelog of ${spec.source.database}.${spec.source.table}`)}`,
  ].join('\n')
}

/** ADD COLUMN for the changelog columns a new version needs (metadata only: no part is rewritten). */
export function addChangelogColumnsSql(spec: ChangelogTableSpec, columns: readonly ChangelogColumn[]): string {
  const table = qualifiedName(spec.database, changelogTableName(spec.source))
  const on = spec.cluster ? ` ON CLUSTER ${quoteIdentifier(spec.cluster)}` : ''
  const adds = columns.map((c) => `ADD COLUMN IF NOT EXISTS ${quoteIdentifier(c.column)} ${c.wireType}`)
  return `ALTER TABLE ${table}${on}\n${adds.join(',\n')}`
}

/** DROP of a changelog table: only for one that capture just created and that never had a view. */
export function dropChangelogSql(spec: ChangelogTableSpec): string {
  const table = qualifiedName(spec.database, changelogTableName(spec.source))
  const on = spec.cluster ? ` ON CLUSTER ${quoteIdentifier(spec.cluster)}` : ''
  return `DROP TABLE IF EXISTS ${table}${on} SYNC`
}
