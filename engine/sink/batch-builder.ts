import { RowDecodeError } from '../encoding/rowbinary-decoder.js'
import { TailhouseError } from '../errors.js'
import { topicFor } from '../kafka/topics.js'
import type { ChangelogRow } from '../source/changelog-reader.js'
import { type Cursor, cursorAfter } from '../source/cursor.js'
import { messageKey } from '../source/message-key.js'
import type { SourceSchema, SourceSchemas } from '../source/source-schemas.js'
import { headerNames, type OutgoingMessage } from './outgoing-message.js'

export interface Batch {
  messages: OutgoingMessage[]
  /** Rows consumed from the changelog (published or dead-lettered). */
  rows: number
  payloadBytes: number
  /** The cursor after the last consumed row. */
  cursor: Cursor
  /** ClickHouse query ids of the INSERTs in this batch. */
  queryIds: Set<string>
  /** Ingest time of the batch's first row, µs. */
  firstIngestMicros: bigint | undefined
}

export interface BatchOptions {
  topicTemplate: string
  maxBytes: number
  onPoisonRow: 'stop' | 'dead-letter'
  deadLetterTopic: string
}

const yieldEveryRows = 1000

/** A row that cannot be decoded or encoded, when the policy is to stop. Never retried: the row will not change. */
export class PoisonRowError extends TailhouseError {
  constructor(row: ChangelogRow, cause: unknown) {
    super(
      'TH_CAPTURE',
      `changelog row ${row.partitionId}/${row.blockNumber}/${row.blockOffset} of ${row.source} (schema version ` +
        `${row.schemaVersion}) cannot be published: ${(cause as Error).message}. Nothing after it was published. ` +
        'Set engine.onPoisonRow: dead-letter to route such rows to kafka.deadLetterTopic and continue',
      { cause },
    )
  }
}

/**
 * Turns changelog rows (in cursor order) into Kafka messages, stopping at `maxBytes` of payload. A row that
 * cannot be decoded stops the batch with a PoisonRowError, or becomes a dead-letter message carrying its raw
 * payload and the reason, per the configured policy.
 */
export async function buildBatch(
  rows: ChangelogRow[],
  start: Cursor,
  schemas: SourceSchemas,
  options: BatchOptions,
): Promise<Batch> {
  const messages: OutgoingMessage[] = []
  const queryIds = new Set<string>()
  let payloadBytes = 0
  let consumed = 0
  const headerValues = new HeaderValues()
  const topics = new Map<string, string>()
  // One INSERT's rows share source and fingerprint: the previous row's schema is looked up again only on change.
  let schema: SourceSchema | undefined
  for (const row of rows) {
    if (consumed > 0 && payloadBytes + row.payload.length > options.maxBytes) break
    // Encoding a batch takes tens of milliseconds: let the event loop in now and then, so the previous batch's
    // commit (whose replies arrive meanwhile) goes on instead of waiting for the whole batch.
    if (consumed > 0 && consumed % yieldEveryRows === 0) await new Promise(setImmediate)
    const headers = headerValues.of(row)
    try {
      if (schema === undefined || schema.source !== row.source || schema.fingerprint !== row.fingerprint)
        schema = schemas.cached(row.source, row.fingerprint) ?? (await schemas.get(row.source, row.fingerprint))
      const values = schema.decode(row.payload)
      const value = schema.encoder.encode(
        {
          source: row.source,
          op: row.op,
          schemaVersion: row.schemaVersion,
          partitionId: row.partitionId,
          blockNumber: row.blockNumber,
          blockOffset: row.blockOffset,
          queryId: row.queryId,
          ingestTimeMicros: row.ingestMicros,
        },
        values,
      )
      messages.push({
        topic: topics.get(row.source) ?? cacheTopic(topics, options.topicTemplate, row.source),
        key: messageKey(values, schema.keyColumns),
        value,
        headers,
      })
    } catch (error) {
      if (error instanceof TailhouseError && error.canRetry) throw error // e.g. a schema migrate has yet to register
      if (options.onPoisonRow === 'stop' || !isRowProblem(error)) throw new PoisonRowError(row, error)
      headers.set(headerNames.error, Buffer.from((error as Error).message))
      messages.push({ topic: options.deadLetterTopic, key: Buffer.from(row.source), value: row.payload, headers })
    }
    queryIds.add(row.queryId)
    payloadBytes += row.payload.length
    consumed += 1
  }
  const cursor = cursorAfter(start, rows, consumed)
  return { messages, rows: consumed, payloadBytes, cursor, queryIds, firstIngestMicros: rows[0]?.ingestMicros }
}

function cacheTopic(topics: Map<string, string>, template: string, source: string): string {
  const topic = topicFor(template, source)
  topics.set(source, topic)
  return topic
}

function isRowProblem(error: unknown): boolean {
  return (
    error instanceof RowDecodeError ||
    error instanceof RangeError ||
    error instanceof TypeError ||
    error instanceof TailhouseError
  )
}

/**
 * Headers on every message (design.md §3): where the row came from and where it sits in the changelog. Values
 * that repeat from row to row (one INSERT's rows share source, op, version, query id and ingest time) reuse the
 * previous row's buffers; only the cursor is new per row. Header buffers are never mutated after creation.
 */
class HeaderValues {
  #source = ''
  #op = ''
  #schemaVersion = -1
  #queryId = ''
  #ingestMicros = -1n
  #sourceBytes = Buffer.alloc(0)
  #opBytes = Buffer.alloc(0)
  #schemaVersionBytes = Buffer.alloc(0)
  #queryIdBytes = Buffer.alloc(0)
  #ingestBytes = Buffer.alloc(0)

  of(row: ChangelogRow): Map<Buffer, Buffer> {
    if (row.source !== this.#source) {
      this.#source = row.source
      this.#sourceBytes = Buffer.from(row.source)
    }
    if (row.op !== this.#op) {
      this.#op = row.op
      this.#opBytes = Buffer.from(row.op)
    }
    if (row.schemaVersion !== this.#schemaVersion) {
      this.#schemaVersion = row.schemaVersion
      this.#schemaVersionBytes = Buffer.from(String(row.schemaVersion))
    }
    if (row.queryId !== this.#queryId) {
      this.#queryId = row.queryId
      this.#queryIdBytes = Buffer.from(row.queryId)
    }
    if (row.ingestMicros !== this.#ingestMicros) {
      this.#ingestMicros = row.ingestMicros
      this.#ingestBytes = Buffer.from(row.ingestMicros.toString())
    }
    const headers = new Map<Buffer, Buffer>()
    headers.set(headerNames.source, this.#sourceBytes)
    headers.set(headerNames.op, this.#opBytes)
    headers.set(headerNames.schemaVersion, this.#schemaVersionBytes)
    headers.set(headerNames.cursor, Buffer.from(`${row.partitionId}:${row.blockNumber}:${row.blockOffset}`))
    headers.set(headerNames.queryId, this.#queryIdBytes)
    headers.set(headerNames.ingestTime, this.#ingestBytes)
    return headers
  }
}
