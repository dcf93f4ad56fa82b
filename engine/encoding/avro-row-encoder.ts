/**
 * Encodes decoded rows (rowbinary-decoder.ts shapes) as Avro binary of the Envelope record that
 * schema/avro-mapping.ts generates, with avsc. Each column compiles once into a converter from the decoder's value
 * to the value avsc writes for its Avro type; a message is then one pass of closures and one `toBuffer`.
 *
 * Values avsc is given: longs as number or bigint (a long type of our own: avsc's refuses unsafe integers),
 * decimals as their unscaled two's-complement big-endian bytes, timestamps as the long of their logical type's
 * unit, enums and strings as text, Nullable as null or the value, maps as objects keyed by the key text.
 */
import avro from 'avsc'
import { type AvroSchema, isDecimalInteger, mapAvroRow } from '../schema/avro-mapping.js'
import type { ClickHouseType } from '../schema/clickhouse-type.js'
import { hasKeyText } from '../schema/map-keys.js'
import { RowEncodeError } from './encode-schema.js'
import { compileKeyText } from './map-key-text.js'
import type { EnvelopeFields, RowSchema } from './row-encoder.js'

type Convert = (value: unknown) => unknown

const same: Convert = (value) => value

/** Avro long as JavaScript number or bigint: exact over the whole 64-bit range. */
const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buffer: Buffer) => {
    const n = buffer.readBigInt64LE()
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n
  },
  toBuffer: (n: number | bigint) => {
    const buffer = Buffer.allocUnsafe(8)
    buffer.writeBigInt64LE(BigInt(n))
    return buffer
  },
  fromJSON: (n: number | string) => (typeof n === 'number' ? n : BigInt(n)),
  toJSON: (n: number | bigint) => (typeof n === 'bigint' ? Number(n) : n),
  isValid: (n: unknown) =>
    (typeof n === 'number' && Number.isSafeInteger(n)) || (typeof n === 'bigint' && n >= -(2n ** 63n) && n < 2n ** 63n),
  compare: (a: number | bigint, b: number | bigint) => (a === b ? 0 : a < b ? -1 : 1),
})

/** The avsc type of an Avro schema, with exact longs. Used by the encoder and by tests that decode. */
export function avroType(schema: AvroSchema): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, {
    registry: { long: bigintLong } as never,
    // `{ type: 'long', logicalType }` bypasses the registry: timestamps are exact longs too.
    typeHook: (s: avro.Schema) =>
      typeof s === 'object' && (s as { type?: unknown }).type === 'long' ? (bigintLong as never) : undefined,
    wrapUnions: false,
  })
}

export interface AvroMessageEncoder {
  /** The Envelope's Avro schema, as registered. */
  readonly schema: ReturnType<typeof mapAvroRow>['schema']
  encode(fields: EnvelopeFields, row: Record<string, unknown>): Buffer
}

/**
 * Compiles the Avro message encoder of one schema version. Binary Avro carries no names, so the source named in
 * `schema.source` only sets the schema's namespace; the bytes depend on the columns and options alone.
 */
export function createAvroMessageEncoder(schema: RowSchema): AvroMessageEncoder {
  const [database = 'source', table = 'table'] = (schema.source ?? 'source.table').split(/\.(.*)/s)
  const mapping = mapAvroRow(database, table, schema.version ?? 1, schema.columns, schema.options)
  const type = avroType(mapping.schema)
  const rowFields = mapping.schema.fields.find((f) => f.name === 'row')?.type as { fields: Array<{ type: AvroSchema }> }
  const parts = schema.columns.map((column, i) => ({
    column: column.name,
    field: mapping.fieldNames[i] as string,
    convert: compileValue(column.type, (rowFields.fields[i] as { type: AvroSchema }).type),
  }))
  const encodeRow = (row: Record<string, unknown>) => {
    const out: Record<string, unknown> = {}
    for (const part of parts) {
      try {
        out[part.field] = part.convert(row[part.column])
      } catch (error) {
        throw new RowEncodeError(part.column, error)
      }
    }
    return out
  }
  return {
    schema: mapping.schema,
    encode: (fields, row) =>
      type.toBuffer({
        source: fields.source,
        op: fields.op,
        schema_version: fields.schemaVersion,
        cursor: {
          partition_id: fields.partitionId,
          block_number: fields.blockNumber,
          block_offset: fields.blockOffset,
        },
        query_id: fields.queryId,
        ingest_time: fields.ingestTimeMicros,
        row: encodeRow(row),
      }),
  }
}

