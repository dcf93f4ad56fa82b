/**
 * The Protobuf encoding done by ClickHouse itself: for one source schema version, a SQL expression that turns the
 * changelog's columns into a named Tuple, and the message definitions ClickHouse's `FORMAT Protobuf` writes that
 * Tuple with. The bytes are the generated `Row` of schemas/ (proto-mapping.ts, the consumers' contract): the
 * ClickHouse-side definitions only differ where ClickHouse cannot write the consumer's declaration directly, with the
 * same wire encoding:
 *
 * | consumer `.proto`                       | ClickHouse side                                  | SQL                               |
 * |-----------------------------------------|--------------------------------------------------|-----------------------------------|
 * | `google.protobuf.Timestamp`, `Duration` | local `TH_Seconds` { int64 seconds; int32 nanos } | seconds and nanos computed exactly |
 * | `optional` Timestamp/Duration (NULL)    | `TH_OptionalSeconds`, `seconds` optional         | Nullable elements: NULL → absent   |
 * | an enum                                 | `int32`                                          | the ClickHouse enum value          |
 * | decimal / (U)Int128/256 / UUID / IP text | `string`                                        | toDecimalString, toString          |
 *
 * ClickHouse writes fields in declaration order, omits proto3 defaults like protoc, writes `optional` fields whenever
 * they are not NULL, writes every element of a repeated field (empty messages too) and every map entry. It omits a
 * singular message field whose fields are all default: for a non-optional field proto3 reads that as the default
 * message, which is what it holds; for an `optional` one the first field of the message is declared optional and fed a
 * Nullable value, so presence survives (a non-NULL 1970-01-01 is not read as NULL).
 *
 * Map keys that are not integers or bool are text, in the forms proto-mapping.ts documents (keyText), computed here
 * with ClickHouse's own printing; the JavaScript encoder (proto-row-encoder.ts) prints the same text, which the
 * differential tests check.
 */
import type { CapturedColumn, ClickHouseType } from '../schema/clickhouse-type.js'
import { mapRow, type ProtoField, type ProtoMessage, type RowProtoOptions } from '../schema/proto-mapping.js'
import { quoteText } from '../schema/type-name-scanner.js'

/** A value and its ClickHouse type, as the Tuple element that ClickHouse serializes into one field. */
interface Typed {
  sql: string
  type: string
}

export interface ClickHouseRowInput {
  /** The captured columns in payload order, each with the SQL that reads its value (a changelog column). */
  columns: ReadonlyArray<CapturedColumn & { sql: string }>
  options: Required<RowProtoOptions>
  /** The version's field-number ledger (registry `field_numbers`), as the `.proto` file was generated with. */
  fieldNumbers: Readonly<Record<string, number>>
}

export interface ClickHouseRowEncoding {
  /** `message <name> { … }` wire-compatible with the generated `Row`; it refers to {@link secondsMessages}. */
  message: string
  /** A named Tuple whose element names are the fields of `message`. */
  expression: string
  /** The Tuple's type, for CAST. */
  type: string
}

/** The messages the row definitions refer to instead of google.protobuf.Timestamp and Duration. */
export const secondsMessages = [
  'message TH_Seconds { int64 seconds = 1; int32 nanos = 2; }',
  'message TH_OptionalSeconds { optional int64 seconds = 1; optional int32 nanos = 2; }',
].join('\n')

/**
 * Compiles one schema version. `name` is the message name to declare; the field numbers are exactly the generated
 * `.proto` file's (the mapping is recomputed from the same ledger).
 */
export function compileClickHouseRow(input: ClickHouseRowInput, name: string): ClickHouseRowEncoding {
  // The ledger holds every column ever captured; this version's previous ledger is the same one without the
  // negative (dropped) entries mattering: live columns keep their numbers, which is all mapRow needs here.
  const mapping = mapRow(input.columns, input.options, input.fieldNumbers)
  const compiler = new Compiler(input.options)
  const row = mapping.row
  const elements = input.columns.map((column, i) => {
    const field = row.fields[i] as ProtoField
    return { name: field.name, value: compiler.field(column.type, column.sql, field, row) }
  })
  const tuple = namedTuple(elements)
  return { message: messageText(row, name), expression: tuple.sql, type: tuple.type }
}

