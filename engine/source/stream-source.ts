import { randomUUID } from 'node:crypto'
import type { ClickHouseClient } from '@clickhouse/client'
import { splitSource } from '../capture/source-table.js'
import { qualifiedName } from '../clickhouse/sql.js'
import { translateClickHouseError } from '../clickhouse/translate-error.js'
import { CaptureError, ClickHouseQueryError, type TailhouseError } from '../errors.js'
import type { RowSource } from '../loop/loop-parts.js'
import { cursorParams } from './changelog-query.js'
import { parseChangelog } from './changelog-source.js'
import type { ChangelogRow } from './changelog-wire.js'
import { type Cursor, cursorKey, type Position, positionText, splitCursorKey } from './cursor.js'
import { detectRegression, regressionError } from './cursor-regression.js'
import { type FormatSchemas, inlineSchemas } from './format-schemas.js'
import { partsFromRows, partsQuery } from './replicated-state.js'
import type { SourceSchemas } from './source-schemas.js'
import { boundaryQuery, pendingQuery, rangeQuery, streamCursorClause, typesChangedMarker } from './stream-query.js'
import { plainWatermark } from './watermark.js'

export interface StreamSourceOptions {
  client: ClickHouseClient
  /** The capture database (its registry is watched for sources captured while the engine runs). */
  database: string
  schemas: SourceSchemas
  /** What ClickHouse is, for error messages (describeClickHouse). */
  target: string
  partitionsOf: (source: string) => Promise<number>
  formatSchemas?: FormatSchemas
  /** Server-side bound of one STREAM read (max_execution_time, ending with what it has). Default 2 s. */
  readTimeoutMs?: number
  /** A read not answered this long after its bound is stuck: it is abandoned and fails (retriable). Default 30 s. */
  stuckAfterMs?: number
  /** Warnings: a read that keeps returning nothing although rows are there. */
  warn?: (message: string) => void
}

interface Pending {
  rows: number
  last: Position
}

/**
 * The stream-mode sources (capture/stream-capture.ts) as one {@link RowSource}: each read takes rows of one source
 * table itself, the next one in turn that may hold rows after the cursor (system.parts, one query for all), with a
 * bounded `SELECT … STREAM CURSOR` (stream-query.ts). A read first counts the rows after the cursor (and, with more
 * than it may take, finds the position of the last one it takes), then takes exactly those in commit order:
 *
 * - a read that returns fewer rows than it was bounded to take is checked: rows gone since the count (merged away,
 *   deleted, expired) are fine; rows still there and not returned (a replica still fetching an earlier part, an
 *   INSERT still committing) leave the read empty, are read again next time, and are reported after 30 s;
 * - a read that is not answered `stuckAfterMs` after its own bound is abandoned: it fails with a retriable error,
 *   and the engine resumes from the committed checkpoint, as after a read killed on the server (KILL QUERY).
 * Every read is a new query from the cursor, so no long-running query holds state the engine could lose.
 */
export class StreamSource implements RowSource {
  readonly #options: StreamSourceOptions
  readonly #readTimeoutMs: number
  readonly #stuckAfterMs: number
  readonly #pending = new Set<string>()
  #started = false
  #last = ''
  #checkedAt = 0
  #registryCheckedAt = 0
  #registryStamp = ''
  /** Per source: since when reads return nothing although rows are after the cursor, and when that was last said. */
  readonly #stalls = new Map<string, { since: number; warnedAt: number }>()
  readonly #replicated = new Map<string, boolean>()