/** A converter for `type`, whose Avro schema avro-mapping.ts made `schema`. */
function compileValue(type: ClickHouseType, schema: AvroSchema): Convert {
  switch (type.kind) {
    case 'lowCardinality':
      return compileValue(type.inner, schema)
    case 'nullable': {
      const inner = compileValue(type.inner, (schema as AvroSchema[])[1] as AvroSchema)
      return (value) => (value === null ? null : inner(value))
    }
    case 'array':
      return repeated(compileValue(type.element, (schema as { items: AvroSchema }).items))
    case 'nested':
      return repeated(compileValue({ kind: 'tuple', elements: type.fields }, (schema as { items: AvroSchema }).items))
    case 'map': {
      if (!hasKeyText(type.key)) {
        const entry = compileValue(
          {
            kind: 'tuple',
            elements: [
              { name: '0', type: type.key },
              { name: '1', type: type.value },
            ],
          },
          (schema as { items: AvroSchema }).items,
        )
        return repeated(entry)
      }
      const key = compileKeyText(type.key)
      const value = compileValue(type.value, (schema as { values: AvroSchema }).values)
      return (pairs) => {
        const map: Record<string, unknown> = Object.create(null)
        for (const [k, v] of pairs as Array<[unknown, unknown]>) map[key(k)] = value(v)
        return map
      }
    }
    case 'tuple': {
      const fields = (schema as { fields: Array<{ name: string; type: AvroSchema }> }).fields
      const parts = type.elements.map((element, i) => {
        const field = fields[i] as { name: string; type: AvroSchema }
        return { key: element.name ?? `_${i + 1}`, name: field.name, convert: compileValue(element.type, field.type) }
      })
      return (value) => {
        const source = value as Record<string, unknown>
        const out: Record<string, unknown> = {}
        for (const part of parts) out[part.name] = part.convert(source[part.key])
        return out
      }
    }
    case 'int':
      if (isDecimalInteger(type)) return (value) => unscaledBytes(BigInt(value as bigint | string))
      return same
    case 'decimal':
      return (value) => unscaledBytes(BigInt((value as string).replace('.', '')))
    case 'dateTime':
      return logicalUnit(schema) === 'timestamp-millis' ? (value) => (value as number) * 1000 : same
    case 'dateTime64': {
      const target = logicalUnit(schema)
      if (target === undefined) return same
      const digits = target === 'timestamp-millis' ? 3 : target === 'timestamp-micros' ? 6 : 9
      const factor = 10n ** BigInt(digits - type.precision)
      return factor === 1n ? same : (value) => (value as bigint) * factor
    }
    default:
      // float, bool, string (Buffer), date (days), time, time64, uuid, ip, enum (its name), json: as decoded.
      return same
  }
}

function logicalUnit(schema: AvroSchema): string | undefined {
  return typeof schema === 'object' && !Array.isArray(schema) ? (schema.logicalType as string | undefined) : undefined
}

function repeated(element: Convert): Convert {
  if (element === same) return same
  return (value) => (value as unknown[]).map(element)
}

/** Avro's decimal bytes: the unscaled integer in big-endian two's complement, in the fewest bytes. */
export function unscaledBytes(n: bigint): Buffer {
  const magnitude = n < 0n ? -n - 1n : n
  const size = Math.ceil((magnitude.toString(2).length + 1) / 8)
  const hex = BigInt.asUintN(size * 8, n)
    .toString(16)
    .padStart(size * 2, '0')
  return Buffer.from(hex, 'hex')
}