/** `CAST(tuple(a, b), 'Tuple(x A, y B)')`: a Tuple whose elements ClickHouse matches to fields by name. */
export function namedTuple(elements: ReadonlyArray<{ name: string; value: Typed }>): Typed {
  const type = `Tuple(${elements.map((e) => `${quoteText(e.name, '`')} ${e.value.type}`).join(', ')})`
  return { sql: `CAST(tuple(${elements.map((e) => e.value.sql).join(', ')}), ${quoteText(type, "'")})`, type }
}

class Compiler {
  /** Lambda parameter names must not shadow one another in nested arrayMap/mapApply. */
  #lambdas = 0
  constructor(readonly options: Required<RowProtoOptions>) {}

  #lambda(prefix: string): string {
    this.#lambdas += 1
    return `${prefix}${this.#lambdas}`
  }

  /** A field's value: the field's label (optional, repeated, map) comes from the ClickHouse type's shape. */
  field(type: ClickHouseType, sql: string, field: ProtoField, holder: ProtoMessage): Typed {
    switch (type.kind) {
      case 'lowCardinality':
        return this.field(type.inner, sql, field, holder)
      case 'nullable':
        return this.value(type.inner, sql, field.type, holder, true)
      case 'array':
      case 'nested': {
        const element = type.kind === 'array' ? type.element : ({ kind: 'tuple', elements: type.fields } as const)
        const x = this.#lambda('x')
        const value = this.value(element, x, field.type, holder, false)
        if (value.sql === x) return { sql, type: `Array(${value.type})` }
        return { sql: `arrayMap(${x} -> ${value.sql}, ${sql})`, type: `Array(${value.type})` }
      }
      case 'map': {
        const k = this.#lambda('k')
        const v = this.#lambda('v')
        if (field.type.startsWith('map<')) {
          const key = this.mapKey(type.key, k)
          const value = this.value(type.value, v, mapValueType(field.type), holder, false)
          const mapType = `Map(${key.type}, ${value.type})`
          if (key.sql === k && value.sql === v) return { sql, type: mapType }
          return { sql: `mapApply((${k}, ${v}) -> (${key.sql}, ${value.sql}), ${sql})`, type: mapType }
        }
        // A key proto cannot express: repeated `{ key = 1; value = 2; }` in ClickHouse's entry order.
        const entry = nested(holder, field.type)
        const [keyField, valueField] = entry.fields as [ProtoField, ProtoField]
        const item = namedTuple([
          { name: keyField.name, value: this.field(type.key, k, keyField, entry) },
          { name: valueField.name, value: this.field(type.value, v, valueField, entry) },
        ])
        return {
          sql: `arrayMap((${k}, ${v}) -> ${item.sql}, mapKeys(${sql}), mapValues(${sql}))`,
          type: `Array(${item.type})`,
        }
      }
      default:
        return this.value(type, sql, field.type, holder, false)
    }
  }

  /**
   * One value of the field's value type `protoType` (a scalar, an enum or a message declared in `holder`).
   * `optional`: the value is Nullable and NULL must leave the field out.
   */
  value(type: ClickHouseType, sql: string, protoType: string, holder: ProtoMessage, optional: boolean): Typed {
    const nullable = (t: Typed): Typed => (optional ? { sql: t.sql, type: `Nullable(${t.type})` } : t)
    switch (type.kind) {
      case 'lowCardinality':
        return this.value(type.inner, sql, protoType, holder, optional)
      case 'nullable':
      case 'array':
      case 'nested':
      case 'map': {
        // A wrapper message: `{ optional T value = 1; }`, `{ repeated T values = 1; }`, `{ map<…> entries = 1; }`.
        const wrapper = nested(holder, protoType)
        const inner = wrapper.fields[0] as ProtoField
        return namedTuple([{ name: inner.name, value: this.field(type, sql, inner, wrapper) }])
      }
      case 'tuple': {
        const message = nested(holder, protoType)
        return namedTuple(
          type.elements.map((element, i) => {
            const field = message.fields[i] as ProtoField
            return {
              name: field.name,
              value: this.field(element.type, `tupleElement(${sql}, ${i + 1})`, field, message),
            }
          }),
        )
      }
      case 'enum':
        if (this.options.enums === 'string') return nullable({ sql: `toString(${sql})`, type: 'String' })
        return cast(sql, nullable({ sql, type: `Int${type.bits}` }))
      case 'json':
        return nullable({ sql, type: 'String' })
      case 'int':
        if (type.bits <= 64) return nullable({ sql, type: `${type.signed ? '' : 'U'}Int${type.bits}` })
        return nullable({ sql: `toString(${sql})`, type: 'String' })
      case 'float':
        return nullable({ sql, type: `Float${type.bits}` })
      case 'decimal':
        return nullable({ sql: `toDecimalString(${sql}, ${type.scale})`, type: 'String' })
      case 'bool':
        return nullable({ sql, type: 'Bool' })
      case 'string':
        return nullable({ sql, type: 'String' })
      case 'fixedString':
        return nullable({ sql, type: `FixedString(${type.length})` })
      case 'uuid':
      case 'ipv4':
      case 'ipv6':
        return nullable({ sql: `toString(${sql})`, type: 'String' })
      case 'date':
      case 'date32':
        return this.#instant(`toInt64(${sql})`, 86_400, 0, optional)
      case 'dateTime':
        return this.#instant(`toInt64(toUnixTimestamp(${sql}))`, 1, 0, optional)
      case 'dateTime64':
        return this.#instant(`reinterpretAsInt64(${sql})`, 1, type.precision, optional)
      case 'time':
        return this.#duration(`toInt64(toInt32(${sql}))`, 0, optional)
      case 'time64':
        return this.#duration(timeTicks(sql, type.precision), type.precision, optional)
    }
  }

  /**
   * A Timestamp from ticks of 10^-precision s times `multiplier` (days → seconds): seconds rounded toward minus
   * infinity and 0 ≤ nanos < 10^9, or the ticks themselves in int64 mode.
   */
  #instant(ticks: string, multiplier: number, precision: number, optional: boolean): Typed {
    if (this.options.timestamps === 'int64') return { sql: ticks, type: optional ? 'Nullable(Int64)' : 'Int64' }
    if (precision === 0) {
      const seconds = multiplier === 1 ? ticks : `${ticks} * ${multiplier}`
      return secondsTuple(seconds, undefined, optional)
    }
    const scale = 10 ** precision
    const rest = `positiveModulo(${ticks}, ${scale})`
    const seconds = `intDiv(${ticks} - ${rest}, ${scale})`
    const nanos = `toInt32(${rest} * ${10 ** (9 - precision)})`
    return secondsTuple(seconds, nanos, optional)
  }

  /** A Duration: seconds truncated toward zero and nanos of the same sign; the ticks in int64 mode. */
  #duration(ticks: string, precision: number, optional: boolean): Typed {
    if (this.options.timestamps === 'int64') return { sql: ticks, type: optional ? 'Nullable(Int64)' : 'Int64' }
    if (precision === 0) return secondsTuple(ticks, undefined, optional)
    const scale = 10 ** precision
    return secondsTuple(
      `intDiv(${ticks}, ${scale})`,
      `toInt32((${ticks} % ${scale}) * ${10 ** (9 - precision)})`,
      optional,
    )
  }

  /** A map key: integers and bool as themselves, everything else as the text proto-mapping.ts's keyText names. */
  mapKey(type: ClickHouseType, sql: string): Typed {
    switch (type.kind) {
      case 'lowCardinality':
        return this.mapKey(type.inner, sql)
      case 'int':
        if (type.bits <= 64) return { sql, type: `${type.signed ? '' : 'U'}Int${type.bits}` }
        return { sql: `toString(${sql})`, type: 'String' }
      case 'bool':
        return { sql, type: 'Bool' }
      case 'string':
      case 'json':
        return { sql, type: 'String' }
      case 'fixedString':
      case 'date':
      case 'date32':
      case 'float':
      case 'enum':
      case 'uuid':
      case 'ipv4':
      case 'ipv6':
        return { sql: `toString(${sql})`, type: 'String' }
      case 'dateTime':
      case 'dateTime64':
        return { sql: `concat(replaceOne(toString(${sql}, 'UTC'), ' ', 'T'), 'Z')`, type: 'String' }
      case 'time':
        return { sql: `toString(toInt32(${sql}))`, type: 'String' }
      case 'time64':
        return { sql: scaledText(timeTicks(sql, type.precision), type.precision), type: 'String' }
      case 'decimal':
        return { sql: `toDecimalString(${sql}, ${type.scale})`, type: 'String' }
      default:
        throw new TypeError(`a ${type.kind} cannot be a proto map key`)
    }
  }
}

