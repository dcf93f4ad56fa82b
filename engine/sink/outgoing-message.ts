/**
 * A Kafka message ready to send. Header names are UTF-8 bytes: pass {@link headerNames}' buffers, allocated once,
 * rather than a Buffer per message (headers are most of a small message's encoding cost).
 */
export interface OutgoingMessage {
  topic: string
  key: Buffer | undefined
  value: Buffer
  /** The partition (ClickHouse computed it from the key, as Java's default partitioner does); absent: the client's. */
  partition?: number | undefined
  headers: Map<Buffer, Buffer>
}

/** Every header name tailhouse writes (ARCHITECTURE.md, "Messages"), as the bytes sent on the wire. */
export const headerNames = {
  source: Buffer.from('tailhouse.source'),
  op: Buffer.from('tailhouse.op'),
  schemaVersion: Buffer.from('tailhouse.schema_version'),
  cursor: Buffer.from('tailhouse.cursor'),
  queryId: Buffer.from('tailhouse.query_id'),
  ingestTime: Buffer.from('tailhouse.ingest_time_us'),
  error: Buffer.from('tailhouse.error'),
  traceparent: Buffer.from('traceparent'),
} as const
