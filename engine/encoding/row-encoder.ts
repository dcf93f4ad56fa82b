/**
 * The encoders behind the sink: a {@link RowEncoder} turns one decoded changelog row (the values of
 * rowbinary-decoder.ts) into bytes of the configured format, and a {@link MessageEncoder} wraps that in the Kafka
 * message value, the envelope. Both are compiled once per source schema version and then called per row; they
 * are synchronous, keep no state between rows, and throw {@link RowEncodeError} for a value that does not fit.
 *
 * Formats:
 * - `protobuf`: the value is a serialized `tailhouse.v1.Envelope` (schemas/tailhouse/v1/envelope.proto) whose
 *   `row` holds the serialized `Row` of the source version's generated `.proto`.
 * - `json`: the value is a UTF-8 JSON object `{ source, op, schema_version, cursor: { partition_id,
 *   block_number, block_offset }, query_id, ingest_time, row }`, where `row` is the same `Row` in the proto3
 *   JSON mapping (see json-row-encoder.ts).
 * - `avro`: the value is Avro binary of the Envelope record schema/avro-mapping.ts generates (avro-row-encoder.ts).
 * - `json-schema`: the value is a UTF-8 JSON document valid against the JSON Schema schema/json-schema-mapping.ts
 *   generates: the json format's fields with typed row values (json-schema-row-encoder.ts).
 * - `debezium-json`: the value is a Debezium change event `{ before, after, source, op, ts_ms }` in JSON
 *   (debezium-json-encoder.ts).
 *
 * With `schema.registry` set, values are framed in Confluent's wire format (confluent-framing.ts): magic byte,
 * schema id and, for Protobuf, the message index of the Envelope ([0]).
 */
import type { CapturedColumn } from '../schema/clickhouse-type.js'
import { createAvroMessageEncoder } from './avro-row-encoder.js'
import { confluentPrefix, prefixWith } from './confluent-framing.js'
import { createDebeziumJsonEncoder } from './debezium-json-encoder.js'
import { createEnvelopeEncoder, createEnvelopeJson } from './envelope-encoder.js'
import { createJsonRowEncoder } from './json-row-encoder.js'
import { createJsonSchemaMessageEncoder } from './json-schema-row-encoder.js'
import { createProtoRowEncoder } from './proto-row-encoder.js'

export { RowEncodeError } from './encode-schema.js'

export type EncodingFormat = 'protobuf' | 'json' | 'avro' | 'json-schema' | 'debezium-json'

/** The formats a schema registry holds a schema for: their values can be framed in Confluent's wire format. */
export const registryFormats = ['protobuf', 'avro', 'json-schema'] as const

export interface RowEncoder {
  readonly format: EncodingFormat
  /** One decoded row (column name → value, as createRowDecoder returns it) in this format. */
  encode(row: Record<string, unknown>): Uint8Array
}

/** What a Kafka message says about its row besides the row itself. */
export interface EnvelopeFields {
  /** `<database>.<table>` of the source. */
  source: string
  op: 'insert' | 'upsert' | 'delete' | 'retract' | 'read'
  schemaVersion: number
  partitionId: string
  blockNumber: bigint
  blockOffset: bigint
  queryId: string
  /** Microseconds since the epoch. */
  ingestTimeMicros: bigint
}

export interface MessageEncoder {
  /** The Kafka message value for one row. */
  encode(fields: EnvelopeFields, row: Record<string, unknown>): Buffer
}

/** One source schema version, as `migrate` generated and registered it. */
export interface RowSchema {
  /** The generated `.proto` text of the version (generateRowProto's `text`, the file in schemasDir). */
  protoText: string
  /** The captured columns in payload order: the keys of the decoded rows. */
  columns: CapturedColumn[]
  /** The version's field-number ledger (generateRowProto's `fieldNumbers`, the registry's `field_numbers`). */
  fieldNumbers: Record<string, number>
  /** The protobuf options the `.proto` was generated with (Avro and JSON Schema follow them too). */
  options: { timestamps: 'timestamp' | 'int64'; enums: 'enum' | 'string' }
  /**
   * `<database>.<table>` of the source and its schema version. Avro and JSON Schema name their schemas after them
   * (the encoded bytes do not depend on them); debezium-json writes them into `source`.
   */
  source?: string
  version?: number
  /**
   * The registry's id of this version's value schema (registry/register-source.ts): values are then framed in
   * Confluent's wire format. Only for protobuf, avro and json-schema.
   */
  registry?: { schemaId: number }
  /**
   * debezium-json only: `source.name` and the schema name prefix (default 'tailhouse'); `includeSchema` wraps each
   * event as `{ schema, payload }` with its Kafka Connect schema (needs `source`).
   */
  debezium?: { serverName?: string; includeSchema?: boolean }
}

/**
 * Compiles the row encoder of one schema version. Throws a TypeError naming the column when the `.proto` does
 * not declare the column the way proto-mapping.ts maps its type (e.g. a `.proto` of other options).
 */
export function createRowEncoder(format: EncodingFormat, schema: RowSchema): RowEncoder {
  if (format === 'protobuf') return createProtoRowEncoder(schema)
  if (format === 'json') return createJsonRowEncoder(schema)
  if (format === 'avro' || format === 'json-schema' || format === 'debezium-json') {
    throw new TypeError(`the ${format} format encodes whole messages only: use createMessageEncoder`)
  }
  throw new TypeError(`unknown encoding format ${JSON.stringify(format)}`)
}

/**
 * Compiles the Kafka message value encoder of one schema version.
 *
 * @example
 *   const encoder = createMessageEncoder('protobuf', { protoText, columns, fieldNumbers, options })
 *   const value = encoder.encode(
 *     { source: 'shop.orders', op: 'insert', schemaVersion: 1, partitionId: '2026070612', blockNumber: 3n,
 *       blockOffset: 0n, queryId: 'q1', ingestTimeMicros: 1783339200000000n },
 *     decode(payload),
 *   )
 */
export function createMessageEncoder(format: EncodingFormat, schema: RowSchema): MessageEncoder {
  const unframed = createUnframedEncoder(format, schema)
  if (schema.registry === undefined) return unframed
  if (!(registryFormats as readonly string[]).includes(format)) {
    throw new TypeError(`the ${format} format has no registry schema: leave schema.registry unset`)
  }
  // The registered Protobuf file declares Envelope first (registry/protobuf-schema.ts): message index [0].
  const prefix = confluentPrefix(schema.registry.schemaId, format === 'protobuf' ? [0] : undefined)
  return { encode: (fields, row) => prefixWith(prefix, unframed.encode(fields, row)) }
}

function createUnframedEncoder(format: EncodingFormat, schema: RowSchema): MessageEncoder {
  if (format === 'protobuf') {
    const rows = createProtoRowEncoder(schema)
    const envelope = createEnvelopeEncoder()
    return { encode: (fields, row) => envelope(fields, rows.encode(row)) }
  }
  if (format === 'avro') return createAvroMessageEncoder(schema)
  if (format === 'json-schema') return createJsonSchemaMessageEncoder(schema)
  if (format === 'debezium-json') return createDebeziumJsonEncoder(schema)
  if (format === 'json') {
    const rows = createJsonRowEncoder(schema)
    const envelope = createEnvelopeJson()
    return { encode: (fields, row) => Buffer.from(envelope(fields, rows.text(row)), 'utf8') }
  }
  throw new TypeError(`unknown encoding format ${JSON.stringify(format)}`)
}
