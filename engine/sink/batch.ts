import type { Cursor } from '../source/cursor.js'
import type { OutgoingMessage } from './outgoing-message.js'

/** The messages of one transaction, made from a run of changelog rows, and what the loop records of it. */
export interface Batch {
  messages: OutgoingMessage[]
  /** Rows consumed from the changelog: published or dead-lettered. */
  rows: number
  /** Value bytes of the messages. */
  payloadBytes: number
  /** The cursor after the last consumed row. */
  cursor: Cursor
  /** ClickHouse query ids of the INSERTs in this batch. */
  queryIds: Set<string>
  /** Ingest time of the batch's first row, µs. */
  firstIngestMicros: bigint | undefined
  /** Rows published to their source's topic, per source (dead-lettered rows are not). */
  rowsBySource: Map<string, number>
  /** Rows sent to the dead-letter topic instead of their source's topic. */
  deadLettered: DeadLettered
}

export interface DeadLettered {
  /** Dead-lettered rows per source. */
  bySource: Map<string, number>
  /** The first of them (up to 100 per batch): where each is and why, for the log. */
  rows: Array<{ source: string; cursor: string; reason: string }>
}
