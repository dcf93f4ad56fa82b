import { randomUUID } from 'node:crypto'
import type { ClickHouseClient } from '@clickhouse/client'
import { translateClickHouseError } from '../clickhouse/translate-error.js'
import { CaptureError, ClickHouseQueryError, type TailhouseError } from '../errors.js'
import { parseChangelog } from './changelog-source.js'
import type { ChangelogRow } from './changelog-wire.js'
import { type Cursor, type Position, positionText } from './cursor.js'
import { type FormatSchemas, inlineSchemas } from './format-schemas.js'
import type { SourceSchemas } from './source-schemas.js'
import {
  afterCursorSql,
  boundaryQuery,
  partsOfQuery,
  pendingQuery,
  rangeQuery,
  readHorizon,
  streamCursorClause,
  typesChangedMarker,
} from './stream-query.js'

/** The highest block number: no horizon. */
const maxBlock = 2n ** 64n - 1n

export interface StreamReaderOptions {
  client: ClickHouseClient
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

/** Rows after a cursor, and where the last of them is. */
export interface Pending {
  rows: number
  last: Position
}

/**
 * One bounded read of a stream-mode source (stream-query.ts): it first counts the rows after the cursor (and, with
 * more than it may take, finds the position of the last one it takes), then takes exactly those with
 * `SELECT … STREAM CURSOR`, in commit order:
 *
 * - the rows are checked ({@link checkRows}): after the cursor, at or before the bound, each once;
 * - a read that returns fewer rows than it was bounded to take is checked: rows gone since the count (merged away,
 *   deleted, expired) are fine; rows still there and not returned (a replica still fetching an earlier part, an
 *   INSERT still committing) leave the read empty, are read again next time, and are reported after 30 s;
 * - a read that is not answered `stuckAfterMs` after its own bound is abandoned: it fails with a retriable error,
 *   and the engine resumes from the committed checkpoint, as after a read killed on the server (KILL QUERY);
 * - after ALTER TABLE … MODIFY/DROP COLUMN the read fails; the registry is read again once (migrate may have run),
 *   then the failure is a retriable error asking for migrate.
 * Every read is a new query from the cursor, so no long-running query holds state the engine could lose.
 */
export class StreamReader {
  readonly #options: StreamReaderOptions
  readonly #readTimeoutMs: number
  readonly #stuckAfterMs: number
  /** Per source: since when reads return nothing although rows are after the cursor, and when that was last said. */
  readonly #stalls = new Map<string, { since: number; warnedAt: number }>()

  constructor(options: StreamReaderOptions) {
    this.#options = options
    this.#readTimeoutMs = options.readTimeoutMs ?? 2_000
    this.#stuckAfterMs = options.stuckAfterMs ?? 30_000
  }

  /** At most `limit` rows of `source` after the cursor, in (block number, block offset) order. */
  async read(source: string, cursor: Cursor, limit: number): Promise<ChangelogRow[]> {
    const after = afterCursorSql(cursor, source)
    const parts = await this.#select<{ partition_id: string; max_block: string; rows: string }>(
      partsOfQuery(source).query,
      partsOfQuery(source).query_params,
    )
    // Count (and sort) only as far as the first parts after the cursor reach; further when they hold too few rows.
    let target = limit
    let horizon = readHorizon(parts, cursor, source, target)
    let pending = await this.#count(source, after, horizon.horizon)
    while (pending.rows < limit && !horizon.all) {
      target *= 4
      horizon = readHorizon(parts, cursor, source, target)
      pending = await this.#count(source, after, horizon.horizon)
    }
    if (pending.rows === 0) {
      this.#stalls.delete(source)
      return []
    }
    const want = Math.min(pending.rows, limit)
    const bound = pending.rows > limit ? await this.#boundary(source, after, horizon.horizon, want) : pending.last
    const rows = await this.#stream(source, cursor, want, bound)
    checkRows(source, cursor, bound, rows)
    if (rows.length < want) await this.#short(source, after, bound, rows.length, want)
    else this.#stalls.delete(source)
    return rows
  }

  /** How many rows of `source` are after the cursor (all of them: for lag), and the last one's position. */
  count(source: string, cursor: Cursor): Promise<Pending> {
    return this.#count(source, afterCursorSql(cursor, source), maxBlock)
  }

  async #count(source: string, after: string, horizon: bigint): Promise<Pending> {
    const [row] = await this.#select<{ n: string; b: string; o: string }>(
      pendingQuery(source).replace('{after}', after),
      { horizon },
    )
    return { rows: Number(row?.n ?? 0), last: { blockNumber: BigInt(row?.b ?? 0), blockOffset: BigInt(row?.o ?? 0) } }
  }

  async #boundary(source: string, after: string, horizon: bigint, rows: number): Promise<Position> {
    const [row] = await this.#select<{ b: string; o: string }>(boundaryQuery(source).replace('{after}', after), {
      horizon,
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
  async #short(source: string, after: string, bound: Position, got: number, wanted: number): Promise<void> {
    const [row] = await this.#select<{ n: string }>(rangeQuery(source).replace('{after}', after), {
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
