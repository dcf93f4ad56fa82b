/**
 * The queries of stream mode (ARCHITECTURE.md, "Stream mode"): reading a source table itself, in commit order, with
 * `SELECT … FROM t STREAM [CURSOR {…}]` — no view, no changelog. The read reuses the changelog query
 * (changelog-query.ts) over a subquery that gives the table's rows the changelog's shape, so ClickHouse computes the
 * key, the partition and (protobuf) the whole message value exactly as in view mode.
 *
 * A STREAM query never ends by itself: it is a continuous query that waits for new rows. Each read is bounded twice:
 * by `LIMIT`, set to rows that exist (counted by {@link pendingQuery} first), and by `max_execution_time` with
 * `timeout_overflow_mode = 'break'`, which ends it with the rows it has (_checked_ in chDB 26.7). Embedded ClickHouse
 * runs one query at a time, so a STREAM read that waited for rows would hold every INSERT back (_checked_): reads
 * never wait for rows that are not there.
 */
import { metaColumns, opEnum } from '../capture/changelog-table.js'
import { qualifiedName, quoteIdentifier, quoteString } from '../clickhouse/sql.js'
import type { CapturedColumn } from '../schema/clickhouse-type.js'
import { wireExpression } from '../schema/parse-clickhouse-type.js'
import { type ChangelogQuery, changelogQuery, type VersionColumns } from './changelog-query.js'
import { type Cursor, splitCursorKey } from './cursor.js'

export interface StreamQueryInput {
  /** `db.table` of the source. */
  source: string
  /** The newest registered version: every row is read with its columns (the table has no others now). */
  version: VersionColumns & { opExpression: string; fingerprint: string }
  encoding: 'protobuf' | 'rowbinary'
  protobuf: { timestamps: 'timestamp' | 'int64'; enums: 'enum' | 'string' }
  /** Server-side bound of one read, ms: max_execution_time, ended with the rows read so far. */
  readTimeoutMs: number
}

/** The message of the guard that stops a read when the table's column types are no longer the version's. */
export const typesChangedMarker = 'tailhouse: column types changed'

const sourceAlias = '__source'

/**
 * The read: the changelog query (parameters {limit}, {partitions}, and the bound {bb}, {bo}) whose `{stream_cursor}`
 * stands for {@link streamCursorClause}. It returns the rows after the cursor up to (block number, offset) = (bb, bo)
 * in (block number, block offset) order. The bound makes that order hold across partitions: a STREAM read emits one
 * partition after the other, so `LIMIT` alone would take later blocks of one partition before earlier ones of the
 * next _(checked)_; with the bound at the LIMIT-th row after the cursor, the rows it takes are the first ones.
 * The outer ORDER BY returns nothing when the read ends by its timeout before LIMIT _(checked)_: a read is all or
 * nothing, never a partial set in the wrong order. Per row: schema version = the newest, op = the source engine's mapping
 * (capture/op-mapping.ts) over the row, query id '' and ingest time = when read (a table keeps neither per row).
 * A guard compares the types of the captured columns with the version's fingerprint (computed as the capture view
 * computes it): after an ALTER … MODIFY COLUMN not yet migrated the read fails naming it, instead of encoding values
 * of the new type with the old schema.
 */
export function streamQuery(input: StreamQueryInput): ChangelogQuery {
  const { version } = input
  const { database, table } = splitSource(input.source)
  const read = (c: CapturedColumn) => wireExpression(c, sourceAlias)
  const fingerprint = `cityHash64(${version.columns.map((c) => `toTypeName(${sourceAlias}.${quoteIdentifier(c.name)})`).join(', ')})`
  const columns = [
    `toUInt16(${version.version}) AS ${metaColumns.schemaVersion}`,
    `now64(6) AS ${metaColumns.ingest}`,
    `'' AS ${metaColumns.queryId}`,
    `CAST(${version.opExpression}, ${quoteString(opEnum)}) AS ${metaColumns.op}`,
    `'' AS ${metaColumns.drift}`,
    ...version.columns.map((c) => `${read(c)} AS ${quoteIdentifier(c.column)}`),
    // The virtual columns, passed on under their own names for the outer (changelog) query.
    '_partition_id AS _partition_id',
    '_block_number AS _block_number',
    '_block_offset AS _block_offset',
  ]
  const guard = `throwIf(${fingerprint} != ${version.fingerprint}, ${quoteString(`${typesChangedMarker} since schema version ${version.version}`)}) = 0`
  const from = `(
  SELECT ${columns.join(',\n    ')}
  FROM ${qualifiedName(database, table)} AS ${sourceAlias} STREAM {stream_cursor}
  WHERE ${guard} AND (_block_number, _block_offset) <= ({bb:UInt64}, {bo:UInt64})
  LIMIT {limit:UInt32}
)`
  const query = changelogQuery({
    database: '',
    source: input.source,
    versions: [version],
    encoding: input.encoding,
    protobuf: input.protobuf,
    from,
  })
  // STREAM is refused with parallel replicas (ClickHouse #113754): never ask for them.
  const settings =
    `enable_streaming_queries = 1, max_execution_time = ${(input.readTimeoutMs / 1000).toFixed(3)}, ` +
    "timeout_overflow_mode = 'break', enable_parallel_replicas = 0"
  return { ...query, sql: `${query.sql}, ${settings}` }
}

