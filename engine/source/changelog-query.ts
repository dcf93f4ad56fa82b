/**
 * The query that reads one source's changelog after the cursor, in (block number, block offset) order, with the
 * per-row work done by ClickHouse: the message key, its Kafka partition (`kafkaMurmurHash`, Java's default
 * partitioner), and — for the protobuf format — the whole message value, written by `FORMAT Protobuf` with the
 * definitions of clickhouse-protobuf.ts. For the other formats the row comes back as RowBinary of its columns for
 * the engine's own encoders. Rows of every registered schema version are read by one query: each version's value is
 * built from that version's changelog columns.
 */
import { changelogTableName, metaColumns } from '../capture/changelog-table.js'
import { qualifiedName, quoteIdentifier, quoteString } from '../clickhouse/sql.js'
import { compileClickHouseRow, namedTuple, secondsMessages } from '../encoding/clickhouse-protobuf.js'
import type { CapturedColumn } from '../schema/clickhouse-type.js'
import { type Cursor, splitCursorKey } from './cursor.js'
import { keySql } from './message-key.js'

/** One registered schema version of a source, with the changelog column of each captured column. */
export interface VersionColumns {
  version: number
  columns: Array<CapturedColumn & { column: string }>
  /** The version's field-number ledger (registry `field_numbers`). */
  fieldNumbers: Record<string, number>
  /** Names of the key columns in this version. */
  keyColumns: string[]
}

export interface ChangelogQueryInput {
  /** The capture database. */
  database: string
  /** `db.table`. */
  source: string
  versions: readonly VersionColumns[]
  /** protobuf: ClickHouse encodes the message value; rowbinary: the row's columns, for the engine's encoders. */
  encoding: 'protobuf' | 'rowbinary'
  protobuf: { timestamps: 'timestamp' | 'int64'; enums: 'enum' | 'string' }
  /**
   * Read this subquery instead of the source's changelog table (stream mode, stream-query.ts): it yields the
   * changelog's columns (metaColumns and each version's columns) and `_partition_id`, `_block_number`,
   * `_block_offset`, only rows after the cursor. No cursor condition and no watermark are added then.
   */
  from?: string
  /**
   * Read a snapshot's table (snapshot/snapshot-table.ts) instead: the changelog's columns, read by its sequence
   * column. Its rows carry `partitionId` in place of `_partition_id`, in their cursor too.
   */
  snapshotTable?: { table: string; partitionId: string } | undefined
}

export interface ChangelogQuery {
  /**
   * Ends with FORMAT and SETTINGS (`{settings}` stands for format-schemas.ts's clause); parameters: {p}, {b}, {o}
   * (see cursorParams) — for a snapshot's table {from} instead —, {limit}, {partitions}.
   */
  sql: string
  /** The Protobuf definitions for `FORMAT Protobuf`, message TH_Out; empty for rowbinary. */
  schema: string
  /** Versions this query can read; a row of another version means the registry changed: build it again. */
  versions: Set<number>
  /** False when the source has no key columns: messages go without key (and partition) then. */
  keyed: boolean
}

/** Field numbers of TH_Out, the message each row comes back as in the protobuf encoding (see changelog-wire.ts). */
export const outFields = {
  key: 1,
  partition: 2,
  partitionId: 3,
  block: 4,
  offset: 5,
  queryId: 6,
  ingestMicros: 7,
  op: 8,
  version: 9,
  drift: 10,
  /** The encoded Envelope of a row of schema version v is field `firstValue + v`. */
  firstValue: 100,
} as const

/**
 * Rows after the cursor: in a partition the cursor knows, past its (block number, block offset); in any other
 * partition, all of them. The first condition only prunes: a part's name holds the range of block numbers its rows
 * carry (`<partition>_<min block>_<max block>_<level>[_<mutation>]`, merges keep the range covering), so a part whose
 * highest block is below the cursor has nothing to read and ClickHouse skips it before reading a column.
 */
