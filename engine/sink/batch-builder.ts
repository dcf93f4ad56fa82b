import type { TailhouseConfig } from '../config/config.js'
import { prefixWith } from '../encoding/confluent-framing.js'
import { RowDecodeError } from '../encoding/rowbinary-decoder.js'
import { TailhouseError } from '../errors.js'
import { topicFor } from '../kafka/topics.js'
import type { Converter } from '../loop/loop-parts.js'
import type { ChangelogRow } from '../source/changelog-wire.js'
import { type Cursor, cursorAfter, positionText } from '../source/cursor.js'
import { messageKey } from '../source/message-key.js'
import type { SourceSchema, SourceSchemas } from '../source/source-schemas.js'
import type { Batch, DeadLettered } from './batch.js'
import { deadLetterMessage, messageFits, OversizedRowError, oversizedReason, PoisonRowError } from './dead-letter.js'
import { headerNames, type OutgoingMessage } from './outgoing-message.js'

export interface BatchOptions {
  topicTemplate: string
  maxBytes: number
  onPoisonRow: 'stop' | 'dead-letter'
  deadLetterTopic: string
  /** lean: no headers but `traceparent` (set at publish when traced); full: also the six `tailhouse.*` headers. */
  headers: 'lean' | 'full'
  /** kafka.maxMessageBytes: a row whose message is larger is oversized (dead-letter.ts). */
  maxMessageBytes: number
}

/** At most this many dead-lettered rows of a batch are named one by one (the log rate-limits them further). */
const maxDeadLetterDetails = 100

const yieldEveryRows = 1000

/** The converter's options from the config: what `tailhouse start` uses. */
export function batchOptions(config: Pick<TailhouseConfig, 'kafka' | 'engine'>): BatchOptions {
  return {
    topicTemplate: config.kafka.topicTemplate,
    maxBytes: config.engine.batchMaxBytes,
    onPoisonRow: config.engine.onPoisonRow,
    deadLetterTopic: config.kafka.deadLetterTopic,
    headers: config.engine.headers,
    maxMessageBytes: config.kafka.maxMessageBytes,
  }
}

/** The converter of the engine: {@link buildBatch} with fixed schemas and options. */
export function createConverter(schemas: SourceSchemas, options: BatchOptions): Converter {
  return { convert: (rows, from) => buildBatch(rows, from, schemas, options) }
}

/**
 * Turns changelog rows (in cursor order) into Kafka messages, stopping at `maxBytes` of value. A row whose value
 * ClickHouse encoded goes as it is; any other row (another format, or a row captured with drifted types) is decoded
 * and encoded here. A row that cannot be decoded stops the batch with a PoisonRowError, or becomes a dead-letter
 * message carrying its raw payload and the reason, per the configured policy.
 */
