import type { OffsetStore } from '../offsets/offset-store.js'
import type { Batch } from '../sink/batch.js'
import { headerNames } from '../sink/outgoing-message.js'
import type { ChangelogRow } from '../source/changelog-wire.js'
import { type Cursor, cursorAfter, sameCursor } from '../source/cursor.js'
import type { BatchObservation, Converter, LoopObserver, RowSource, Sink } from './loop-parts.js'

export interface BatchLoopParts {
  source: RowSource
  converter: Converter
  sink: Sink
  offsets: OffsetStore
  observer: LoopObserver
  /** The key of this engine's rows in the offset store. */
  engineId: string
  /** Rows per read (and at most per transaction). */
  batchMaxRows: number
  /** Wait this long after a read that found nothing. */
  pollIntervalMs: number
}

/** Where the loop stands; the engine's status and metrics read it. */
export interface LoopPosition {
  cursor: Cursor
  /** Rows published since the engine id first started (checkpointed with every batch). */
  rowsTotal: bigint
  batches: number
  lastCommitAt: Date | null
  /** Age of the oldest row read but not yet published, ms, now; 0 when caught up (it keeps growing while Kafka waits). */
  readonly lagMs: number
  /** Rows after the cursor, measured at most once a second; null until known. */
  lagRows: number | null
}

/** A batch read and converted, waiting for its transaction. */
interface Prepared {
  batch: Batch
  observation: BatchObservation
}

/**
 * The pipelined poll → convert → publish → checkpoint loop (ARCHITECTURE.md, "The batch loop"). While one batch's
 * transaction commits, the next one is read and converted from the committing batch's end cursor, so ClickHouse,
 * the converter and the broker work at the same time; with a backlog (a read returned a full batch) the read after
 * that starts at once too. Transactions run one at a time, in cursor order. A batch is recorded in the offset
 * store only after its commit returned. A batch prepared ahead is dropped, never published, when the batch before
 * it fails or the loop stops.
 *
 * `run` returns when stopped and throws the first failure; the engine decides whether to retry (from the committed
 * checkpoint: {@link resume}) or stop.
 */
export class BatchLoop {
  readonly #parts: BatchLoopParts
  readonly position: LoopPosition
  #stopped = false
  #wake: (() => void) | undefined
  #lagMeasuredAt = 0
  /** The read of the rows after `from` (at most `limit`), started before they were asked for. */
  #readAhead: { from: Cursor; limit: number; rows: Promise<ChangelogRow[]> } | undefined
  /**
   * Rows per read: batchMaxRows, or fewer when rows are so large that a batch of them is cut by bytes (the
   * converter's batchMaxBytes). Rows read past a cut are read again, and the read ahead is dropped: wide rows read
   * 10,000 at a time and cut at 7,500 cost a quarter of every read and the overlap of reads.
   */
  #readLimit: number
  /** Value bytes of the last batch the converter cut (about its byte limit); undefined until one was cut. */
  #cutAtBytes: number | undefined
  /** Ingest time (µs) of the first row of each batch prepared and not yet committed, oldest first. */
  readonly #unpublished: bigint[] = []
  /** After a failure: the oldest of those, until its rows are read again. */
  #carried: bigint | undefined
  /** The last batch prepared was cut short by bytes: reading ahead of the next one would read past its cut. */
  #cutShort = false

  constructor(parts: BatchLoopParts, start: { cursor: Cursor; rowsTotal: bigint }) {
    this.#parts = parts
    this.#readLimit = parts.batchMaxRows
    const oldest = () => this.#unpublished[0] ?? this.#carried
    this.position = {
      ...start,
      batches: 0,
      lastCommitAt: null,
      lagRows: null,
      get lagMs() {
        const micros = oldest()
        return micros === undefined ? 0 : Math.max(0, Date.now() - Number(micros / 1000n))
      },
    }
  }

  /** Continue from a cursor decided elsewhere (the committed checkpoint after a failure). */
  resume(start: { cursor: Cursor; rowsTotal: bigint }): void {
    this.position.cursor = start.cursor
    this.position.rowsTotal = start.rowsTotal
    // The rows of batches not published are read again: their age is the lag until then.
    this.#carried = this.#unpublished[0] ?? this.#carried
    this.#unpublished.length = 0
  }

  /** Replaces the sink (a new producer after a failure). */
  set sink(sink: Sink) {
    this.#parts.sink = sink
  }

  /** Asks `run` to return after the batch in flight; a sleeping loop wakes at once. */
  stop(): void {
    this.#stopped = true
    this.#wake?.()
  }

