/**
 * Maps a captured source version to the Avro schema of its Kafka message values: a record `Envelope` (the fields of
 * tailhouse.v1.Envelope, envelope-proto.ts) whose `row` is the record `Row` of the version's columns. The schema is
 * what `migrate` registers in a schema registry and what the Avro encoder (encoding/avro-row-encoder.ts) writes.
 *
 * | ClickHouse                         | Avro                                                                        |
 * |------------------------------------|-----------------------------------------------------------------------------|
 * | Int8/16/32, UInt8/16               | int                                                                         |
 * | UInt32, Int64                      | long                                                                        |
 * | UInt64, (U)Int128, (U)Int256       | bytes, logicalType decimal(P, 0) with P = 20, 39, 39, 77, 78 (exact)        |
 * | Float32 / Float64                  | float / double                                                              |
 * | Decimal(P, S)                      | bytes, logicalType decimal(P, S)                                            |
 * | Bool                               | boolean                                                                     |
 * | String, FixedString(N)             | bytes (ClickHouse strings are bytes; exact)                                 |
 * | Date, Date32                       | int, logicalType date (days since 1970-01-01)                               |
 * | DateTime                           | long, logicalType timestamp-millis                                          |
 * | DateTime64(p)                      | long, timestamp-millis (p ≤ 3), timestamp-micros (p ≤ 6), timestamp-nanos   |
 * | Time / Time64(p)                   | int seconds / long ticks of 10^-p s (may be negative or past 24 h: no       |
 * |                                    | time-of-day logical type fits)                                              |
 * | UUID                               | string, logicalType uuid                                                    |
 * | IPv4, IPv6                         | string, as ClickHouse prints it                                             |
 * | Enum8/16                           | enum of the value names (string when a name is no Avro name, or            |
 * |                                    | `protobuf.enums: string`)                                                   |
 * | LowCardinality(T)                  | T                                                                           |
 * | Nullable(T)                        | union ["null", T], default null                                             |
 * | Array(T)                           | array                                                                       |
 * | Map(K, V)                          | map (keys as text, schema/map-keys.ts), or an array of records { key,     |
 * |                                    | value } when K has no text form (Array, Tuple, …)                           |
 * | Tuple(...)                         | record, fields named as the elements or _1, _2, …                           |
 * | Nested(...)                        | array of records                                                            |
 * | JSON, Dynamic, Variant             | string (JSON text)                                                          |
 *
 * With `protobuf.timestamps: int64` dates and times are the plain int/long without logical types.
 *
 * Every Row field has a default (its type's zero: 0, false, empty, the first enum symbol, null), so adding or
 * dropping a column keeps BACKWARD, FORWARD and FULL compatibility; changing a column's type does not, except the
 * promotions Avro allows (int → long, float → double, …). Field names are the column names made Avro names
 * (proto-names.ts fieldIdentifier: lower_snake, unique); each field's `doc` holds the ClickHouse name and type.
 */
import type { CapturedColumn, ClickHouseType } from './clickhouse-type.js'
import { hasKeyText, keyTextDescription } from './map-keys.js'
import { formatClickHouseType } from './parse-clickhouse-type.js'
import { fieldIdentifier, fieldScope, packageSegment, typeIdentifier, typeScope } from './proto-names.js'

/** An Avro schema as JSON (a type name, or an object). */
export type AvroSchema = string | { [key: string]: unknown } | AvroSchema[]

export interface AvroOptions {
  timestamps?: 'timestamp' | 'int64'
  enums?: 'enum' | 'string'
}

export interface AvroField {
  name: string
  type: AvroSchema
  default: unknown
  doc?: string
}

export interface AvroRowMapping {
  /** The Envelope record, ready for JSON.stringify and registration. */
  schema: { type: 'record'; name: 'Envelope'; namespace: string; doc: string; fields: AvroField[] }
  /** `<namespace>.Envelope`: the record name RecordNameStrategy uses as subject. Stable across versions. */
  fullName: string
  /** The Row record's field name of each column, in column order. */
  fieldNames: string[]
}

/** The Avro namespace of a source: `tailhouse.<db>.<table>` (no version, so every version is one record name). */
export function avroNamespace(database: string, table: string): string {
  return ['tailhouse', packageSegment(database), packageSegment(table)].join('.')
}