/**
 * `CURSOR {'<partition>': {'block_number': N, 'block_offset': M}, …}` for the cursor's partitions of `source`, or ''
 * when it has none (the read starts at the table's first block). A STREAM cursor is exclusive — the read starts
 * after (N, M) — like ours; partitions it does not name are read from their start _(checked)_.
 */
export function streamCursorClause(cursor: Cursor, source: string): string {
  const entries: string[] = []
  for (const [key, position] of cursor) {
    const { source: s, partitionId } = splitCursorKey(key)
    if (s !== source) continue
    entries.push(
      `${quoteString(partitionId)}: {'block_number': ${position.blockNumber}, 'block_offset': ${position.blockOffset}}`,
    )
  }
  return entries.length === 0 ? '' : `CURSOR {${entries.join(', ')}}`
}

/**
 * Rows after the cursor, as literal SQL: per partition the cursor knows, past its position; any other partition,
 * all of it. Literals, not `transform()` over array parameters: per row, that costs several times more _(checked)_,
 * and these conditions run over every row after the cursor.
 */
export function afterCursorSql(cursor: Cursor, source: string): string {
  const known: string[] = []
  const after: string[] = []
  for (const [key, position] of cursor) {
    const { source: s, partitionId } = splitCursorKey(key)
    if (s !== source) continue
    const partition = quoteString(partitionId)
    known.push(partition)
    after.push(
      `(_partition_id = ${partition} AND (_block_number, _block_offset) > (${position.blockNumber}, ${position.blockOffset}))`,
    )
  }
  if (known.length === 0) return '1'
  return `(${[...after, `_partition_id NOT IN (${known.join(', ')})`].join(' OR ')})`
}

/**
 * How many rows are after the cursor (`{after}`: {@link afterCursorSql}) and at or before block {horizon}, and the
 * last one's position: a plain read of the table, which the STREAM read then takes exactly (its LIMIT and bound).
 */
export function pendingQuery(source: string): string {
  const { database, table } = splitSource(source)
  return `SELECT toString(count()) AS n, toString(max(_block_number)) AS b,
       toString(argMax(_block_offset, (_block_number, _block_offset))) AS o
FROM ${qualifiedName(database, table)}
WHERE {after} AND _block_number <= {horizon:UInt64}`
}

/**
 * The position of the row after the cursor (`{after}`) that {skip:UInt64} rows precede, in (block number, block
 * offset) order, among rows at or before block {horizon}.
 */
export function boundaryQuery(source: string): string {
  const { database, table } = splitSource(source)
  return `SELECT toString(_block_number) AS b, toString(_block_offset) AS o FROM ${qualifiedName(database, table)}
WHERE {after} AND _block_number <= {horizon:UInt64}
ORDER BY _block_number, _block_offset
LIMIT 1 OFFSET {skip:UInt64}`
}

/**
 * Rows after the cursor (`{after}`) and at or before the bound ({bb}, {bo}): after a read that returned fewer rows
 * than it was bounded to take, whether they are gone (merged away, deleted, expired) or there and not returned.
 */
export function rangeQuery(source: string): string {
  const { database, table } = splitSource(source)
  return `SELECT toString(count()) AS n FROM ${qualifiedName(database, table)}
WHERE {after} AND (_block_number, _block_offset) <= ({bb:UInt64}, {bo:UInt64})`
}

/** The active parts of a table: partition, highest block number, rows (for {@link readHorizon}). */
export function partsOfQuery(source: string): { query: string; query_params: Record<string, string> } {
  const { database, table } = splitSource(source)
  return {
    query: `SELECT partition_id, toString(max_block_number) AS max_block, toString(rows) AS rows FROM system.parts
            WHERE database = {db:String} AND table = {table:String} AND active`,
    query_params: { db: database, table },
  }
}

/**
 * The lowest block number such that the parts holding rows after the cursor, up to it, hold at least `rows` rows
 * (their whole row counts: a part the cursor is inside of counts in full), or the highest block of all when they
 * hold fewer: a read counts and sorts rows only up to there, not the whole backlog (a snapshot of a large table).
 */
export function readHorizon(
  parts: ReadonlyArray<{ partition_id: string; max_block: string; rows: string }>,
  cursor: Cursor,
  source: string,
  rows: number,
): { horizon: bigint; all: boolean } {
  const after = parts
    .map((p) => ({
      maxBlock: BigInt(p.max_block),
      rows: Number(p.rows),
      at: cursor.get(`${source}/${p.partition_id}`),
    }))
    .filter((p) => p.at === undefined || p.maxBlock >= p.at.blockNumber)
    .sort((a, b) => (a.maxBlock < b.maxBlock ? -1 : a.maxBlock > b.maxBlock ? 1 : 0))
  let total = 0
  for (const [i, part] of after.entries()) {
    total += part.rows
    if (total >= rows) return { horizon: part.maxBlock, all: i === after.length - 1 }
  }
  return { horizon: after.at(-1)?.maxBlock ?? 0n, all: true }
}

function splitSource(source: string): { database: string; table: string } {
  const dot = source.indexOf('.')
  return { database: source.slice(0, dot), table: source.slice(dot + 1) }
}
