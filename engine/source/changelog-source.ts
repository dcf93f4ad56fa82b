import type { ClickHouseClient } from '@clickhouse/client'
import { changelogTableName } from '../capture/changelog-table.js'
import { splitSource } from '../capture/source-table.js'
import { qualifiedName } from '../clickhouse/sql.js'
import { translateClickHouseError } from '../clickhouse/translate-error.js'
import type { TailhouseConfig } from '../config/config.js'
import { CaptureError } from '../errors.js'
import type { Logger } from '../log.js'
import type { RowSource } from '../loop/loop-parts.js'
import { Snapshots } from '../snapshot/snapshots.js'
import { afterCursor, type ChangelogQuery, cursorParams } from './changelog-query.js'
import { type ChangelogRow, parseProtobufRows, parseRowBinaryRows } from './changelog-wire.js'
import { type Cursor, cursorKey, positionText } from './cursor.js'
import { type FormatSchemas, inlineSchemas } from './format-schemas.js'
import { ReplicatedWatermarkSource } from './replicated-watermark-source.js'
import type { SourceSchemas } from './source-schemas.js'
import { checkTableAgainstCursor, partitionCursor } from './table-regression.js'

export interface ChangelogSourceOptions {
  client: ClickHouseClient
  /** The capture database. */
  database: string
  schemas: SourceSchemas
  /** What ClickHouse is, for error messages (describeClickHouse). */
  target: string
  /** Partitions of a source's topic: ClickHouse computes each key's partition from it. */
  partitionsOf: (source: string) => Promise<number>
  /** How the Protobuf definitions reach ClickHouse (detectFormatSchemas); default: in the query. */
  formatSchemas?: FormatSchemas
  /** The sources this reads (default: every registered one); stream-mode sources have no changelog. */
  owns?: (source: string) => boolean
  /**
   * Snapshots (snapshot/snapshots.ts): while one of a source is in progress, its changelog is read only up to the
   * block the snapshot goes after, then the snapshot's rows, then the rest. Without: changelogs only.
   */
  snapshots?: { engineId: string; config: Pick<TailhouseConfig, 'capture' | 'engine'>; logger: Logger } | undefined
  /** The committed cursor (the loop's position), for snapshot progress. */
  committed?: () => Cursor
}

/**
 * The changelog tables of every captured source, as one {@link RowSource}. A read takes rows from one table: the
 * next table, in turn, that may hold rows after the cursor. Which ones do is known without reading them: a table
 * whose last read was full or cut short, and any table whose parts (system.parts, one query for all) hold a block
 * beyond the cursor. At start every table counts as such once: the cursor may stop inside a block.
 *
 * Plain MergeTree numbers blocks table-wide at commit, so block order is commit order, and per key it is the order
 * of the INSERTs. `_part` and `_part_offset` change with merges and are never used.
 */
export class ChangelogSource implements RowSource {
  readonly #options: ChangelogSourceOptions
  /** Sources that may hold rows after the cursor. */
  readonly #pending = new Set<string>()
  #started = false
  /** The source read last, for turns. */
  #last = ''
  /** Per source whose changelog is a ReplicatedMergeTree: its safe watermark (design of watermark.ts). */
  #watermarks = new Map<string, ReplicatedWatermarkSource | undefined>()
  #checkedAt = 0
  /**
   * Times `unfinished` was called. A read that returns less than a full batch marks its table drained only if no
   * `unfinished` came while it ran: a read ending after it (one the loop dropped) must not undo it, or the rows left
   * inside the cursor's block, which no probe sees, would never be read (the loop does not overlap the two; this
   * keeps the source right if a caller does).
   */
  #told = 0
  /** Per source held by a snapshot: the hold and cursor at which its changelog had nothing more up to the hold. */
  readonly #drained = new Map<string, string>()
  /** Snapshots of the sources, when the options ask for them. */
  readonly snapshots: Snapshots | undefined

  constructor(options: ChangelogSourceOptions) {
    this.#options = options
    this.snapshots =
      options.snapshots &&
      new Snapshots({
        engineId: options.snapshots.engineId,
        sources: options.snapshots.config.capture.sources,
        initialRowsPerSecond: options.snapshots.config.engine.snapshotRowsPerSecond ?? 0,
        logger: options.snapshots.logger,
        committed: options.committed ?? (() => new Map()),
        client: options.client,
        database: options.database,
        schemas: options.schemas,
        target: options.target,
        partitionsOf: options.partitionsOf,
        formatSchemas: options.formatSchemas,
      })
  }

