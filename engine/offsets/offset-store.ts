import type { Cursor } from '../source/cursor.js'

/** What one committed batch was, for the history and for `status`. */
export interface BatchRecord {
  rows: number
  bytes: number
  /** The cursor after the batch's last row. */
  cursor: Cursor
  committedAt: Date
  /** Kafka transaction time, ms. */
  commitMs: number
}

/**
 * The engine's local record of where it is. Contract: `load` returns the cursor of the last `save`d batch, or
 * an empty cursor; `save` is atomic (all or nothing) and durable when it returns. In exactly-once mode the
 * Kafka checkpoint topic is the authority and this store is its fast local mirror, written after each commit;
 * in at-least-once mode this store is the authority. `close` is idempotent.
 */
export interface OffsetStore {
  /**
   * Binds `engineId`'s state to the changelogs it describes (capture/identity.ts): records `changelogId` the first
   * time, and throws, naming both, when the store holds this engine's state for other changelogs. Call before
   * `load`.
   */
  bind(engineId: string, changelogId: string, changelogs: string): void
  load(engineId: string): Cursor
  save(engineId: string, batch: BatchRecord): void
  /** The last `limit` batches, newest first. */
  history(engineId: string, limit: number): BatchRecord[]
  close(): void
}