export const afterCursor = `(NOT has({p:Array(String)}, _partition_id)
   OR toUInt64(splitByChar('_', _part)[3]) >= transform(_partition_id, {p:Array(String)}, {b:Array(UInt64)}, toUInt64(0)))
  AND (NOT has({p:Array(String)}, _partition_id)
   OR (_block_number, _block_offset) > (transform(_partition_id, {p:Array(String)}, {b:Array(UInt64)}, toUInt64(0)),
                                        transform(_partition_id, {p:Array(String)}, {o:Array(UInt64)}, toUInt64(0))))`

/**
 * A snapshot's table is read by its own sequence column instead (snapshot/snapshot-table.ts): its rows are numbered
 * 0, 1, 2, … and sorted by that number, so a read from a position reads only the rows it returns. Its cursor is
 * (block 0, offset = the number); {from} is the first number to read.
 */
const snapshotPosition = {
  block: 'toUInt64(0)',
  offset: '__seq',
  where: '__seq >= {from:UInt64}',
  order: '__seq',
}
const changelogPosition = {
  block: '_block_number',
  offset: '_block_offset',
  where: `(${afterCursor}) {watermark}`,
  order: '_block_number, _block_offset',
}

/** The {p}, {b}, {o} parameters of {@link afterCursor}: the cursor's partitions of `source`. */
export function cursorParams(cursor: Cursor, source: string) {
  const p: string[] = []
  const b: bigint[] = []
  const o: bigint[] = []
  for (const [key, position] of cursor) {
    const { source: s, partitionId } = splitCursorKey(key)
    if (s !== source) continue
    p.push(partitionId)
    b.push(position.blockNumber)
    o.push(position.blockOffset)
  }
  return { p, b, o }
}

export function changelogQuery(input: ChangelogQueryInput): ChangelogQuery {
  const { source } = input
  const dot = source.indexOf('.')
  const table = qualifiedName(
    input.database,
    input.snapshotTable?.table ?? changelogTableName({ database: source.slice(0, dot), table: source.slice(dot + 1) }),
  )
  const partition = input.snapshotTable ? quoteString(input.snapshotTable.partitionId) : '_partition_id'
  const position = input.snapshotTable ? snapshotPosition : changelogPosition
  const key = keyExpression(input.versions)
  const keyed = key !== undefined
  const columns = [
    ...(keyed ? [`${key} AS key`, `kafkaMurmurHash(key) % {partitions:UInt32} AS partition`] : []),
    `${partition} AS partition_id`,
    `${position.block} AS block`,
    `${position.offset} AS offset`,
    `${metaColumns.queryId} AS query_id`,
    `toUnixTimestamp64Micro(${metaColumns.ingest}) AS ingest_us`,
    `CAST(${metaColumns.op}, 'Int8') AS op`,
    `${metaColumns.schemaVersion} AS version`,
    `${metaColumns.drift} AS drift`,
  ]
  const versions = new Set(input.versions.map((v) => v.version))
  const tail = input.from
    ? `FROM ${input.from}
ORDER BY _block_number, _block_offset
LIMIT {limit:UInt32}`
    : `FROM ${table}
WHERE ${position.where}
ORDER BY ${position.order}
LIMIT {limit:UInt32}`
  if (input.encoding === 'rowbinary') {
    const payload = `multiIf(${[
      ...input.versions.map(
        (v) =>
          `${metaColumns.schemaVersion} = ${v.version}, formatRow('RowBinary', ${v.columns.map((c) => quoteIdentifier(c.column)).join(', ')})`,
      ),
      "''",
    ].join(', ')})`
    const sql = `SELECT ${[...columns.slice(0, -1), `if(${metaColumns.drift} != '', ${metaColumns.drift}, ${payload}) AS payload`, `${metaColumns.drift} != '' AS drifted`].join(', ')}
${tail}
FORMAT RowBinary
SETTINGS ${querySettings}`
    return { sql, schema: '', versions, keyed }
  }

  const messages: string[] = [secondsMessages, cursorMessage]
  const values = input.versions.map((v) => {
    const name = `TH_Envelope_v${v.version}`
    const row = compileClickHouseRow(
      {
        columns: v.columns.map((c) => ({ ...c, sql: quoteIdentifier(c.column) })),
        options: input.protobuf,
        fieldNumbers: v.fieldNumbers,
      },
      'Row',
    )
    messages.push(envelopeMessage(name, row.message))
    const envelope = namedTuple([
      { name: 'source', value: { sql: quoteString(source), type: 'String' } },
      { name: 'op', value: { sql: `CAST(${metaColumns.op}, 'Int8')`, type: 'Int8' } },
      { name: 'schema_version', value: { sql: `toUInt32(${v.version})`, type: 'UInt32' } },
      {
        name: 'cursor',
        value: {
          sql: `CAST(tuple(${partition}, ${position.block}, ${position.offset}), '${cursorType}')`,
          type: cursorType,
        },
      },
      { name: 'query_id', value: { sql: `toString(${metaColumns.queryId})`, type: 'String' } },
      {
        name: 'ingest_time',
        value: {
          sql: `CAST(tuple(intDiv(reinterpretAsInt64(${metaColumns.ingest}), 1000000), toInt32(reinterpretAsInt64(${metaColumns.ingest}) % 1000000 * 1000)), 'Tuple(seconds Int64, nanos Int32)')`,
          type: 'Tuple(seconds Int64, nanos Int32)',
        },
      },
      { name: 'row', value: { sql: row.expression, type: row.type } },
    ])
    const sql =
      input.versions.length === 1
        ? envelope.sql
        : `if(${metaColumns.schemaVersion} = ${v.version}, ${envelope.sql}, defaultValueOfTypeName(${quoteString(envelope.type)}))`
    return `${sql} AS v${v.version}`
  })
  const out = [
    'message TH_Out {',
    '  bytes key = 1; uint32 partition = 2; string partition_id = 3; uint64 block = 4; uint64 offset = 5;',
    '  string query_id = 6; int64 ingest_us = 7; int32 op = 8; uint32 version = 9; bytes drift = 10;',
    ...input.versions.map((v) => `  TH_Envelope_v${v.version} v${v.version} = ${outFields.firstValue + v.version};`),
    '}',
  ].join('\n')
  const schema = ['syntax = "proto3";', ...messages, out].join('\n')
  const sql = `SELECT ${[...columns, ...values].join(',\n  ')}
${tail}
FORMAT Protobuf
SETTINGS {settings}, ${querySettings}`
  return { sql, schema, versions, keyed }
}