/** Ticks of a Time64(p) value: its Decimal64 representation read as an integer. */
function timeTicks(sql: string, precision: number): string {
  return `reinterpretAsInt64(toDecimal64(${sql}, ${precision}))`
}

/** Ticks of 10^-p as decimal text with exactly p fraction digits (`-1.500`), as proto-mapping's keyText says. */
function scaledText(ticks: string, precision: number): string {
  if (precision === 0) return `toString(${ticks})`
  const scale = 10 ** precision
  return (
    `concat(if(${ticks} < 0, '-', ''), toString(intDiv(abs(${ticks}), ${scale})), '.', ` +
    `leftPad(toString(abs(${ticks}) % ${scale}), ${precision}, '0'))`
  )
}

/** `value`'s SQL converted to its declared type (an enum to its number). */
function cast(sql: string, value: Typed): Typed {
  return { sql: `CAST(${sql}, ${quoteText(value.type, "'")})`, type: value.type }
}

function secondsTuple(seconds: string, nanos: string | undefined, optional: boolean): Typed {
  const n = (t: string) => (optional ? `Nullable(${t})` : t)
  const elements = [{ name: 'seconds', value: { sql: seconds, type: n('Int64') } }]
  if (nanos !== undefined) elements.push({ name: 'nanos', value: { sql: nanos, type: n('Int32') } })
  return namedTuple(elements)
}

