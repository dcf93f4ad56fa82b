/**
 * The engine's side of snapshots (ARCHITECTURE.md, "Snapshots and audit"). The changelog source (source/
 * changelog-source.ts) asks it, per source and read, how far it may read the changelog (`hold`) and for the rows of
 * the snapshot in turn (`read`). Per source, snapshots go one after the other, in id order; for each:
 *
 * 1. requested (by `tailhouse snapshot`), or initial (the source's first time in this engine's cursor, with
 *    `snapshot: initial`): the engine fixes the changelog position the snapshot goes after — the block of its cursor
 *    now (every changelog row up to it is read or in flight), or -1 for an initial snapshot (before every changelog
 *    row) — and records it (`building`). From then on the source's changelog is read only up to that block.
 * 2. building: the rows are copied into the snapshot's table (build-snapshot.ts), in the background; other sources
 *    go on. A build cut off by a crash starts again from scratch.
 * 3. publishing: the snapshot's table is read like a changelog, a stream of its own (`<db.table>/snapshot-<id>`) in
 *    the same cursor: its rows go in the same Kafka transactions as changelog rows, with the checkpoint, so a SIGKILL
 *    resumes after the last committed batch, exactly once. Throttled to the snapshot's rows per second.
 * 4. done: once the committed cursor is at its last row, the changelog is read on past the held block, the table is
 *    dropped and the registry says done.
 *
 * For a key, its snapshot row therefore comes before every changelog row after the held block, and every row
 * inserted after the copy began is among those (build-snapshot.ts).
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { translateClickHouseError } from '../clickhouse/translate-error.js'
import type { SourceConfig } from '../config/config.js'
import { CaptureError, ClickHouseQueryError, TailhouseError } from '../errors.js'
import type { Logger } from '../log.js'
import { fetchChangelog, parseChangelog } from '../source/changelog-source.js'
import type { ChangelogRow } from '../source/changelog-wire.js'
import { type Cursor, cursorKey, splitCursorKey } from '../source/cursor.js'
import type { FormatSchemas } from '../source/format-schemas.js'
import type { SourceSchemas } from '../source/source-schemas.js'
import { buildSnapshot, dropSnapshotTable } from './build-snapshot.js'
import { describeProgress, RateMeter } from './snapshot-progress.js'
import {
  nextSnapshotId,
  readSnapshots,
  type SnapshotRecord,
  snapshotPartition,
  snapshotsTableExists,
  snapshotTableName,
  writeSnapshot,
} from './snapshot-registry.js'

export interface SnapshotsOptions {
  client: ClickHouseClient
  /** The capture database. */
  database: string
  engineId: string
  /** The configured sources (their `snapshot` setting). */
  sources: readonly SourceConfig[]
  /** Throttle of initial snapshots, rows per second; 0: none. */
  initialRowsPerSecond: number
  schemas: SourceSchemas
  target: string
  partitionsOf: (source: string) => Promise<number>
  formatSchemas?: FormatSchemas | undefined
  /** The committed cursor (the loop's position), for progress. */
  committed: () => Cursor
  logger: Logger
  /** How often requests and progress are looked at, ms. Default 1000. */
  refreshMs?: number
}

/** Per source, for the metrics: snapshot rows committed to Kafka by this process, and rows still to go. */
export interface SnapshotSample {
  source: string
  published: number
  remaining: number
}

const progressEveryMs = 5_000

export class Snapshots {
  readonly #options: SnapshotsOptions
  /** Every snapshot of this engine, by source, in id order. */
  #records = new Map<string, SnapshotRecord[]>()
  #tableExists = false
  #loadedAt = 0
  /** Sources checked for an initial snapshot. */
  readonly #evaluated = new Set<string>()
  readonly #builds = new Map<number, Promise<void>>()
  /** A build that failed; raised by the next read (the engine retries, or stops when retrying cannot help). */
  #failure: Error | undefined
  readonly #rates = new Map<number, RateMeter>()
  readonly #nextReadAt = new Map<number, number>()
  readonly #publishedBefore = new Map<string, number>()
  #reportedAt = 0

  constructor(options: SnapshotsOptions) {
    this.#options = options
  }

