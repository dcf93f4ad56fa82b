/**
 * Encodes decoded rows as the `Row` message of their schema version's generated `.proto`. The `.proto` text is
 * parsed once, and each column compiles into a converter from the decoder's value (see the table in
 * rowbinary-decoder.ts) to the plain object protobufjs's generated `Type.encode` writes; a row is then one pass
 * of closures and one `encode`, with no per-row reflection.
 *
 * Value rules, by ClickHouse kind (the shapes are proto-mapping.ts's; fields are found by number, never by name):
 *
 * | kind                         | proto value                                                                  |
 * |------------------------------|------------------------------------------------------------------------------|
 * | int 8–32                     | int32/uint32 as the number                                                   |
 * | int 64                       | int64/uint64: a number when safe, else protobufjs `{ low, high }` halves      |
 * | int 128/256, decimal         | string, the decoder's exact decimal text                                     |
 * | float, bool, json, uuid, ip  | as decoded (float/double, bool, string)                                      |
 * | string, fixedString          | bytes, the decoder's Buffer                                                  |
 * | date, date32                 | Timestamp of days × 86400 s; int64 mode: the days                            |
 * | dateTime                     | Timestamp of the seconds; int64 mode: the seconds                            |
 * | dateTime64(p)                | Timestamp, seconds floored and 0 ≤ nanos < 10^9, exact; int64 mode: ticks    |
 * | time, time64(p)              | Duration, seconds truncated and nanos of the same sign; int64 mode: ticks    |
 * | enum                         | the ClickHouse value as the enum number; string mode: the name               |
 * | nullable                     | NULL: the optional field is absent; in a wrapper, an empty `{}`              |
 * | array, nested                | repeated (elements through a `{ value }`/`{ values }`/`{ entries }` wrapper  |
 * |                              | where proto-mapping put one)                                                 |
 * | map, scalar key              | proto map; keys as integers, bool, or the text forms of proto-mapping's      |
 * |                              | keyText (UTF-8 text, YYYY-MM-DD, ISO-8601 UTC with p digits, names, …);      |
 * |                              | a repeated key keeps the last value, as a proto map does                     |
 * | map, other key               | repeated `{ key, value }` in ClickHouse's entry order                        |
 * | tuple                        | nested message, element i in field i + 1                                     |
 */
import type protobuf from 'protobufjs'
import type { ClickHouseType } from '../schema/clickhouse-type.js'
import {
  describeField,
  durationType,
  enumOf,
  expectValueType,
  fieldById,
  hasPresence,
  loadRowType,
  mapKeyType,
  messageOf,
  RowEncodeError,
  timestampType,
} from './encode-schema.js'
import {
  dateText,
  dateTime64Text,
  dateTimeText,
  durationFromTicks,
  float32Text,
  float64Text,
  long64,
  tickScale,
  timestampFromTicks,
} from './encode-values.js'
import type { RowEncoder, RowSchema } from './row-encoder.js'
import { scaleText } from './rowbinary-text.js'

export interface ProtoRowEncoder extends RowEncoder {
  readonly format: 'protobuf'
  /** The `Row` type, as protobufjs loaded it from the `.proto` text. */
  readonly type: protobuf.Type
  /** The row as the plain object `type.encode` takes: keys are the proto field names, NULLs are left out. */
  toMessage(row: Record<string, unknown>): Record<string, unknown>
  /** The serialized `Row`. */
  encode(row: Record<string, unknown>): Uint8Array
}

/** A decoded value → its protobufjs value; `undefined` leaves the field out (a NULL). */
type Convert = (value: unknown) => unknown

type Options = RowSchema['options']

/** The converter of values that go in as they are; arrays of them are passed on without a copy. */
const same: Convert = (value) => value

/**
 * Compiles the encoder of one schema version. Throws a TypeError naming the column when a column has no field
 * number, or its field is not declared as proto-mapping.ts declares the column's type under `schema.options`.
 *
 * @example
 *   const encoder = createProtoRowEncoder({ protoText, columns, fieldNumbers, options: { timestamps: 'timestamp', enums: 'enum' } })
 *   const bytes = encoder.encode(decode(payload))
 */