/** The message type `name` declared in `holder` (proto-mapping nests every type it creates in its holder). */
function nested(holder: ProtoMessage, name: string): ProtoMessage {
  const message = holder.messages.find((m) => m.name === name)
  if (!message) throw new TypeError(`message ${holder.name} declares no ${name}`)
  return message
}

/** `map<K, V>` → V. */
function mapValueType(protoType: string): string {
  const comma = protoType.indexOf(',')
  return protoType.slice(comma + 1, -1).trim()
}

/** The ClickHouse-side definition of `message` named `name`: the same fields and numbers, other declarations. */
function messageText(message: ProtoMessage, name: string): string {
  const optionalTimes = new Set<ProtoField>()
  collectOptionalTimes(message, optionalTimes)
  const print = (m: ProtoMessage, as: string): string => {
    const fields = m.fields.map((f) => {
      let type = f.type
      if (type === 'google.protobuf.Timestamp' || type === 'google.protobuf.Duration')
        type = optionalTimes.has(f) ? 'TH_OptionalSeconds' : 'TH_Seconds'
      else if (m.enums.some((e) => e.name === type)) type = 'int32'
      else if (type.startsWith('map<')) {
        const value = mapValueType(type)
        if (value === 'google.protobuf.Timestamp' || value === 'google.protobuf.Duration')
          type = type.replace(value, 'TH_Seconds')
        else if (m.enums.some((e) => e.name === value)) type = type.replace(value, 'int32')
      }
      return `${f.label ? `${f.label} ` : ''}${type} ${f.name} = ${f.number};`
    })
    const messages = m.messages.map((inner) => print(inner, inner.name))
    return `message ${as} { ${[...fields, ...messages].join(' ')} }`
  }
  return print(message, name)
}

/** Fields declared `optional google.protobuf.Timestamp/Duration`: their ClickHouse message keeps presence. */
function collectOptionalTimes(message: ProtoMessage, into: Set<ProtoField>): void {
  for (const field of message.fields) {
    if (field.label === 'optional' && field.type.startsWith('google.protobuf.')) into.add(field)
  }
  for (const inner of message.messages) collectOptionalTimes(inner, into)
}