  constructor(options: StreamSourceOptions) {
    this.#options = options
    this.#readTimeoutMs = options.readTimeoutMs ?? 2_000
    this.#stuckAfterMs = options.stuckAfterMs ?? 30_000
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
      const rows = await this.#readSource(source, cursor, limit)
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
      const partitions = partitionCursor(cursor, source)
      if (partitions.size === 0) continue
      const { database, table } = splitSource(source)
      const result = await this.#options.client.query({ ...partsQuery(database, table), format: 'JSONEachRow' })
      const parts = partsFromRows(await result.json())
      const report = detectRegression(partitions, plainWatermark(parts), new Set(parts.map((p) => p.partitionId)))
      if (report.regressions.length > 0) throw regressionError(qualifiedName(database, table), report.regressions)
      if (report.retired.length > 0) {
        checked = new Map(checked)
        for (const partition of report.retired) checked.delete(cursorKey(source, partition))
      }
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
        const { rows } = await this.#count(source, cursor)
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

  async #readSource(source: string, cursor: Cursor, limit: number): Promise<ChangelogRow[]> {
    const pending = await this.#count(source, cursor)
    if (pending.rows === 0) {
      this.#stalls.delete(source)
      return []
    }
    const want = Math.min(pending.rows, limit)
    const bound = pending.rows > limit ? await this.#boundary(source, cursor, want) : pending.last
    const rows = await this.#stream(source, cursor, want, bound)
    checkRows(source, cursor, bound, rows)
    if (rows.length < want) await this.#short(source, cursor, bound, rows.length, want)
    else this.#stalls.delete(source)
    return rows
  }

  async #count(source: string, cursor: Cursor): Promise<Pending> {
    const [row] = await this.#select<{ n: string; b: string; o: string }>(
      pendingQuery(source),
      cursorParams(cursor, source),
    )
    return { rows: Number(row?.n ?? 0), last: { blockNumber: BigInt(row?.b ?? 0), blockOffset: BigInt(row?.o ?? 0) } }
  }

  async #boundary(source: string, cursor: Cursor, rows: number): Promise<Position> {
    const [row] = await this.#select<{ b: string; o: string }>(boundaryQuery(source), {
      ...cursorParams(cursor, source),
      skip: rows - 1,
    })
    if (!row)
      throw new ClickHouseQueryError(`${source}: rows after the cursor vanished while read`, undefined, undefined, {
        canRetry: true,
      })
    return { blockNumber: BigInt(row.b), blockOffset: BigInt(row.o) }
  }

  /** The STREAM read, its query schema-checked (a stale registry is read again once). */
  async #stream(source: string, cursor: Cursor, limit: number, bound: Position): Promise<ChangelogRow[]> {
    try {
      return await this.#streamOnce(source, cursor, limit, bound)
    } catch (error) {
      if (!schemaChanged(error)) throw error
      // migrate may have registered the table's new columns since the query was built.
      await this.#options.schemas.load()
      try {
        return await this.#streamOnce(source, cursor, limit, bound)
      } catch (again) {
        if (!schemaChanged(again)) throw again
        throw new CaptureError(
          source,
          'its columns changed (ALTER TABLE … MODIFY/DROP/RENAME COLUMN) since the schema version the engine reads ' +
            'it with; run tailhouse migrate, the engine resumes by itself. Rows are read with the types the table ' +
            `has when read (mode stream): ${(again as Error).message}`,
          { canRetry: true, cause: again },
        )
      }
    }
  }

  async #streamOnce(source: string, cursor: Cursor, limit: number, bound: Position): Promise<ChangelogRow[]> {
    const { client, schemas, target } = this.#options
    const query = schemas.streamQuery(source, this.#readTimeoutMs)
    const format = query.schema
      ? (this.#options.formatSchemas ?? inlineSchemas).settings(query.schema, 'TH_Out')
      : { clause: '', params: {} }
    const queryId = `tailhouse-stream-${randomUUID()}`
    const abort = new AbortController()
    let stuck = false
    const watchdog = setTimeout(() => {
      stuck = true
      abort.abort()
    }, this.#readTimeoutMs + this.#stuckAfterMs)
    try {
      const result = await client.exec({
        query: query.sql
          .replace('{stream_cursor}', streamCursorClause(cursor, source))
          .replace('{settings}', format.clause),
        query_params: {
          ...format.params,
          limit,
          partitions: await this.#options.partitionsOf(source),
          bb: bound.blockNumber,
          bo: bound.blockOffset,
        },
        query_id: queryId,
        abort_signal: abort.signal,
      })
      const chunks: Buffer[] = []
      for await (const chunk of result.stream) chunks.push(chunk as Buffer)
      return parseChangelog(query, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), source)
    } catch (error) {
      if (stuck) {
        throw new ClickHouseQueryError(
          `STREAM read of ${source} (query id ${queryId}) did not end ${this.#stuckAfterMs} ms after its own bound ` +
            `(max_execution_time ${this.#readTimeoutMs} ms): abandoned; the engine resumes from the committed cursor`,
          undefined,
          undefined,
          { canRetry: true, cause: error },
        )
      }
      const translated = translateClickHouseError(error, target)
      if (cancelled(translated)) {
        throw new ClickHouseQueryError(
          `STREAM read of ${source} (query id ${queryId}) was cancelled (KILL QUERY, or the server stopped it): ` +
            `${translated.message}; the engine resumes from the committed cursor`,
          (translated as ClickHouseQueryError).serverCode,
          (translated as ClickHouseQueryError).serverType,
          { canRetry: true, cause: error },
        )
      }
      throw translated
    } finally {
      clearTimeout(watchdog)
    }
  }

  /**
   * A read returned fewer rows than were there when counted. Gone since (merged away, deleted, expired): nothing to
   * say. Still there: the read returned none of them (its ORDER BY makes it all or nothing), they are read next time;
   * after 30 s of that, a warning every 30 s.
   */
  async #short(source: string, cursor: Cursor, bound: Position, got: number, wanted: number): Promise<void> {
    const [row] = await this.#select<{ n: string }>(rangeQuery(source), {
      ...cursorParams(cursor, source),
      bb: bound.blockNumber,
      bo: bound.blockOffset,
    })
    const there = Number(row?.n ?? 0)
    if (there <= got) {
      this.#stalls.delete(source)
      return
    }
    const now = Date.now()
    const stall = this.#stalls.get(source) ?? { since: now, warnedAt: now }
    this.#stalls.set(source, stall)
    if (now - stall.warnedAt >= 30_000) {
      stall.warnedAt = now
      this.#options.warn?.(
        `STREAM reads of ${source} have returned ${got} of the ${wanted} rows after its cursor for ` +
          `${Math.round((now - stall.since) / 1000)} s (${there} are there): a replica still fetching an earlier ` +
          'part, or an INSERT still committing? Still reading',
      )
    }
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