export function mapAvroRow(
  database: string,
  table: string,
  version: number,
  columns: readonly CapturedColumn[],
  options: AvroOptions = {},
): AvroRowMapping {
  const namespace = avroNamespace(database, table)
  const mapper = new AvroMapper(options.timestamps ?? 'timestamp', options.enums ?? 'enum')
  for (const taken of ['Envelope', 'Op', 'Cursor', 'Row']) mapper.names.take(taken)
  const row = mapper.record(
    'Row',
    columns.map((c) => ({ name: c.name, type: c.type, typeText: c.typeName })),
    `One row of ${database}.${table}, schema version ${version}.`,
  )
  const fields: AvroField[] = [
    { name: 'source', type: 'string', default: '', doc: 'The source table, "<database>.<table>".' },
    {
      name: 'op',
      type: {
        type: 'enum',
        name: 'Op',
        symbols: ['insert', 'upsert', 'delete', 'retract'],
        default: 'insert',
        doc: 'insert: a new row (MergeTree); upsert: the new state of its key; delete: the key is deleted; retract: cancels an earlier row (CollapsingMergeTree -1).',
      },
      default: 'insert',
    },
    { name: 'schema_version', type: 'long', default: 0, doc: "The source's schema version of `row`." },
    {
      name: 'cursor',
      type: {
        type: 'record',
        name: 'Cursor',
        doc: "The row's position in its changelog: (_partition_id, _block_number, _block_offset).",
        fields: [
          { name: 'partition_id', type: 'string', default: '' },
          { name: 'block_number', type: 'long', default: 0 },
          { name: 'block_offset', type: 'long', default: 0 },
        ],
      },
      default: { partition_id: '', block_number: 0, block_offset: 0 },
    },
    { name: 'query_id', type: 'string', default: '', doc: 'The query_id of the INSERT that wrote the row.' },
    {
      name: 'ingest_time',
      type: { type: 'long', logicalType: 'timestamp-micros' },
      default: 0,
      doc: 'When the row reached the changelog.',
    },
    { name: 'row', type: row.schema, default: row.default },
  ]
  return {
    schema: {
      type: 'record',
      name: 'Envelope',
      namespace,
      doc: `One change captured by tailhouse from ${database}.${table}.`,
      fields,
    },
    fullName: `${namespace}.Envelope`,
    fieldNames: row.fieldNames,
  }
}

interface Element {
  name: string
  type: ClickHouseType
  typeText: string
}

interface Mapped {
  schema: AvroSchema
  default: unknown
  notes: string[]
}

/** The decimal digits of the largest value of the wide integers mapped to decimal(P, 0). */
export function integerDigits(type: { signed: boolean; bits: number }): number {
  const digits: Record<string, number> = { u64: 20, i128: 39, u128: 39, i256: 77, u256: 78 }
  return digits[`${type.signed ? 'i' : 'u'}${type.bits}`] ?? 20
}

/** True for the integer types mapped to Avro's decimal (no Avro integer holds them). */
export function isDecimalInteger(type: { signed: boolean; bits: number }): boolean {
  return type.bits > 64 || (type.bits === 64 && !type.signed)
}

/** A valid Avro name ([A-Za-z_][A-Za-z0-9_]*). */
export function isAvroName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
}

class AvroMapper {
  /** Named types share one scope in an Avro schema: records and enums get names unique in the whole schema. */
  readonly names = typeScope()

  constructor(
    private readonly timestamps: 'timestamp' | 'int64',
    private readonly enums: 'enum' | 'string',
  ) {}

  record(name: string, elements: readonly Element[], doc?: string): Mapped & { fieldNames: string[] } {
    const scope = fieldScope()
    const fieldNames = elements.map((element) => scope.claim(fieldIdentifier(element.name)))
    const fields: AvroField[] = []
    const defaults: Record<string, unknown> = {}
    elements.forEach((element, i) => {
      const fieldName = fieldNames[i] as string
      const mapped = this.type(typeIdentifier(fieldName), element.type)
      const nameNote = fieldName === element.name ? [] : [`ClickHouse name ${JSON.stringify(element.name)}`]
      fields.push({
        name: fieldName,
        type: mapped.schema,
        default: mapped.default,
        doc: [...nameNote, element.typeText, ...mapped.notes].join('; '),
      })
      defaults[fieldName] = mapped.default
    })
    const schema: Record<string, unknown> = { type: 'record', name, fields }
    if (doc) schema.doc = doc
    return { schema, default: defaults, notes: [], fieldNames }
  }

