import { splitSource } from '../capture/source-table.js'
import { qualifiedName } from '../clickhouse/sql.js'
import { translateClickHouseError } from '../clickhouse/translate-error.js'
import type { RowSource } from '../loop/loop-parts.js'
import { cursorParams } from './changelog-query.js'
import type { ChangelogRow } from './changelog-wire.js'
import { type Cursor, cursorKey } from './cursor.js'
import { StreamReader, type StreamReaderOptions } from './stream-read.js'
import { checkTableAgainstCursor } from './table-regression.js'

export interface StreamSourceOptions extends StreamReaderOptions {
  /** The capture database (its registry is watched for sources captured while the engine runs). */
  database: string
}

/**
 * The stream-mode sources (capture/stream-capture.ts) as one {@link RowSource}: each read takes rows of one source
 * table itself — the next one in turn that may hold rows after the cursor (system.parts, one query for all) — with
 * one bounded STREAM read (stream-read.ts). Sources captured, evolved or uncaptured by a migrate while the engine
 * runs are picked up within 5 s (the registry is watched). An uncaptured source is no longer read.
 */
export class StreamSource implements RowSource {
  readonly #options: StreamSourceOptions
  readonly #reader: StreamReader
  readonly #pending = new Set<string>()
  #started = false
  #last = ''
  #checkedAt = 0
  #registryCheckedAt = 0
  #registryStamp = ''
  readonly #replicated = new Map<string, boolean>()

  constructor(options: StreamSourceOptions) {
    this.#options = options
    this.#reader = new StreamReader(options)
  }

  async read(cursor: Cursor, limit: number): Promise<ChangelogRow[]> {
    await this.#watchRegistry()
    const sources = this.#options.schemas.streamSources
    if (!this.#started) {
      this.#started = true
      for (const source of sources) this.#pending.add(source)
    }
    if (this.#pending.size === 0) await this.#probe(cursor, sources)
    const order = [...this.#pending].filter((s) => sources.includes(s)).sort()
    const next = order.findIndex((s) => s > this.#last)
    const turns = next < 0 ? order : [...order.slice(next), ...order.slice(0, next)]
    for (const source of turns) {
      this.#last = source
      const rows = await this.#reader.read(source, cursor, limit)
      if (rows.length < limit) this.#pending.delete(source)
      if (rows.length > 0) return rows
    }
    return []
  }

  unfinished(source: string): void {
    this.#pending.add(source)
  }

  /**
   * At most every 5 s: a source whose block numbers went below the cursor stops the engine; partitions that are gone
   * (DROP PARTITION, TRUNCATE) are forgotten, so rows written to them later are read from their start. Not on
   * replicated sources: a lagging replica can show fewer blocks than were read before a fail-over.
   */
  async idle(cursor: Cursor): Promise<Cursor> {
    if (Date.now() - this.#checkedAt < 5_000) return cursor
    this.#checkedAt = Date.now()
    let checked = cursor
    for (const source of this.#options.schemas.streamSources) {
      if (await this.#isReplicated(source)) continue
      checked = await checkTableAgainstCursor(this.#options.client, splitSource(source), source, checked)
    }
    return checked
  }

  async pendingRows(cursor: Cursor): Promise<number> {
    let total = 0
    for (const lag of await this.lagBySource(cursor)) total += lag.rows
    return total
  }

  /**
   * Per source: rows after the cursor, and the age of the oldest part holding some (a table keeps no insert time
   * per row: a part's modification time is its INSERT's until a merge rewrites it, then the merge's).
   */
  async lagBySource(cursor: Cursor): Promise<Array<{ source: string; rows: number; oldestMillis: number }>> {
    return Promise.all(
      this.#options.schemas.streamSources.map(async (source) => {
        const { rows } = await this.#reader.count(source, cursor)
        if (rows === 0) return { source, rows, oldestMillis: 0 }
        const { database, table } = splitSource(source)
        const { p, b } = cursorParams(cursor, source)
        const result = await this.#options.client.query({
          query: `SELECT toString(toUnixTimestamp(min(modification_time)) * 1000) AS oldest FROM system.parts
                  WHERE database = {db:String} AND table = {table:String} AND active
                    AND (NOT has({p:Array(String)}, partition_id)
                         OR max_block_number > transform(partition_id, {p:Array(String)}, {b:Array(UInt64)}, toUInt64(0)))`,
          query_params: { db: database, table, p, b },
          format: 'JSONEachRow',
        })
        const [row] = await result.json<{ oldest: string }>()
        return { source, rows, oldestMillis: Number(row?.oldest ?? 0) || Date.now() }
      }),
    )
  }

  /** Marks every stream source whose table has blocks beyond the cursor (system.parts, one query). */
  async #probe(cursor: Cursor, sources: string[]): Promise<void> {
    if (sources.length === 0) return
    const parts = await this.#select<{ source: string; partition_id: string; max_block: string }>(
      `SELECT concat(database, '.', table) AS source, partition_id, toString(max(max_block_number)) AS max_block
       FROM system.parts WHERE active AND concat(database, '.', table) IN {sources:Array(String)}
       GROUP BY source, partition_id`,
      { sources },
    )
    for (const part of parts) {
      const at = cursor.get(cursorKey(part.source, part.partition_id))
      if (at === undefined || BigInt(part.max_block) > at.blockNumber) this.#pending.add(part.source)
    }
  }

  /** At most every 5 s: a migrate while the engine runs (a new source, a new version, an uncapture) is read again. */
  async #watchRegistry(): Promise<void> {
    if (Date.now() - this.#registryCheckedAt < 5_000) return
    this.#registryCheckedAt = Date.now()
    const [row] = await this.#select<{ stamp: string }>(
      `SELECT concat(toString(count()), '/', toString(max(updated_at))) AS stamp FROM ${qualifiedName(this.#options.database, 'sources')}`,
      {},
    )
    const stamp = row?.stamp ?? ''
    if (this.#registryStamp !== '' && stamp !== this.#registryStamp) {
      await this.#options.schemas.load()
      this.#started = false
    }
    this.#registryStamp = stamp
  }

  async #isReplicated(source: string): Promise<boolean> {
    if (!this.#replicated.has(source)) {
      const { database, table } = splitSource(source)
      const [row] = await this.#select<{ engine: string }>(
        'SELECT engine FROM system.tables WHERE database = {db:String} AND name = {table:String}',
        { db: database, table },
      )
      this.#replicated.set(source, (row?.engine ?? '').startsWith('Replicated'))
    }
    return this.#replicated.get(source) as boolean
  }

  async #select<T>(query: string, params: Record<string, unknown>): Promise<T[]> {
    try {
      const result = await this.#options.client.query({ query, query_params: params, format: 'JSONEachRow' })
      return await result.json<T>()
    } catch (error) {
      throw translateClickHouseError(error, this.#options.target)
    }
  }
}