  /** Looks for requests and reports progress, at most every refreshMs; raises a build's failure. */
  async refresh(cursor: Cursor): Promise<void> {
    this.#raise()
    if (Date.now() - this.#loadedAt >= (this.#options.refreshMs ?? 1_000)) await this.#load()
    for (const records of this.#records.values()) {
      for (const record of records) {
        if (record.status === 'requested') await this.#accept(record, cursor)
        else if (record.status === 'building' && !this.#builds.has(record.id)) this.#startBuild(record)
      }
    }
    if (Date.now() - this.#reportedAt >= progressEveryMs) await this.#report()
    await this.#complete(this.#options.committed())
  }

  /**
   * Decides, before any changelog row of `source` is read in this process, whether it gets an initial snapshot: when
   * configured (the default) and the cursor has nothing of it yet.
   */
  async prepare(source: string, cursor: Cursor): Promise<void> {
    if (this.#evaluated.has(source)) return
    const config = this.#options.sources.find((s) => s.table === source)
    const wanted = config !== undefined && (config.snapshot ?? 'initial') === 'initial'
    const started = [...cursor.keys()].some((key) => splitCursorKey(key).source === source)
    if (wanted && !started) {
      if (this.#loadedAt === 0) await this.#load()
      if (!this.#tableExists) {
        throw new CaptureError(
          source,
          `needs an initial snapshot (snapshot: initial), and ${this.#options.database}.snapshots does not exist: ` +
            'run tailhouse migrate (or set snapshot: never for it)',
        )
      }
      const records = this.#records.get(source) ?? []
      if (!records.some((r) => r.kind === 'initial')) {
        const record: SnapshotRecord = {
          engineId: this.#options.engineId,
          source,
          id: nextSnapshotId(records),
          kind: 'initial',
          where: '',
          rowsPerSecond: this.#options.initialRowsPerSecond,
          status: 'building',
          holdBlock: -1n,
          rows: 0,
          last: undefined,
          published: 0,
          detail: '',
          requestedAt: '',
        }
        await writeSnapshot(this.#options.client, this.#options.database, record)
        this.#records.set(source, [...records, record])
        this.#options.logger.log('info', `initial snapshot of ${source}: copying the rows it holds`, {
          snapshot: record.id,
        })
        this.#startBuild(record)
      }
    }
    this.#evaluated.add(source)
  }

  /** Sources with a snapshot building or publishing: the changelog source visits them even with nothing new. */
  active(cursor: Cursor): string[] {
    return [...this.#records.keys()].filter((source) => this.#current(source, cursor) !== undefined)
  }

  /** The last changelog block of `source` to read now: undefined (no limit), or -1n (none: the snapshot goes first). */
  hold(source: string, cursor: Cursor): bigint | undefined {
    return this.#current(source, cursor)?.holdBlock
  }

  /** Rows of the source's current snapshot after `cursor`: none while it builds, or while throttled. */
  async read(source: string, cursor: Cursor, limit: number): Promise<ChangelogRow[]> {
    this.#raise()
    const record = this.#current(source, cursor)
    if (record?.status !== 'publishing') return []
    const wait = this.#nextReadAt.get(record.id) ?? 0
    if (Date.now() < wait) return []
    const rate = record.rowsPerSecond
    // Throttled: about a quarter second's worth per read, so the rate holds without long pauses.
    const take = rate > 0 ? Math.max(1, Math.min(limit, Math.ceil(rate / 4))) : limit
    const params = {
      from: this.#published(record, cursor),
      limit: take,
      partitions: await this.#options.partitionsOf(source),
    }
    let rows = await this.#fetch(record, params)
    if (rows.some((r) => !this.#query(record).versions.has(r.schemaVersion))) {
      // Built after migrate registered a version this engine has not read yet: read the registry, then the rows.
      await this.#options.schemas.load()
      rows = await this.#fetch(record, params)
      const unknown = rows.find((r) => !this.#query(record).versions.has(r.schemaVersion))
      if (unknown) {
        throw new CaptureError(
          source,
          `snapshot rows of schema version ${unknown.schemaVersion} are not in the registry`,
          {
            canRetry: true,
          },
        )
      }
    }
    if (rate > 0) this.#nextReadAt.set(record.id, Date.now() + (rows.length * 1000) / rate)
    return rows
  }

  #query(record: SnapshotRecord) {
    const table = snapshotTableName(record.source, record.id)
    return this.#options.schemas.query(record.source, { table, partitionId: snapshotPartition(record.id) })
  }

  async #fetch(record: SnapshotRecord, params: Record<string, unknown>): Promise<ChangelogRow[]> {
    const { client, target, formatSchemas } = this.#options
    const query = this.#query(record)
    try {
      return parseChangelog(
        query,
        await fetchChangelog(client, query, params, '', target, formatSchemas),
        record.source,
      )
    } catch (error) {
      throw this.#missing(error, record)
    }
  }

  /** When nothing is read: see {@link #complete}. */
  async idle(committed: Cursor): Promise<void> {
    await this.#complete(committed)
  }

  /** Snapshots the committed cursor has gone through are done: the registry says so, their tables are dropped. */
  async #complete(committed: Cursor): Promise<void> {
    for (const records of this.#records.values()) {
      for (const record of records) {
        if (record.status !== 'publishing' || !this.#finished(record, committed)) continue
        record.status = 'done'
        record.published = record.rows
        await writeSnapshot(this.#options.client, this.#options.database, record)
        await dropSnapshotTable(this.#options.client, this.#options.database, record)
        this.#publishedBefore.set(record.source, (this.#publishedBefore.get(record.source) ?? 0) + record.rows)
        this.#rates.delete(record.id)
        this.#options.logger.log('info', `snapshot of ${record.source} published: ${record.rows} row(s)`, {
          snapshot: record.id,
          kind: record.kind,
        })
      }
    }
  }

  /** For the metrics, per source with snapshots. */
  samples(): SnapshotSample[] {
    const committed = this.#options.committed()
    const out = new Map<string, SnapshotSample>()
    for (const [source, records] of this.#records) {
      const sample = { source, published: this.#publishedBefore.get(source) ?? 0, remaining: 0 }
      for (const record of records) {
        if (record.status !== 'publishing') continue
        const published = this.#published(record, committed)
        sample.published += published
        sample.remaining += Math.max(0, record.rows - published)
      }
      out.set(source, sample)
    }
    return [...out.values()]
  }

  /** The snapshot of `source` that is building or publishing and not yet through at `cursor`. */
  #current(source: string, cursor: Cursor): SnapshotRecord | undefined {
    for (const record of this.#records.get(source) ?? []) {
      if (record.status === 'building') return record
      if (record.status === 'publishing' && !this.#finished(record, cursor)) return record
    }
    return undefined
  }

  #finished(record: SnapshotRecord, cursor: Cursor): boolean {
    if (record.rows === 0 || record.last === undefined) return true
    const at = cursor.get(this.#stream(record))
    return (
      at !== undefined &&
      (at.blockNumber > record.last.blockNumber ||
        (at.blockNumber === record.last.blockNumber && at.blockOffset >= record.last.blockOffset))
    )
  }

  #stream(record: SnapshotRecord): string {
    return cursorKey(record.source, snapshotPartition(record.id))
  }

  async #load(): Promise<void> {
    const { client, database, engineId } = this.#options
    this.#loadedAt = Date.now()
    this.#tableExists = this.#tableExists || (await snapshotsTableExists(client, database))
    if (!this.#tableExists) return
    // Once this process knows a snapshot it is the only one that moves it on: it keeps its own record (a build in
    // flight holds it) and takes only the new ones (requests) from the registry.
    for (const record of await readSnapshots(client, database, engineId)) {
      const records = this.#records.get(record.source) ?? []
      if (records.some((r) => r.id === record.id)) continue
      this.#records.set(
        record.source,
        [...records, record].sort((a, b) => a.id - b.id),
      )
    }
  }

  /** A request: the snapshot goes after the changelog rows read so far (up to the cursor's block). */
  async #accept(record: SnapshotRecord, cursor: Cursor): Promise<void> {
    const partitions = [...cursor.keys()]
      .map((key) => splitCursorKey(key))
      .filter((k) => k.source === record.source && !k.partitionId.startsWith('snapshot-'))
    if (partitions.some((p) => p.partitionId !== 'all')) {
      record.status = 'failed'
      record.detail = 'snapshots of a replicated changelog (a cluster) are not supported yet'
      await writeSnapshot(this.#options.client, this.#options.database, record)
      this.#options.logger.log('error', `snapshot of ${record.source} refused: ${record.detail}`, {
        snapshot: record.id,
      })
      return
    }
    record.holdBlock = cursor.get(cursorKey(record.source, 'all'))?.blockNumber ?? -1n
    record.status = 'building'
    await writeSnapshot(this.#options.client, this.#options.database, record)
    this.#options.logger.log(
      'info',
      `snapshot of ${record.source}${record.where ? ` where ${record.where}` : ''}: copying its rows; they go after changelog block ${record.holdBlock}`,
      { snapshot: record.id },
    )
    this.#startBuild(record)
  }

  #startBuild(record: SnapshotRecord): void {
    const { client, database, logger } = this.#options
    const config = this.#options.sources.find((s) => s.table === record.source) ?? {
      table: record.source,
      exclude: [],
    }
    const started = Date.now()
    const build = buildSnapshot({
      client,
      database,
      record,
      config,
      note: (message) => logger.log('info', message, { snapshot: record.id }),
    })
      .then(async (built) => {
        record.rows = built.rows
        record.last = built.last
        record.detail = built.detail
        record.status = 'publishing'
        await writeSnapshot(client, database, record)
        logger.log(
          'info',
          `snapshot of ${record.source} built: ${built.rows} row(s) in ${((Date.now() - started) / 1000).toFixed(1)} s${built.detail ? ` (${built.detail})` : ''}; publishing`,
          { snapshot: record.id },
        )
      })
      .catch(async (cause: unknown) => {
        const error = translateClickHouseError(cause, this.#options.target)
        if (record.kind === 'on-demand' && !error.canRetry) {
          record.status = 'failed'
          record.detail = error.message
          await writeSnapshot(client, database, record).catch(() => {})
          await dropSnapshotTable(client, database, record).catch(() => {})
          logger.log('error', `snapshot of ${record.source} failed: ${error.message}`, { snapshot: record.id })
          return
        }
        this.#failure = error
      })
      .finally(() => this.#builds.delete(record.id))
    this.#builds.set(record.id, build)
  }

  #raise(): void {
    const failure = this.#failure
    if (!failure) return
    this.#failure = undefined
    throw failure instanceof TailhouseError
      ? failure
      : new CaptureError('', `a snapshot build failed: ${failure.message}`, { cause: failure, canRetry: true })
  }

  /** Rows of the snapshot up to the cursor: its rows are numbered 0, 1, … (snapshot-table.ts). */
  #published(record: SnapshotRecord, cursor: Cursor): number {
    const at = cursor.get(this.#stream(record))
    return at === undefined ? 0 : Number(at.blockOffset) + 1
  }

  /** A progress line per publishing snapshot, and its count in the registry (what `tailhouse snapshot` shows). */
  async #report(): Promise<void> {
    this.#reportedAt = Date.now()
    const committed = this.#options.committed()
    for (const records of this.#records.values()) {
      for (const record of records) {
        if (record.status !== 'publishing' || record.rows === 0) continue
        const published = this.#published(record, committed)
        const meter = this.#rates.get(record.id) ?? new RateMeter()
        this.#rates.set(record.id, meter)
        const rate = meter.sample(published)
        if (published === record.published) continue
        record.published = published
        await writeSnapshot(this.#options.client, this.#options.database, record)
        this.#options.logger.log(
          'info',
          `snapshot of ${record.source}: ${describeProgress(published, record.rows, rate)}`,
          { snapshot: record.id },
        )
      }
    }
  }

  /** The error for a snapshot table that is gone while its rows are still to publish. */
  #missing(error: unknown, record: SnapshotRecord): Error {
    const translated = translateClickHouseError(error, this.#options.target)
    if (!(translated instanceof ClickHouseQueryError && translated.serverCode === '60')) return translated
    return new CaptureError(
      record.source,
      `the rows of snapshot ${record.id} (${snapshotTableName(record.source, record.id)}) are gone before they were all ` +
        'published; request it again with tailhouse snapshot',
      { cause: error },
    )
  }
}