  async read(cursor: Cursor, limit: number): Promise<ChangelogRow[]> {
    const told = this.#told
    if (!this.#started) {
      this.#started = true
      for (const source of this.#sources()) this.#pending.add(source)
    }
    const snapshots = this.snapshots
    if (snapshots) {
      await snapshots.refresh(cursor)
      for (const source of snapshots.active(cursor)) this.#pending.add(source)
    }
    if (this.#pending.size === 0) await this.#probe(cursor)
    const order = [...this.#pending].sort()
    const next = order.findIndex((s) => s > this.#last)
    const turns = next < 0 ? order : [...order.slice(next), ...order.slice(0, next)]
    for (const source of turns) {
      this.#last = source
      const rows = snapshots
        ? await this.#readTurn(snapshots, source, cursor, limit)
        : await this.#readSource(source, cursor, limit)
      if (rows.length < limit && this.#told === told) this.#pending.delete(source)
      if (rows.length > 0) return rows
    }
    return []
  }

  /**
   * A source's turn with snapshots: its changelog up to the block its snapshot in progress goes after, then the
   * snapshot's rows (none while it builds or is throttled), and once that is through the rest of the changelog.
   */
  async #readTurn(snapshots: Snapshots, source: string, cursor: Cursor, limit: number): Promise<ChangelogRow[]> {
    await snapshots.prepare(source, cursor)
    const hold = snapshots.hold(source, cursor)
    if (hold === undefined) return this.#readSource(source, cursor, limit)
    const at = cursor.get(cursorKey(source, 'all'))
    const mark = `${hold}@${at ? positionText(source, at) : '-'}`
    if (hold >= 0n && this.#drained.get(source) !== mark) {
      const rows = await this.#readSource(source, cursor, limit, hold)
      if (rows.length > 0) return rows
      this.#drained.set(source, mark)
    }
    return snapshots.read(source, cursor, limit)
  }

  unfinished(source: string): void {
    this.#told += 1
    this.#pending.add(source)
  }

  /** At most every 5 s: a table whose block numbers went below the cursor stops the engine; retired ones are forgotten. */
  async idle(cursor: Cursor): Promise<Cursor> {
    await this.snapshots?.idle(cursor)
    if (Date.now() - this.#checkedAt < 5_000) return cursor
    this.#checkedAt = Date.now()
    let checked = cursor
    for (const source of this.#sources()) {
      // On a replicated changelog a lagging replica can show fewer blocks than were read elsewhere before a
      // fail-over, so the plain regression check does not apply there.
      if ((await this.#watermarkOf(source)) !== undefined) continue
      checked = await checkTableAgainstCursor(
        this.#options.client,
        { database: this.#options.database, table: changelogTableName(splitSource(source)) },
        source,
        checked,
      )
    }
    return checked
  }

  async pendingRows(cursor: Cursor): Promise<number> {
    let total = 0
    for (const lag of await this.lagBySource(cursor)) total += lag.rows
    return total
  }

  /** Per source: rows after the cursor and the age of the oldest of them, for the lag metrics. */
  async lagBySource(cursor: Cursor): Promise<Array<{ source: string; rows: number; oldestMillis: number }>> {
    const sources = this.#sources()
    return Promise.all(
      sources.map(async (source) => {
        const result = await this.#options.client.query({
          query: `SELECT count() AS rows, toString(toUnixTimestamp64Milli(min(__ingest))) AS oldest
                  FROM ${this.#table(source)} WHERE ${afterCursor}`,
          query_params: cursorParams(cursor, source),
          format: 'JSONEachRow',
        })
        const [row] = await result.json<{ rows: string; oldest: string }>()
        return { source, rows: Number(row?.rows ?? 0), oldestMillis: Number(row?.oldest ?? 0) }
      }),
    )
  }

  /** The changelog rows of `source` after the cursor; with `hold`, only those in blocks up to it. */
  async #readSource(source: string, cursor: Cursor, limit: number, hold?: bigint): Promise<ChangelogRow[]> {
    const { schemas } = this.#options
    let query = schemas.query(source)
    let rows = await this.#run(source, query, cursor, limit, hold)
    if (rows.some((r) => !query.versions.has(r.schemaVersion))) {
      // migrate registered a version since the query was built: read the registry again, then the rows.
      await schemas.load()
      query = schemas.query(source)
      rows = await this.#run(source, query, cursor, limit, hold)
      const unknown = rows.find((r) => !query.versions.has(r.schemaVersion))
      if (unknown) {
        throw new CaptureError(
          source,
          `changelog rows of schema version ${unknown.schemaVersion} are not in the registry`,
          { canRetry: true },
        )
      }
    }
    return rows
  }

  async #run(
    source: string,
    query: ChangelogQuery,
    cursor: Cursor,
    limit: number,
    hold?: bigint,
  ): Promise<ChangelogRow[]> {
    const watermarks = await this.#watermarkOf(source)
    const params: Record<string, unknown> = {
      ...cursorParams(cursor, source),
      limit,
      partitions: await this.#options.partitionsOf(source),
    }
    let bound = ''
    if (watermarks) {
      const watermark = await watermarks.watermark(partitionCursor(cursor, source))
      bound =
        'AND toInt64(_block_number) <= transform(_partition_id, {wp:Array(String)}, {wb:Array(Int64)}, toInt64(-1))'
      params.wp = [...watermark.keys()]
      params.wb = [...watermark.values()]
    }
    if (hold !== undefined) {
      bound += ' AND _block_number <= {hold:UInt64}'
      params.hold = hold
    }
    const response = await fetchChangelog(
      this.#options.client,
      query,
      params,
      bound,
      this.#options.target,
      this.#options.formatSchemas,
    )
    return parseChangelog(query, response, source)
  }

  /** Marks every source whose changelog holds blocks beyond the cursor; new changelog tables reload the registry. */
  async #probe(cursor: Cursor): Promise<void> {
    const result = await this.#options.client.query({
      query: `SELECT table, partition_id, toString(max(max_block_number)) AS max_block FROM system.parts
              WHERE database = {db:String} AND active AND startsWith(table, 'changelog_')
              GROUP BY table, partition_id`,
      query_params: { db: this.#options.database },
      format: 'JSONEachRow',
    })
    const parts = await result.json<{ table: string; partition_id: string; max_block: string }>()
    let tables = this.#tables()
    if (parts.some((p) => !tables.has(p.table))) {
      await this.#options.schemas.load()
      tables = this.#tables()
    }
    for (const part of parts) {
      const source = tables.get(part.table)
      if (source === undefined) continue
      const at = cursor.get(cursorKey(source, part.partition_id))
      if (at === undefined || BigInt(part.max_block) > at.blockNumber) this.#pending.add(source)
    }
  }

  /** Changelog table name → source, for the registered sources. */
  #tables(): Map<string, string> {
    return new Map(this.#sources().map((s) => [changelogTableName(splitSource(s)), s]))
  }

  #sources(): string[] {
    const { owns } = this.#options
    return owns ? this.#options.schemas.sources.filter(owns) : this.#options.schemas.sources
  }

  #table(source: string): string {
    return qualifiedName(this.#options.database, changelogTableName(splitSource(source)))
  }

  async #watermarkOf(source: string): Promise<ReplicatedWatermarkSource | undefined> {
    if (!this.#watermarks.has(source)) {
      const table = changelogTableName(splitSource(source))
      this.#watermarks.set(
        source,
        await ReplicatedWatermarkSource.forTable(this.#options.client, this.#options.database, table),
      )
    }
    return this.#watermarks.get(source)
  }
}

/**
 * Runs a changelog query (changelog-query.ts) with its parameters and returns the response bytes. `watermark` is the
 * replicated bound clause, or ''.
 */
export async function fetchChangelog(
  client: ClickHouseClient,
  query: ChangelogQuery,
  params: Record<string, unknown>,
  watermark: string,
  target: string,
  schemas: FormatSchemas = inlineSchemas,
): Promise<Buffer> {
  const format = query.schema ? schemas.settings(query.schema, 'TH_Out') : { clause: '', params: {} }
  try {
    const result = await client.exec({
      query: query.sql.replace('{watermark}', watermark).replace('{settings}', format.clause),
      query_params: { ...params, ...format.params },
    })
    const chunks: Buffer[] = []
    for await (const chunk of result.stream) chunks.push(chunk as Buffer)
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
  } catch (error) {
    throw translateClickHouseError(error, target)
  }
}

/** The rows of a changelog query's response, in its encoding. */
export function parseChangelog(
  query: Pick<ChangelogQuery, 'schema' | 'keyed'>,
  response: Buffer,
  source: string,
): ChangelogRow[] {
  return query.schema
    ? parseProtobufRows(response, source, query.keyed)
    : parseRowBinaryRows(response, source, query.keyed)
}
