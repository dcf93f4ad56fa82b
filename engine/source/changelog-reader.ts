import type { ClickHouseClient } from '@clickhouse/client'
import { qualifiedName } from '../clickhouse/sql.js'
import { translateClickHouseError } from '../clickhouse/translate-error.js'
import { changelogWireColumns, parseChangelogRows } from './changelog-wire.js'
import type { Cursor } from './cursor.js'

/** One changelog row as the engine reads it. */
export interface ChangelogRow {
  partitionId: string
  blockNumber: bigint
  blockOffset: bigint
  source: string
  op: 'insert' | 'upsert' | 'delete' | 'retract'
  schemaVersion: number
  /** cityHash64 of the payload's types, decimal text: picks the decoder. */
  fingerprint: string
  queryId: string
  /** Microseconds since the epoch. */
  ingestMicros: bigint
  payload: Buffer
}

export interface ReadOptions {
  /** At most this many rows. */
  limit: number
  /**
   * Per partition, the highest block number safe to read (ReplicatedMergeTree, where a larger block can become
   * visible before a smaller one). Absent: no bound, which is right for plain MergeTree, where every snapshot is
   * prefix-closed (design.md §2). A value of -1 means nothing in that partition is safe yet; partitions absent
   * from the map are not read.
   */
  watermark?: Map<string, bigint>
}

/**
 * Rows after the cursor: in a partition the cursor knows, past its (block number, block offset); in any other
 * partition, all of them. Parameters from {@link cursorParams}.
 *
 * The first condition only prunes: a part's name holds the range of block numbers its rows carry
 * (`<partition>_<min block>_<max block>_<level>[_<mutation>]`, merges keep the range covering), so a part whose
 * highest block is below the cursor has nothing to read and ClickHouse skips it before reading a column.
 * Without it every poll scans the block columns of the whole changelog (7 days of rows by default).
 */
const afterCursor = `(NOT has({p:Array(String)}, _partition_id)
   OR toUInt64(splitByChar('_', _part)[3]) >= transform(_partition_id, {p:Array(String)}, {b:Array(UInt64)}, toUInt64(0)))
  AND (NOT has({p:Array(String)}, _partition_id)
   OR (_block_number, _block_offset) > (transform(_partition_id, {p:Array(String)}, {b:Array(UInt64)}, toUInt64(0)),
                                        transform(_partition_id, {p:Array(String)}, {o:Array(UInt64)}, toUInt64(0))))`

function cursorParams(cursor: Cursor) {
  const partitions = [...cursor.keys()]
  return {
    p: partitions,
    b: partitions.map((p) => cursor.get(p)?.blockNumber ?? 0n),
    o: partitions.map((p) => cursor.get(p)?.blockOffset ?? 0n),
  }
}

/**
 * Reads the changelog after `cursor`, in (block number, block offset) order. In plain MergeTree block numbers
 * are table-wide and assigned at commit, so this order is commit order across partitions, and per key it is the
 * order of the INSERTs. `_part` and `_part_offset` change with merges and are never used.
 */
export class ChangelogReader {
  readonly #client: ClickHouseClient
  readonly #table: string
  readonly #target: string

  constructor(client: ClickHouseClient, database: string, target: string) {
    this.#client = client
    this.#table = qualifiedName(database, 'changelog')
    this.#target = target
  }

  async read(cursor: Cursor, options: ReadOptions): Promise<ChangelogRow[]> {
    const watermark = options.watermark
    const bound = watermark
      ? 'AND toInt64(_block_number) <= transform(_partition_id, {wp:Array(String)}, {wb:Array(Int64)}, toInt64(-1))'
      : ''
    // Plain MergeTree numbers blocks table-wide at commit, so block order is commit order across partitions.
    // ReplicatedMergeTree numbers them per partition: partitions (hourly, ids in time order) are read in turn.
    const order = watermark ? '_partition_id, _block_number, _block_offset' : '_block_number, _block_offset'
    const query = `
      SELECT ${changelogWireColumns}
      FROM ${this.#table}
      WHERE (${afterCursor})
        ${bound}
      ORDER BY ${order}
      LIMIT {limit:UInt32}
      FORMAT RowBinary`
    try {
      const result = await this.#client.exec({
        query,
        query_params: {
          ...cursorParams(cursor),
          wp: watermark ? [...watermark.keys()] : [],
          wb: watermark ? [...watermark.values()] : [],
          limit: options.limit,
        },
      })
      const chunks: Buffer[] = []
      for await (const chunk of result.stream) chunks.push(chunk as Buffer)
      return parseChangelogRows(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks))
    } catch (error) {
      throw translateClickHouseError(error, this.#target)
    }
  }

  /** Rows after the cursor, for lag. */
  async countAfter(cursor: Cursor): Promise<number> {
    const result = await this.#client.query({
      query: `SELECT count() AS n FROM ${this.#table}
              WHERE ${afterCursor}`,
      format: 'JSONEachRow',
      query_params: {
        ...cursorParams(cursor),
      },
    })
    const [row] = await result.json<{ n: string }>()
    return Number(row?.n ?? 0)
  }

  /** Per source: rows after the cursor and the age of the oldest of them, for the lag metrics. */
  async lagBySource(cursor: Cursor): Promise<Array<{ source: string; rows: number; oldestMillis: number }>> {
    const result = await this.#client.query({
      query: `SELECT source, count() AS rows, toString(toUnixTimestamp64Milli(min(ingest_ts))) AS oldest
              FROM ${this.#table}
              WHERE ${afterCursor}
              GROUP BY source`,
      format: 'JSONEachRow',
      query_params: {
        ...cursorParams(cursor),
      },
    })
    const rows = await result.json<{ source: string; rows: string; oldest: string }>()
    return rows.map((r) => ({ source: r.source, rows: Number(r.rows), oldestMillis: Number(r.oldest) }))
  }
}
