/**
 * Encodes decoded rows as the proto3 JSON mapping of their `Row` message: the Protobuf encoder's message
 * (proto-row-encoder.ts, so both formats carry the same values) printed by a printer compiled from the `Row` type.
 *
 * The printing follows protobuf's JsonFormat with `alwaysPrintFieldsWithNoPresence` (protojson's
 * `EmitUnpopulated` for fields without presence): every field without presence is printed, zero or not, so a
 * consumer without the `.proto` sees every column; an `optional` field (a Nullable column) is left out when NULL.
 * Keys are the json_name (the ClickHouse names), in declaration order (column order); 64-bit integers are
 * strings, bytes standard base64, enums their value names, Timestamps RFC 3339 in UTC and Durations `"1.5s"`,
 * both with 0, 3, 6 or 9 fraction digits; floats print their shortest round-trip text (Float32 as a float),
 * non-finite ones as "NaN", "Infinity", "-Infinity".
 */
import protobuf from 'protobufjs'
import {
  durationType,
  hasPresence,
  jsonName,
  mapKeyType,
  RowEncodeError,
  timestampType,
  valueTypeName,
} from './encode-schema.js'
import { durationJson, float32Text, float64Text, type Long64, long64Value, timestampJson } from './encode-values.js'
import { createProtoRowEncoder } from './proto-row-encoder.js'
import type { RowEncoder, RowSchema } from './row-encoder.js'

export interface JsonRowEncoder extends RowEncoder {
  readonly format: 'json'
  /** The row as JSON text. */
  text(row: Record<string, unknown>): string
  /** The row as UTF-8 JSON. */
  encode(row: Record<string, unknown>): Uint8Array
}

/**
 * Compiles the JSON encoder of one schema version; throws as createProtoRowEncoder does.
 *
 * @example
 *   createJsonRowEncoder(schema).text({ id: 7n, name: Buffer.from('a'), note: null })
 *   // '{"id":"7","name":"YQ=="}'
 */
export function createJsonRowEncoder(schema: RowSchema): JsonRowEncoder {
  const proto = createProtoRowEncoder(schema)
  const print = createJsonPrinter(proto.type)
  const text = (row: Record<string, unknown>) => print(proto.toMessage(row))
  return { format: 'json', text, encode: (row) => Buffer.from(text(row), 'utf8') }
}

type Print = (value: unknown) => string

/**
 * A printer of protobufjs plain objects of `type` (as `Type.encode` takes them: 64-bit integers as numbers,
 * decimal strings or `{ low, high }`, bytes as Uint8Array, enums as numbers) in the proto3 JSON mapping.
 * Errors name the top-level field by its JSON name, as a {@link RowEncodeError}.
 */
export function createJsonPrinter(type: protobuf.Type): (message: Record<string, unknown>) => string {
  const messages = new Map<protobuf.Type, Print>()
  const printMessage = (message: protobuf.Type): Print => {
    const known = messages.get(message)
    if (known) return known
    // Registered before compiling the fields, so a recursive type refers to itself lazily.
    let compiled: Print | undefined
    const lazy: Print = (value) => (compiled as Print)(value)
    messages.set(message, lazy)
    compiled = compileMessage(message, printMessage, false)
    messages.set(message, compiled)
    return compiled
  }
  const top = compileMessage(type, printMessage, true)
  return (message) => top(message)
}

interface Part {
  name: string
  prefix: string
  print: Print
  presence: boolean
  unset: string
}

function compileMessage(type: protobuf.Type, printMessage: (type: protobuf.Type) => Print, top: boolean): Print {
  const parts: Part[] = type.fieldsArray.map((field) => ({
    name: field.name,
    prefix: `${JSON.stringify(jsonName(field))}:`,
    print: printField(field, printMessage),
    presence: hasPresence(field),
    unset: unsetText(field),
  }))
  const count = parts.length
  return (value) => {
    const message = value as Record<string, unknown>
    let out = '{'
    let i = 0
    try {
      for (; i < count; i++) {
        const part = parts[i] as Part
        const field = message[part.name]
        let text: string
        if (field === undefined || field === null) {
          if (part.presence) continue
          text = part.unset
        } else {
          text = part.print(field)
        }
        out += out.length === 1 ? part.prefix + text : `,${part.prefix}${text}`
      }
    } catch (error) {
      if (!top || error instanceof RowEncodeError) throw error
      throw new RowEncodeError(jsonName(type.fieldsArray[i] as protobuf.Field), error)
    }
    return `${out}}`
  }
}

