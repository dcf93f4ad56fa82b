import type { ClickHouseClient } from '@clickhouse/client'
import { quoteIdentifier, quoteString } from '../clickhouse/sql.js'

/** A captured column of a version: source name and type, Row field number, changelog column. */
export interface RegisteredColumn {
  name: string
  type: string
  field: number
  column: string
}

/** One captured version of a source, as recorded in `<capture db>.sources` (migrations/0002_sources.sql). */
export interface RegisteredVersion {
  source: string
  version: number
  /** cityHash64 of the captured type names, as decimal text (UInt64). */
  fingerprint: string
  /** Captured columns in payload order, with their Protobuf field numbers and the changelog columns holding them. */
  columns: RegisteredColumn[]
  /**
   * The Protobuf field-number ledger of this version (generateRowProto's fieldNumbers): live columns map to their
   * numbers, dropped ones to minus their last number, so numbers are never reused by a later version.
   */
  fieldNumbers: Record<string, number>
  opExpression: string
  protoFile: string
  removedAt: string | null
  /** view: rows come from the source's changelog table; stream: from the source table itself (stream-capture.ts). */
  mode: CaptureMode
}

export type CaptureMode = 'view' | 'stream'

interface RegistryRow {
  source: string
  schema_version: number
  schema_fingerprint: string
  columns: string
  field_numbers: string
  op_expression: string
  proto_file: string
  removed_at: string | null
  capture_mode: string
}

/** Every registered version, oldest first; empty when the registry does not exist yet. */
export async function readRegistry(client: ClickHouseClient, database: string): Promise<RegisteredVersion[]> {
  const exists = await client.query({
    query: "SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = 'sources'",
    query_params: { db: database },
    format: 'JSONEachRow',
  })
  const [row] = await exists.json<{ n: string | number }>()
  if (Number(row?.n ?? 0) === 0) return []
  const result = await client.query({
    query: `SELECT source, schema_version, toString(schema_fingerprint) AS schema_fingerprint, columns, field_numbers, op_expression,
                   proto_file, removed_at, capture_mode
            FROM ${quoteIdentifier(database)}.sources FINAL ORDER BY source, schema_version`,
    format: 'JSONEachRow',
  })
  return (await result.json<RegistryRow>()).map((r) => ({
    source: r.source,
    version: Number(r.schema_version),
    fingerprint: r.schema_fingerprint,
    columns: JSON.parse(r.columns) as RegisteredVersion['columns'],
    fieldNumbers: JSON.parse(r.field_numbers) as RegisteredVersion['fieldNumbers'],
    opExpression: r.op_expression,
    protoFile: r.proto_file,
    removedAt: r.removed_at,
    mode: r.capture_mode === 'stream' ? 'stream' : 'view',
  }))
}

/** The newest version of each source. */
export function latestVersions(versions: RegisteredVersion[]): Map<string, RegisteredVersion> {
  const latest = new Map<string, RegisteredVersion>()
  for (const v of versions) {
    const current = latest.get(v.source)
    if (!current || v.version > current.version) latest.set(v.source, v)
  }
  return latest
}

/** Records (or re-activates) a version; ReplacingMergeTree keeps the row with the newest updated_at. */
export function registerVersionSql(database: string, v: RegisteredVersion): string {
  return (
    `INSERT INTO ${quoteIdentifier(database)}.sources ` +
    '(source, schema_version, schema_fingerprint, columns, field_numbers, op_expression, proto_file, removed_at, ' +
    'capture_mode) VALUES ' +
    `(${quoteString(v.source)}, ${v.version}, ${v.fingerprint}, ${quoteString(JSON.stringify(v.columns))}, ` +
    `${quoteString(JSON.stringify(v.fieldNumbers))}, ` +
    `${quoteString(v.opExpression)}, ${quoteString(v.protoFile)}, ${v.removedAt === null ? 'NULL' : 'now64(3)'}, ` +
    `${quoteString(v.mode)})`
  )
}

/** Forgets a version that never went live (rollback of a failed capture). */
export function unregisterVersionSql(
  database: string,
  cluster: string | undefined,
  source: string,
  version: number,
): string {
  const on = cluster ? ` ON CLUSTER ${quoteIdentifier(cluster)}` : ''
  return `DELETE FROM ${quoteIdentifier(database)}.sources${on} WHERE source = ${quoteString(source)} AND schema_version = ${version}`
}