export function createProtoRowEncoder(schema: RowSchema): ProtoRowEncoder {
  const type = loadRowType(schema.protoText)
  const options = schema.options
  const fields = schema.columns.map((column) => {
    const number = schema.fieldNumbers[column.name]
    if (number === undefined || number <= 0) throw new TypeError(`column "${column.name}" has no field number`)
    return { key: column.name, field: fieldById(type, number, `column "${column.name}"`), type: column.type }
  })
  const unbound = type.fieldsArray.filter((field) => !fields.some((f) => f.field === field))
  if (unbound.length > 0) {
    throw new TypeError(`no column maps to Row field ${unbound.map((f) => `${f.name} = ${f.id}`).join(', ')}`)
  }
  const parts = fields.map(({ key, field, type: columnType }) => ({
    key,
    name: field.name,
    convert: compileField(columnType, field, `column "${key}"`, options),
  }))
  const count = parts.length

  const toMessage = (row: Record<string, unknown>): Record<string, unknown> => {
    const message: Record<string, unknown> = {}
    let i = 0
    try {
      for (; i < count; i++) {
        const part = parts[i] as (typeof parts)[number]
        const value = part.convert(row[part.key])
        if (value !== undefined) message[part.name] = value
      }
    } catch (error) {
      throw new RowEncodeError((parts[i] as (typeof parts)[number]).key, error)
    }
    return message
  }

  return {
    format: 'protobuf',
    type,
    toMessage,
    encode: (row) => type.encode(toMessage(row)).finish(),
  }
}

/** A field's value; the field's label (optional, repeated, map) comes from the ClickHouse type's shape. */
function compileField(type: ClickHouseType, field: protobuf.FieldBase, where: string, options: Options): Convert {
  switch (type.kind) {
    case 'lowCardinality':
      return compileField(type.inner, field, where, options)
    case 'nullable': {
      if (!hasPresence(field)) break
      const inner = compileValue(type.inner, field, where, options)
      return (value) => (value === null ? undefined : inner(value))
    }
    case 'array':
    case 'nested': {
      if (!field.repeated || field.map) break
      const element =
        type.kind === 'array'
          ? compileValue(type.element, field, where, options)
          : compileValue({ kind: 'tuple', elements: type.fields }, field, where, options)
      return repeated(element)
    }
    case 'map':
      if (field.map) return compileMap(type.key, type.value, field, where, options)
      if (!field.repeated) break
      return repeated(
        compileObject(
          messageOf(field, where),
          [
            { key: '0', type: type.key },
            { key: '1', type: type.value },
          ],
          where,
          options,
        ),
      )
    default:
      if (field.repeated || field.map) break
      return compileValue(type, field, where, options)
  }
  throw new TypeError(`${where}: a ${type.kind} value cannot be the field ${describeField(field)}`)
}

/**
 * One value of the field's value type (an element of a repeated field, the value of a map): collections and
 * NULLs, which proto cannot label there, go through the wrapper messages proto-mapping.ts declares.
 */
