/**
 * The snapshots of an engine (migrations/0003_snapshots.sql): one row per snapshot, replaced as it moves on —
 * requested (by `tailhouse snapshot`) → building (the engine holds the source's changelog at `holdBlock` and copies
 * the rows) → publishing (sealed: its rows and last cursor known) → done; or failed. Which of its rows are in Kafka is
 * the checkpoint's to say, not this table's: `published` is progress for people.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { qualifiedName, quoteIdentifier } from '../clickhouse/sql.js'
import type { Position } from '../source/cursor.js'

export type SnapshotKind = 'initial' | 'on-demand'
export type SnapshotStatus = 'requested' | 'building' | 'publishing' | 'done' | 'failed'

export interface SnapshotRecord {
  engineId: string
  source: string
  /** Unique per engine and source; snapshots of a source are published in id order. */
  id: number
  kind: SnapshotKind
  /** A condition on the source's columns; '' for every row. */
  where: string
  /** Publishing throttle, rows per second; 0: none. */
  rowsPerSecond: number
  status: SnapshotStatus
  /** Changelog rows up to this block are published before the snapshot, later ones after; -1n: all after. */
  holdBlock: bigint
  rows: number
  /** Cursor position of the last row, once built (undefined when empty or not built). */
  last: Position | undefined
  published: number
  detail: string
  requestedAt: string
}

const table = (database: string) => qualifiedName(database, 'snapshots')

/** The table's name for a snapshot's rows: `snapshot_<db>__<table>__<id>` in the capture database. */
export function snapshotTableName(source: string, id: number): string {
  return `snapshot_${source.replace('.', '__')}__${id}`
}

const streamPrefix = 'snapshot-'

/** The cursor stream of a snapshot's rows: `<db.table>/snapshot-<id>`; its partition id is `snapshot-<id>`. */
export function snapshotPartition(id: number): string {
  return `${streamPrefix}${id}`
}

/** True for the partition id of a snapshot's stream (never one of a changelog: those are `all` or ClickHouse's). */
export function isSnapshotPartition(partitionId: string): boolean {
  return partitionId.startsWith(streamPrefix)
}

export async function snapshotsTableExists(client: ClickHouseClient, database: string): Promise<boolean> {
  const result = await client.query({
    query: "SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = 'snapshots'",
    query_params: { db: database },
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ n: string | number }>()
  return Number(row?.n ?? 0) > 0
}

interface Row {
  engine_id: string
  source: string
  id: string
  kind: SnapshotKind
  where_clause: string
  rows_per_second: number
  status: SnapshotStatus
  hold_block: string
  rows: string
  last_block: string
  last_offset: string
  published: string
  detail: string
  requested_at: string
}

/** The engine's snapshots (of one source, when given), oldest first. */
export async function readSnapshots(
  client: ClickHouseClient,
  database: string,
  engineId: string,
  source?: string,
): Promise<SnapshotRecord[]> {
  const result = await client.query({
    query: `SELECT engine_id, source, toString(id) AS id, kind, where_clause, rows_per_second, status,
                   toString(hold_block) AS hold_block, toString(rows) AS rows, toString(last_block) AS last_block,
                   toString(last_offset) AS last_offset, toString(published) AS published, detail,
                   toString(requested_at) AS requested_at
            FROM ${table(database)} FINAL
            WHERE engine_id = {engine:String} ${source === undefined ? '' : 'AND source = {source:String}'}
            ORDER BY source, id`,
    query_params: { engine: engineId, source: source ?? '' },
    format: 'JSONEachRow',
  })
  return (await result.json<Row>()).map((r) => ({
    engineId: r.engine_id,
    source: r.source,
    id: Number(r.id),
    kind: r.kind,
    where: r.where_clause,
    rowsPerSecond: Number(r.rows_per_second),
    status: r.status,
    holdBlock: BigInt(r.hold_block),
    rows: Number(r.rows),
    last:
      Number(r.rows) > 0 && r.status !== 'building' && r.status !== 'requested'
        ? { blockNumber: BigInt(r.last_block), blockOffset: BigInt(r.last_offset) }
        : undefined,
    published: Number(r.published),
    detail: r.detail,
    requestedAt: r.requested_at,
  }))
}

/** Records a snapshot's state (a new row replaces the previous one of the same engine, source and id). */
export async function writeSnapshot(client: ClickHouseClient, database: string, record: SnapshotRecord): Promise<void> {
  await client.insert({
    table: `${quoteIdentifier(database)}.snapshots`,
    format: 'JSONEachRow',
    values: [
      {
        engine_id: record.engineId,
        source: record.source,
        id: record.id,
        kind: record.kind,
        where_clause: record.where,
        rows_per_second: record.rowsPerSecond,
        status: record.status,
        hold_block: record.holdBlock.toString(),
        rows: record.rows,
        last_block: (record.last?.blockNumber ?? 0n).toString(),
        last_offset: (record.last?.blockOffset ?? 0n).toString(),
        published: record.published,
        detail: record.detail,
        // A new request takes the server's time.
        ...(record.requestedAt === '' ? {} : { requested_at: record.requestedAt }),
      },
    ],
  })
}

/** A new snapshot id: the time in ms, later than every id the engine has for the source. */
export function nextSnapshotId(existing: readonly SnapshotRecord[]): number {
  return Math.max(Date.now(), ...existing.map((r) => r.id + 1))
}