/**
 * In the query itself, never as client settings: embedded ClickHouse applies those as session settings that outlive
 * the query. Multi-column keys are JSON text written as JSON.stringify writes it (message-key.ts).
 */
const querySettings = 'output_format_json_escape_forward_slashes = 0'

const cursorType = 'Tuple(partition_id String, block_number UInt64, block_offset UInt64)'
const cursorMessage = 'message TH_Cursor { string partition_id = 1; uint64 block_number = 2; uint64 block_offset = 3; }'

/** tailhouse.v1.Envelope (schema/envelope-proto.ts) with `row` as the version's Row message: the same bytes. */
function envelopeMessage(name: string, row: string): string {
  return `message ${name} { string source = 1; int32 op = 2; uint32 schema_version = 3; TH_Cursor cursor = 4; string query_id = 5; TH_Seconds ingest_time = 6; Row row = 7; ${row} }`
}

/** The key per row: of the row's own schema version, whose key columns may sit in other changelog columns. */
function keyExpression(versions: readonly VersionColumns[]): string | undefined {
  const perVersion = versions.map((v) => ({
    version: v.version,
    sql: keySql(
      v.keyColumns.map((name) => {
        const column = v.columns.find((c) => c.name === name) as CapturedColumn & { column: string }
        return { type: column.type, sql: quoteIdentifier(column.column) }
      }),
    ),
  }))
  const keyed = perVersion.filter((v) => v.sql !== undefined)
  if (keyed.length === 0) return undefined
  if (perVersion.length === 1) return perVersion[0]?.sql
  const branches = perVersion.map((v) => `${metaColumns.schemaVersion} = ${v.version}, ${v.sql ?? "''"}`)
  return `multiIf(${branches.join(', ')}, '')`
}