function compileValue(type: ClickHouseType, field: protobuf.FieldBase, where: string, options: Options): Convert {
  switch (type.kind) {
    case 'lowCardinality':
      return compileValue(type.inner, field, where, options)
    case 'nullable':
    case 'array':
    case 'nested':
    case 'map':
      return compileWrapper(messageOf(field, where), type, where, options)
    case 'tuple': {
      const elements = type.elements.map((element, i) => ({ key: element.name ?? `_${i + 1}`, type: element.type }))
      return compileObject(messageOf(field, where), elements, where, options)
    }
    case 'int':
      if (type.bits <= 32) return scalar(field, type.signed ? 'int32' : 'uint32', where, same)
      if (type.bits === 64) return scalar(field, type.signed ? 'int64' : 'uint64', where, (v) => long64(v as bigint))
      return scalar(field, 'string', where, same)
    case 'float':
      return scalar(field, type.bits === 32 ? 'float' : 'double', where, same)
    case 'decimal':
    case 'json':
    case 'uuid':
    case 'ipv4':
    case 'ipv6':
      return scalar(field, 'string', where, same)
    case 'bool':
      return scalar(field, 'bool', where, same)
    case 'string':
    case 'fixedString':
      return scalar(field, 'bytes', where, same)
    case 'enum':
      return compileEnum(type.values, field, where, options)
    case 'date':
    case 'date32':
      if (options.timestamps === 'int64') return scalar(field, 'int64', where, same)
      return scalar(field, timestampType, where, (v) => ({ seconds: (v as number) * 86_400, nanos: 0 }))
    case 'dateTime':
      if (options.timestamps === 'int64') return scalar(field, 'int64', where, same)
      return scalar(field, timestampType, where, (v) => ({ seconds: v as number, nanos: 0 }))
    case 'dateTime64': {
      const precision = type.precision
      tickScale(precision)
      if (options.timestamps === 'int64') return scalar(field, 'int64', where, (v) => long64(v as bigint))
      return scalar(field, timestampType, where, (v) => timestampFromTicks(v as bigint, precision))
    }
    case 'time':
      if (options.timestamps === 'int64') return scalar(field, 'int64', where, same)
      return scalar(field, durationType, where, (v) => ({ seconds: v as number, nanos: 0 }))
    case 'time64': {
      const precision = type.precision
      tickScale(precision)
      if (options.timestamps === 'int64') return scalar(field, 'int64', where, (v) => long64(v as bigint))
      return scalar(field, durationType, where, (v) => durationFromTicks(v as bigint, precision))
    }
  }
}

/** Checks the field's value type once, then converts with `convert`. */
function scalar(field: protobuf.FieldBase, expected: string, where: string, convert: Convert): Convert {
  expectValueType(field, expected, where)
  return convert
}

/** ClickHouse enum names → the proto enum's numbers, which proto-mapping.ts made the ClickHouse values. */
function compileEnum(
  values: ReadonlyArray<{ name: string; value: number }>,
  field: protobuf.FieldBase,
  where: string,
  options: Options,
): Convert {
  if (options.enums === 'string') return scalar(field, 'string', where, same)
  const protoEnum = enumOf(field, where)
  const numbers = new Map<string, number>()
  for (const { name, value } of values) {
    if (protoEnum.valuesById[value] === undefined) {
      throw new TypeError(`${where}: enum ${protoEnum.name} has no number ${value} for '${name}'`)
    }
    numbers.set(name, value)
  }
  return (value) => {
    const number = numbers.get(value as string)
    if (number === undefined) throw new TypeError(`${JSON.stringify(value)} is no value of ${protoEnum.name}`)
    return number
  }
}

/**
 * A message whose field i + 1 holds `elements[i]`, read from the value's property `key` (tuples: element names;
 * map items: '0' and '1' of the [key, value] pair).
 */
function compileObject(
  message: protobuf.Type,
  elements: ReadonlyArray<{ key: string; type: ClickHouseType }>,
  where: string,
  options: Options,
): Convert {
  if (message.fieldsArray.length !== elements.length) {
    throw new TypeError(
      `${where}: message ${message.name} has ${message.fieldsArray.length} fields, not ${elements.length}`,
    )
  }
  const parts = elements.map((element, i) => {
    const field = fieldById(message, i + 1, where)
    return {
      key: element.key,
      name: field.name,
      convert: compileField(element.type, field, `${where}.${field.name}`, options),
    }
  })
  const count = parts.length
  return (value) => {
    const source = value as Record<string, unknown>
    const object: Record<string, unknown> = {}
    for (let i = 0; i < count; i++) {
      const part = parts[i] as (typeof parts)[number]
      const converted = part.convert(source[part.key])
      if (converted !== undefined) object[part.name] = converted
    }
    return object
  }
}

