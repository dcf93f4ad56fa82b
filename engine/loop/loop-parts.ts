/**
 * The parts the batch loop (batch-loop.ts) is made of, as small interfaces, after Debezium's engine: a row source
 * polled in cursor order, a converter that turns rows into Kafka messages, a sink that publishes a batch with its
 * end cursor atomically, an offset store mirroring the committed cursor, and an observer that telemetry implements.
 * The loop owns the order of calls; each part owns one dependency. Unit tests drive the loop with fakes of these.
 */
import type { OffsetStore } from '../offsets/offset-store.js'
import type { Batch } from '../sink/batch.js'
import type { OutgoingMessage } from '../sink/outgoing-message.js'
import type { ChangelogRow } from '../source/changelog-wire.js'
import type { Cursor } from '../source/cursor.js'

export type { OffsetStore }

/** Rows in cursor order. Implementations: the changelog tables (changelog-source.ts), a snapshot, a replay. */
export interface RowSource {
  /**
   * At most `limit` rows after `cursor`, in cursor order; empty when there is nothing new. May be called again
   * before the previous call's rows are published (the loop reads ahead), but never before the previous call
   * returned: calls do not overlap, and `unfinished` is never called while a read is in flight.
   */
  read(cursor: Cursor, limit: number): Promise<ChangelogRow[]>
  /** The loop published fewer of the rows of the last read from `source` than it returned: read it again. */
  unfinished?(source: string): void
  /**
   * Called when a read found nothing, before the loop sleeps: checks that need a quiet moment (a cursor that went
   * back). Returns the cursor to go on from (the same one, or without partitions that are gone for good).
   */
  idle?(cursor: Cursor): Promise<Cursor>
  /** Rows after `cursor` not yet read, for lag; called at most once a second. */
  pendingRows?(cursor: Cursor): Promise<number>
}

/** Turns rows (in cursor order, after `from`) into the messages of one transaction. */
export interface Converter {
  convert(rows: ChangelogRow[], from: Cursor): Promise<Batch>
}

/** What a committed batch reports. */
export interface Committed {
  /** Time from the first send to the commit, ms. */
  commitMs: number
}

/**
 * Publishes one batch: exactly-once, its messages and its end cursor in one Kafka transaction (a read_committed
 * consumer sees both or neither); at-least-once, the messages only. Resolves once the batch is committed.
 */
export interface Sink {
  publish(messages: OutgoingMessage[], checkpoint: { cursor: Cursor; rowsTotal: bigint }): Promise<Committed>
}

/**
 * What the loop tells telemetry, per batch, in this order: `start` when a read returns rows, then on the returned
 * handle `encoded` (or `failed`), `publishing` right before the transaction (returns the `traceparent` to put on
 * the messages, if traced), then `committed` or `failed`, or `dropped` for a batch prepared ahead and never
 * published. Implementations must not throw.
 */
export interface LoopObserver {
  start(readStartedAt: number, rows: ChangelogRow[]): BatchObservation
  /** The loop found nothing to read. */
  idle(): void
}

export interface BatchObservation {
  encoded(batch: Batch): void
  publishing(batch: Batch): string | undefined
  committed(batch: Batch, committed: Committed, committedAt: Date): void
  failed(error: unknown): void
  dropped(): void
}

export const silentObserver: LoopObserver = {
  start: () => ({
    encoded() {},
    publishing: () => undefined,
    committed() {},
    failed() {},
    dropped() {},
  }),
  idle() {},
}