function printField(field: protobuf.FieldBase, printMessage: (type: protobuf.Type) => Print): Print {
  const value = printValue(field, printMessage)
  const keyType = mapKeyType(field)
  if (keyType !== undefined) {
    const key: (key: string) => string = keyType === 'string' ? JSON.stringify : (k) => `"${k}"`
    return (map) => {
      const object = map as Record<string, unknown>
      let out = '{'
      for (const k of Object.keys(object)) {
        out += `${out.length === 1 ? '' : ','}${key(k)}:${value(object[k])}`
      }
      return `${out}}`
    }
  }
  if (field.repeated) {
    return (list) => {
      const values = list as unknown[]
      let out = '['
      for (let i = 0; i < values.length; i++) out += i === 0 ? value(values[i]) : `,${value(values[i])}`
      return `${out}]`
    }
  }
  return value
}

/** One value of the field's value type (an element of a repeated field, a map value). */
function printValue(field: protobuf.FieldBase, printMessage: (type: protobuf.Type) => Print): Print {
  const resolved = field.resolvedType
  if (resolved instanceof protobuf.Enum) {
    const names = resolved.valuesById
    return (value) => {
      if (typeof value !== 'number') return JSON.stringify(value)
      const name = names[value]
      return name === undefined ? String(value) : `"${name}"`
    }
  }
  if (resolved instanceof protobuf.Type) {
    if (resolved.fullName === timestampType) {
      return (value) => {
        const t = value as { seconds?: Long64; nanos?: number }
        return `"${timestampJson(t.seconds ?? 0, t.nanos ?? 0)}"`
      }
    }
    if (resolved.fullName === durationType) {
      return (value) => {
        const d = value as { seconds?: Long64; nanos?: number }
        return `"${durationJson(d.seconds ?? 0, d.nanos ?? 0)}"`
      }
    }
    return printMessage(resolved)
  }
  switch (field.type) {
    case 'int32':
    case 'uint32':
    case 'sint32':
    case 'fixed32':
    case 'sfixed32':
      return String
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return (value) => longText(value, false)
    case 'uint64':
    case 'fixed64':
      return (value) => longText(value, true)
    case 'float':
      return (value) => float32Text(value as number, nonFiniteJson)
    case 'double':
      return (value) => float64Text(value as number, nonFiniteJson)
    case 'bool':
      return (value) => (value ? 'true' : 'false')
    case 'string':
      return JSON.stringify
    case 'bytes':
      return (value) => `"${bytesBase64(value as Uint8Array)}"`
  }
  throw new TypeError(`field ${field.name}: cannot print ${valueTypeName(field)} as JSON`)
}

/** What a field without presence prints when the message leaves it out: its type's default. */
function unsetText(field: protobuf.FieldBase): string {
  if (field.map) return '{}'
  if (field.repeated) return '[]'
  const resolved = field.resolvedType
  if (resolved instanceof protobuf.Enum) {
    const name = resolved.valuesById[0]
    return name === undefined ? '0' : `"${name}"`
  }
  switch (field.type) {
    case 'int64':
    case 'sint64':
    case 'sfixed64':
    case 'uint64':
    case 'fixed64':
      return '"0"'
    case 'bool':
      return 'false'
    case 'string':
    case 'bytes':
      return '""'
    default:
      return '0'
  }
}

function longText(value: unknown, unsigned: boolean): string {
  if (typeof value === 'number' || typeof value === 'bigint') return `"${value}"`
  if (typeof value === 'string') return JSON.stringify(value)
  return `"${long64Value(value as Long64, unsigned)}"`
}

function bytesBase64(value: Uint8Array): string {
  return Buffer.isBuffer(value)
    ? value.toString('base64')
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
}

function nonFiniteJson(value: number): string {
  return Number.isNaN(value) ? '"NaN"' : value > 0 ? '"Infinity"' : '"-Infinity"'
}