/** A wrapper message (`{ value }`, `{ values }`, `{ entries }`): its one field, number 1, holds the value itself. */
function compileWrapper(message: protobuf.Type, type: ClickHouseType, where: string, options: Options): Convert {
  if (message.fieldsArray.length !== 1) {
    throw new TypeError(`${where}: wrapper message ${message.name} has ${message.fieldsArray.length} fields, not 1`)
  }
  const field = fieldById(message, 1, where)
  const name = field.name
  const convert = compileField(type, field, `${where}.${name}`, options)
  return (value) => {
    const converted = convert(value)
    const object: Record<string, unknown> = {}
    if (converted !== undefined) object[name] = converted
    return object
  }
}

function repeated(element: Convert): Convert {
  if (element === same) return same
  return (value) => {
    const values = value as unknown[]
    const out = new Array<unknown>(values.length)
    for (let i = 0; i < values.length; i++) out[i] = element(values[i])
    return out
  }
}

/** A proto map from the decoder's [key, value] pairs; a repeated key keeps its last value, as proto maps do. */
function compileMap(
  keyType: ClickHouseType,
  valueType: ClickHouseType,
  field: protobuf.FieldBase,
  where: string,
  options: Options,
): Convert {
  const protoKey = mapKeyType(field) ?? ''
  const key = compileMapKey(keyType, protoKey, where)
  const value = compileValue(valueType, field, `${where} value`, options)
  // A string key may be "__proto__": keep such objects without a prototype to write it as a plain property.
  const create: () => Record<string, unknown> = protoKey === 'string' ? () => Object.create(null) : () => ({})
  return (pairs) => {
    const map = create()
    for (const [k, v] of pairs as Array<[unknown, unknown]>) map[key(k)] = value(v)
    return map
  }
}

/**
 * A map key as the property name protobufjs reads: integers as decimal text, bool as 'true'/'false', anything
 * else as the text form in proto-mapping.ts's keyText.
 */
function compileMapKey(type: ClickHouseType, protoKey: string, where: string): (key: unknown) => string {
  const expect = (expected: string) => {
    if (protoKey !== expected)
      throw new TypeError(`${where}: expected map keys of ${expected}, the .proto has ${protoKey}`)
  }
  switch (type.kind) {
    case 'lowCardinality':
      return compileMapKey(type.inner, protoKey, where)
    case 'int':
      if (type.bits <= 64) {
        expect(`${type.signed ? '' : 'u'}int${type.bits === 64 ? 64 : 32}`)
        return String
      }
      expect('string')
      return String
    case 'bool':
      expect('bool')
      return (k) => (k ? 'true' : 'false')
    case 'string':
    case 'fixedString':
      expect('string')
      return (k) => (k as Buffer).toString('utf8')
    case 'date':
    case 'date32':
      expect('string')
      return (k) => dateText(k as number)
    case 'dateTime':
      expect('string')
      return (k) => dateTimeText(k as number, 0, 0)
    case 'dateTime64': {
      expect('string')
      const precision = type.precision
      tickScale(precision)
      return (k) => dateTime64Text(k as bigint, precision)
    }
    case 'time':
      expect('string')
      return String
    case 'time64': {
      expect('string')
      const precision = type.precision
      return (k) => scaleText(String(k), precision)
    }
    case 'float': {
      expect('string')
      const text = type.bits === 32 ? float32Text : float64Text
      return (k) => text(k as number, clickHouseNonFinite)
    }
    case 'decimal':
    case 'enum':
    case 'json':
    case 'uuid':
    case 'ipv4':
    case 'ipv6':
      expect('string')
      return (k) => k as string
  }
  throw new TypeError(`${where}: a ${type.kind} cannot be a map key`)
}

/** nan, inf, -inf: how ClickHouse prints the non-finite floats. */
function clickHouseNonFinite(value: number): string {
  return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf'
}