/**
 * What the engine relies on, checked per read (the STREAM read is experimental upstream): every row after the
 * cursor and at or before the bound, each position once.
 */
export function checkRows(source: string, cursor: Cursor, bound: Position, rows: readonly ChangelogRow[]): void {
  const seen = new Set<string>()
  for (const row of rows) {
    const at = cursor.get(row.stream)
    const text = positionText(row.stream, row)
    const problem =
      at !== undefined && !after(row, at)
        ? `not after the cursor ${positionText(row.stream, at)}`
        : after(row, bound)
          ? `after the read's bound ${bound.blockNumber}:${bound.blockOffset}`
          : seen.has(text)
            ? 'twice'
            : undefined
    if (problem) {
      throw new CaptureError(
        source,
        `the STREAM read returned row ${text} ${problem}: ClickHouse's streaming read is experimental; nothing of ` +
          'this read was published. Report it with the ClickHouse version, and capture this source with mode: view',
      )
    }
    seen.add(text)
  }
}

function after(a: Position, b: Position): boolean {
  return a.blockNumber > b.blockNumber || (a.blockNumber === b.blockNumber && a.blockOffset > b.blockOffset)
}

/** The guard of stream-query.ts, or a column the query names that the table no longer has (UNKNOWN_IDENTIFIER). */
function schemaChanged(error: unknown): boolean {
  if (!(error instanceof ClickHouseQueryError)) return false
  return (
    error.message.includes(typesChangedMarker) || error.serverCode === '47' || error.serverType === 'UNKNOWN_IDENTIFIER'
  )
}

/** KILL QUERY on a server (QUERY_WAS_CANCELLED), an aborted request. */
function cancelled(error: TailhouseError): boolean {
  return (
    (error instanceof ClickHouseQueryError &&
      (error.serverCode === '394' || error.serverType === 'QUERY_WAS_CANCELLED')) ||
    /aborted|QUERY_WAS_CANCELLED/i.test(error.message)
  )
}

/** The cursor's positions in `source`, by partition id. */
function partitionCursor(cursor: Cursor, source: string): Map<string, Position> {
  const partitions = new Map<string, Position>()
  for (const [key, position] of cursor) {
    const { source: s, partitionId } = splitCursorKey(key)
    if (s === source) partitions.set(partitionId, position)
  }
  return partitions
}