  type(base: string, type: ClickHouseType): Mapped {
    switch (type.kind) {
      case 'lowCardinality':
        return this.type(base, type.inner)
      case 'nullable': {
        const inner = this.type(base, type.inner)
        return { schema: ['null', inner.schema], default: null, notes: inner.notes }
      }
      case 'array': {
        const item = this.type(`${base}Item`, type.element)
        return { schema: { type: 'array', items: item.schema }, default: [], notes: item.notes }
      }
      case 'nested': {
        const item = this.type(`${base}Item`, { kind: 'tuple', elements: type.fields })
        return { schema: { type: 'array', items: item.schema }, default: [], notes: [] }
      }
      case 'map': {
        if (hasKeyText(type.key)) {
          const value = this.type(`${base}Value`, type.value)
          return {
            schema: { type: 'map', values: value.schema },
            default: {},
            notes: [`keys: ${keyTextDescription(type.key)}`, ...value.notes.map((note) => `values: ${note}`)],
          }
        }
        const entry = this.record(this.names.claim(`${base}Entry`), [
          element('key', type.key),
          element('value', type.value),
        ])
        return { schema: { type: 'array', items: entry.schema }, default: [], notes: ['entries in ClickHouse order'] }
      }
      case 'tuple': {
        const elements = type.elements.map((e, i) => element(e.name ?? `_${i + 1}`, e.type))
        return this.record(this.names.claim(base), elements)
      }
      case 'enum': {
        const symbols = type.values.map((v) => v.name)
        if (this.enums === 'string' || !symbols.every(isAvroName) || new Set(symbols).size !== symbols.length) {
          return { schema: 'string', default: symbols[0] ?? '', notes: ['the value name'] }
        }
        const name = this.names.claim(base)
        return { schema: { type: 'enum', name, symbols, default: symbols[0] }, default: symbols[0], notes: [] }
      }
      case 'json':
        return plain('string', '', ['JSON text'])
      case 'int':
        if (isDecimalInteger(type)) return decimal(integerDigits(type), 0)
        return type.bits < 32 || (type.bits === 32 && type.signed) ? plain('int', 0) : plain('long', 0)
      case 'float':
        return plain(type.bits === 32 ? 'float' : 'double', 0)
      case 'decimal':
        return decimal(type.precision, type.scale)
      case 'bool':
        return plain('boolean', false)
      case 'string':
      case 'fixedString':
        return plain('bytes', '')
      case 'date':
      case 'date32':
        return this.logical('int', 'date', 'days since 1970-01-01')
      case 'dateTime':
        return this.logical('long', 'timestamp-millis', 'milliseconds since the Unix epoch')
      case 'dateTime64': {
        const unit = type.precision <= 3 ? 'millis' : type.precision <= 6 ? 'micros' : 'nanos'
        return this.logical(
          'long',
          `timestamp-${unit}`,
          `${unit === 'millis' ? 'milli' : unit === 'micros' ? 'micro' : 'nano'}seconds since the Unix epoch`,
        )
      }
      case 'time':
        return plain('int', 0, ['seconds'])
      case 'time64':
        return plain('long', 0, [type.precision === 0 ? 'seconds' : `ticks of 10^-${type.precision} s`])
      case 'uuid':
        return {
          schema: { type: 'string', logicalType: 'uuid' },
          default: '00000000-0000-0000-0000-000000000000',
          notes: [],
        }
      case 'ipv4':
      case 'ipv6':
        return plain('string', type.kind === 'ipv4' ? '0.0.0.0' : '::')
    }
  }

  private logical(base: 'int' | 'long', logicalType: string, unit: string): Mapped {
    if (this.timestamps === 'int64') return plain(base, 0, [unit])
    return { schema: { type: base, logicalType }, default: 0, notes: [] }
  }
}

function element(name: string, type: ClickHouseType): Element {
  return { name, type, typeText: formatClickHouseType(type) }
}

function plain(schema: string, defaultValue: unknown, notes: string[] = []): Mapped {
  return { schema, default: defaultValue, notes }
}

/** A decimal's default is one zero byte: an empty unscaled value is no integer to Java's BigInteger. */
function decimal(precision: number, scale: number): Mapped {
  return { schema: { type: 'bytes', logicalType: 'decimal', precision, scale }, default: '\u0000', notes: [] }
}