export async function buildBatch(
  rows: ChangelogRow[],
  start: Cursor,
  schemas: SourceSchemas,
  options: BatchOptions,
): Promise<Batch> {
  const messages: OutgoingMessage[] = []
  const queryIds = new Set<string>()
  const rowsBySource = new Map<string, number>()
  let payloadBytes = 0
  let consumed = 0
  const deadLettered: DeadLettered = { bySource: new Map(), rows: [] }
  const max = options.maxMessageBytes
  const topics = new Map<string, string>()
  const full = options.headers === 'full' ? new FullHeaders() : undefined
  // Lean messages share one headers map per batch: `traceparent` is the same for every message of a transaction.
  const shared = new Map<Buffer, Buffer>()
  let lastQuery = ''
  let lastSource = ''
  let sourceRows = 0
  // One INSERT's rows share source and schema: the previous row's schema is looked up again only on change.
  let schema: SourceSchema | undefined
  // Values ClickHouse encoded, with a schema registry: the version whose Confluent framing they get.
  let framed: SourceSchema | undefined
  for (const row of rows) {
    const size = row.value?.length ?? row.payload?.length ?? 0
    if (consumed > 0 && payloadBytes + size > options.maxBytes) break
    // Encoding here takes tens of milliseconds per batch: let the event loop in now and then, so the previous
    // batch's commit (whose replies arrive meanwhile) goes on instead of waiting for the whole batch.
    if (consumed > 0 && consumed % yieldEveryRows === 0 && row.value === undefined) await new Promise(setImmediate)
    const headers = full ? full.of(row) : shared
    const topic = topics.get(row.source) ?? cacheTopic(topics, options.topicTemplate, row.source)
    let message: OutgoingMessage | undefined
    let problem = ''
    if (row.value !== undefined) {
      let value = row.value
      if (schemas.framed) {
        if (framed === undefined || framed.source !== row.source || framed.version !== row.schemaVersion)
          framed = await schemas.version(row.source, row.schemaVersion)
        if (framed.framing) value = prefixWith(framed.framing, value)
      }
      message = { topic, key: row.key, value, partition: row.partition, headers }
    } else {
      try {
        if (schema === undefined || schema.source !== row.source || !sameSchema(schema, row))
          schema = await schemaOf(schemas, row)
        const values = schema.decode(row.payload as Buffer)
        const value = schema.encoder.encode(
          {
            source: row.source,
            op: row.op,
            schemaVersion: schema.version,
            partitionId: row.partitionId,
            blockNumber: row.blockNumber,
            blockOffset: row.blockOffset,
            queryId: row.queryId,
            ingestTimeMicros: row.ingestMicros,
          },
          values,
        )
        const key = row.key ?? messageKey(values, schema.keys)
        message = { topic, key, value, partition: row.partition, headers }
      } catch (error) {
        if (error instanceof TailhouseError && error.canRetry) throw error // e.g. a schema migrate has yet to register
        if (options.onPoisonRow === 'stop' || !isRowProblem(error)) throw new PoisonRowError(row, error)
        problem = (error as Error).message
      }
    }
    if (message) {
      const { fits, bytes } = messageFits(message, options.maxMessageBytes)
      if (!fits) {
        if (options.onPoisonRow === 'stop') throw new OversizedRowError(row, bytes, options.maxMessageBytes)
        problem = oversizedReason(bytes, options.maxMessageBytes)
        message = undefined
      }
    }
    if (message) {
      messages.push(message)
      payloadBytes += message.value.length
      if (row.source !== lastSource) {
        if (sourceRows > 0) rowsBySource.set(lastSource, (rowsBySource.get(lastSource) ?? 0) + sourceRows)
        lastSource = row.source
        sourceRows = 0
      }
      sourceRows += 1
    } else {
      const dead = deadLetterMessage(row, problem, options.deadLetterTopic, full ? full.of(row) : new Map(), max)
      messages.push(dead)
      payloadBytes += dead.value.length
      deadLettered.bySource.set(row.source, (deadLettered.bySource.get(row.source) ?? 0) + 1)
      if (deadLettered.rows.length < maxDeadLetterDetails)
        deadLettered.rows.push({ source: row.source, cursor: positionText(row.stream, row), reason: problem })
    }
    if (row.queryId !== lastQuery) {
      lastQuery = row.queryId
      queryIds.add(row.queryId)
    }
    consumed += 1
  }
  if (sourceRows > 0) rowsBySource.set(lastSource, (rowsBySource.get(lastSource) ?? 0) + sourceRows)
  const cursor = cursorAfter(start, rows, consumed)
  return {
    messages,
    rows: consumed,
    payloadBytes,
    cursor,
    queryIds,
    firstIngestMicros: rows[0]?.ingestMicros,
    rowsBySource,
    deadLettered,
  }
}

function sameSchema(schema: SourceSchema, row: ChangelogRow): boolean {
  return row.fingerprint === undefined ? schema.version === row.schemaVersion : schema.fingerprint === row.fingerprint
}

/** A drifted row decodes by its types' fingerprint; any other by its schema version. */
function schemaOf(schemas: SourceSchemas, row: ChangelogRow): Promise<SourceSchema> | SourceSchema {
  if (row.fingerprint === undefined) return schemas.version(row.source, row.schemaVersion)
  return schemas.cached(row.source, row.fingerprint) ?? schemas.get(row.source, row.fingerprint)
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
 * The `full` header set (engine.headers: full): where the row came from and where it sits in the changelog, in
 * addition to what the envelope holds. Values that repeat from row to row (one INSERT's rows share source, op,
 * version, query id and ingest time) reuse the previous row's buffers; only the cursor is new per row. Header
 * buffers are never mutated after creation.
 */
class FullHeaders {
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
    headers.set(headerNames.cursor, Buffer.from(positionText(row.stream, row)))
    headers.set(headerNames.queryId, this.#queryIdBytes)
    headers.set(headerNames.ingestTime, this.#ingestBytes)
    return headers
  }
}