  async run(): Promise<void> {
    let ahead: Promise<Prepared | undefined> | undefined
    try {
      while (!this.#stopped) {
        const prepared = await (ahead ?? this.#prepare(this.position.cursor))
        ahead = undefined
        if (!prepared) {
          this.#carried = undefined
          this.#parts.observer.idle()
          if (this.#parts.source.idle) this.position.cursor = await this.#parts.source.idle(this.position.cursor)
          await this.#measureLag(true)
          await this.#sleep(this.#parts.pollIntervalMs)
          continue
        }
        const committed = this.#commit(prepared)
        if (!this.#stopped) {
          ahead = this.#prepare(prepared.batch.cursor)
          // Its failure is raised where it is awaited, after this batch's commit.
          ahead.catch(() => {})
        }
        await committed
        await this.#measureLag(false)
      }
    } finally {
      // Let reads ahead finish before the caller retries or closes the client; a batch prepared ahead and dropped
      // still reports (its span ends, marked as not published).
      const dropped = await ahead?.catch(() => undefined)
      dropped?.observation.dropped()
      // What was read and not published is read again from the cursor; until then, its age is still the lag.
      await this.#dropReadAhead()
    }
  }

  /** Reads the rows after `from` and converts them into a batch; undefined when there is nothing new. */
  async #prepare(from: Cursor): Promise<Prepared | undefined> {
    const readStartedAt = Date.now()
    const rows = await this.#readRows(from)
    if (rows.length === 0) return undefined
    const observation = this.#parts.observer.start(readStartedAt, rows)
    try {
      const batch = await this.#parts.converter.convert(rows, from)
      if (batch.rows < rows.length) {
        // Cut short (by bytes): the read ahead starts past the cut and is never used. It must end before the source
        // hears that the table holds more, or its end ("that table is drained") lands after it and the rows left in
        // the cut block are never read again: the loop idles with them unpublished.
        this.#cutShort = true
        this.#cutAtBytes = batch.payloadBytes
        await this.#dropReadAhead()
        this.#parts.source.unfinished?.((rows[batch.rows] as ChangelogRow).source)
      } else this.#cutShort = false
      this.#adaptReadLimit(batch)
      observation.encoded(batch)
      this.#unpublished.push(batch.firstIngestMicros ?? BigInt(Date.now()) * 1000n)
      this.#carried = undefined
      return { batch, observation }
    } catch (error) {
      observation.failed(error)
      throw error
    }
  }

  /**
   * The rows after `from`. When a read returns a full batch there is a backlog, and the read after it starts at
   * once, so ClickHouse works on it while this batch is converted and the previous one commits. It is used only if
   * the next batch starts exactly where this read ended; after a batch cut short by bytes the loop re-reads from the
   * cut, and reads no further ahead while batches are cut (such a read would be dropped).
   *
   * Reads never overlap (the contract of {@link RowSource}): a read ahead that is not used ends before the next read
   * starts. A source keeps state between reads (which tables hold more), and a dropped read ending late would
   * overwrite what a later read or `unfinished` told it.
   */
  async #readRows(from: Cursor): Promise<ChangelogRow[]> {
    const { source } = this.#parts
    const ahead = this.#readAhead
    let rows: ChangelogRow[]
    let limit: number
    if (ahead && sameCursor(ahead.from, from)) {
      this.#readAhead = undefined
      limit = ahead.limit
      rows = await ahead.rows
    } else {
      await this.#dropReadAhead()
      limit = this.#readLimit
      rows = await source.read(from, limit)
    }
    if (rows.length === limit && !this.#stopped && !this.#cutShort) {
      const next = cursorAfter(from, rows)
      const nextLimit = this.#readLimit
      const read = source.read(next, nextLimit)
      read.catch(() => {}) // a failure is raised where the rows are used, or the read is dropped
      this.#readAhead = { from: next, limit: nextLimit, rows: read }
    }
    return rows
  }

  /**
   * Once a batch was cut by bytes: as many rows per read as fit in 95% of the bytes it was cut at, at the size of
   * the latest batch's rows (up to batchMaxRows again when rows get smaller).
   */
  #adaptReadLimit(batch: Batch): void {
    if (this.#cutAtBytes === undefined || batch.rows === 0 || batch.payloadBytes === 0) return
    const rowBytes = batch.payloadBytes / batch.rows
    this.#readLimit = Math.max(1, Math.min(this.#parts.batchMaxRows, Math.floor((0.95 * this.#cutAtBytes) / rowBytes)))
  }

  /** Forgets the read ahead, once it has ended (its rows, or its failure, are not used). */
  async #dropReadAhead(): Promise<void> {
    const read = this.#readAhead
    this.#readAhead = undefined
    await read?.rows.catch(() => {})
  }

  /** Publishes a prepared batch in one transaction with its end cursor, then records it. */
  async #commit({ batch, observation }: Prepared): Promise<void> {
    try {
      const rowsTotal = this.position.rowsTotal + BigInt(batch.rows)
      const traceparent = observation.publishing(batch)
      if (traceparent) {
        const header = Buffer.from(traceparent)
        // Lean messages share one headers map: this sets it once for the batch.
        for (const message of batch.messages) message.headers.set(headerNames.traceparent, header)
      }
      const committed = await this.#parts.sink.publish(batch.messages, { cursor: batch.cursor, rowsTotal })
      // Committed: from here on the batch is published whatever happens to this process.
      this.#unpublished.shift()
      const committedAt = new Date()
      this.position.cursor = batch.cursor
      this.position.rowsTotal = rowsTotal
      this.position.batches += 1
      this.position.lastCommitAt = committedAt
      this.#parts.offsets.save(this.#parts.engineId, {
        rows: batch.rows,
        bytes: batch.payloadBytes,
        cursor: batch.cursor,
        committedAt,
        commitMs: committed.commitMs,
      })
      observation.committed(batch, committed, committedAt)
    } catch (error) {
      observation.failed(error)
      throw error
    }
  }

  async #measureLag(idle: boolean): Promise<void> {
    if (Date.now() - this.#lagMeasuredAt < 1000) return
    this.#lagMeasuredAt = Date.now()
    const pending = this.#parts.source.pendingRows
    this.position.lagRows = idle || !pending ? 0 : await pending.call(this.#parts.source, this.position.cursor)
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = done
    })
  }
}
