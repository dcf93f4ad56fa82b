/**
 * Decodes one changelog payload — a row written by `formatRow('RowBinary', <col exprs>...)` in the capture view —
 * into a plain object keyed by column name. {@link createRowDecoder} compiles a schema once into a tree of
 * closures, one per type node, so decoding a row never switches on types.
 *
 * The view must use formatRow, not formatRowNoNewline: the latter drops the last byte of a row when it is 0x0A,
 * which a RowBinary row ends with whenever its last value does (UInt8 10, a string ending in a newline, …). Such
 * a cut payload is rejected here as truncated (RowBinary is self-delimiting), never decoded wrongly.
 *
 * Value contract (what the Protobuf encoder relies on), by ClickHouseType kind; wire layouts are little-endian:
 *
 * | kind                          | wire                                        | value                               |
 * |-------------------------------|---------------------------------------------|-------------------------------------|
 * | int 8/16/32, signed or not    | 1/2/4 bytes                                 | number                              |
 * | int 64                        | 8 bytes                                     | bigint                              |
 * | int 128/256                   | 16/32 bytes two's complement                | string, decimal text ("-170…")      |
 * | float 32/64                   | IEEE 754                                    | number                              |
 * | decimal(P, S)                 | Int32 (P ≤ 9), Int64 (≤ 18), Int128 (≤ 38), | string with exactly S fractional    |
 * |                               | Int256 (≤ 76), the value × 10^S             | digits ("-12.3400", "0.05", "7")    |
 * | bool                          | 1 byte, 0 or 1 (anything else: error)       | boolean                             |
 * | string                        | varint (LEB128) length, bytes               | Buffer (a copy; bytes, not text)    |
 * | fixedString(N)                | N bytes                                     | Buffer of N bytes (a copy)          |
 * | date                          | UInt16 days since 1970-01-01                | number                              |
 * | date32                        | Int32 days (negative before 1970)           | number                              |
 * | dateTime                      | UInt32 seconds since the epoch              | number                              |
 * | dateTime64(p)                 | Int64 ticks of 10^-p s                      | bigint                              |
 * | time                          | Int32 seconds                               | number                              |
 * | time64(p)                     | Int64 ticks of 10^-p s                      | bigint                              |
 * | uuid                          | UInt64 high half, then UInt64 low half      | string, lowercase 8-4-4-4-12        |
 * | ipv4                          | UInt32                                      | string, dotted                      |
 * | ipv6                          | 16 bytes, network order                     | string as ClickHouse's toString     |
 * | enum 8/16                     | Int8/Int16 value (unknown value: error)     | string, the value's name            |
 * | lowCardinality(T)             | plain T                                     | as T                                |
 * | nullable(T)                   | byte 1, or byte 0 then T (else: error)      | null or as T                        |
 * | array(T)                      | varint count, elements                      | Array                               |
 * | map(K, V)                     | varint count, key/value pairs               | Array of [key, value], wire order   |
 * | tuple                         | elements in order                           | object keyed by name, or _1, _2, …  |
 * | nested(a T1, …)               | Array(Tuple(T1, …))                         | Array of objects keyed by field     |
 * | json (JSON/Dynamic/Variant)   | String: ifNull(toJSONString(col), 'null')   | string (UTF-8, invalid bytes U+FFFD)|
 *
 * toJSONString of a Dynamic or Variant column is Nullable(String) (NULL for a NULL value), hence the ifNull: the
 * json kind reads a plain String.
 *
 * A payload that does not fit the schema — truncated, trailing bytes, a bad varint, a Bool byte other than 0/1,
 * a Nullable marker other than 0/1, an unknown enum value — throws {@link RowDecodeError}; nothing is guessed.
 */
import type { ClickHouseType } from '../schema/clickhouse-type.js'
import { maxElements, RowBinaryFault, RowBinaryReader } from './rowbinary-reader.js'
import { ipv4Text, ipv6Text, scaleText, uuidText, wideIntText } from './rowbinary-text.js'

export interface RowDecoderColumn {
  name: string
  type: ClickHouseType
}

export type RowDecoder = (payload: Uint8Array) => Record<string, unknown>

/** A payload that is not one RowBinary row of the schema. Retrying cannot help: the bytes are what they are. */
export class RowDecodeError extends Error {
  /** The column being read (for trailing bytes: the last column). */
  readonly column: string
  /** The kind of the column's type, e.g. `array`. */
  readonly kind: string
  /** Where in the payload the failing value starts. */
  readonly offset: number
  readonly payloadLength: number
  readonly canRetry = false

  constructor(column: string, kind: string, offset: number, payloadLength: number, reason: string) {
    super(
      `cannot decode column "${column}" (${kind}) at offset ${offset} of a ${payloadLength}-byte payload: ${reason}`,
    )
    this.name = 'RowDecodeError'
    this.column = column
    this.kind = kind
    this.offset = offset
    this.payloadLength = payloadLength
  }
}

type Decode = (reader: RowBinaryReader) => unknown

/**
 * Compiles a decoder for rows of these columns, in this order (the order of the view's formatRow).
 * Throws a TypeError naming the column when a type cannot be decoded (e.g. a decimal precision above 76).
 *
 * The returned function is synchronous and keeps one reader, so it is not re-entrant — which a synchronous
 * function never needs to be. Values own their memory: nothing returned aliases the payload.
 *
 * @example
 *   const decode = createRowDecoder([{ name: 'id', type: { kind: 'int', signed: false, bits: 64 } }])
 *   decode(Uint8Array.of(7, 0, 0, 0, 0, 0, 0, 0)) // { id: 7n }
 */
export function createRowDecoder(columns: ReadonlyArray<RowDecoderColumn>): RowDecoder {
  const names = columns.map((column) => column.name)
  const decoders = columns.map((column) => {
    try {
      return compile(column.type)
    } catch (error) {
      throw new TypeError(`column "${column.name}": ${(error as Error).message}`)
    }
  })
  const count = decoders.length
  const protoAt = names.indexOf('__proto__')
  const reader = new RowBinaryReader()

  const fail = (index: number, error: unknown, payload: Uint8Array): never => {
    reader.release()
    if (!(error instanceof RowBinaryFault)) throw error
    const column = columns[index] as RowDecoderColumn
    const reason = error.kind === column.type.kind ? error.reason : `${error.reason} (reading ${error.kind})`
    throw new RowDecodeError(column.name, column.type.kind, error.offset, payload.byteLength, reason)
  }

  return (payload) => {
    reader.reset(payload)
    const row: Record<string, unknown> = {}
    let index = 0
    try {
      for (; index < count; index++) {
        const value = (decoders[index] as Decode)(reader)
        if (index === protoAt) defineField(row, '__proto__', value)
        else row[names[index] as string] = value
      }
    } catch (error) {
      return fail(index, error, payload)
    }
    if (reader.pos !== reader.end) {
      const offset = reader.pos - reader.start
      const left = reader.end - reader.pos
      reader.release()
      const last = columns[count - 1]
      throw new RowDecodeError(
        last?.name ?? '',
        last?.type.kind ?? 'row',
        offset,
        payload.byteLength,
        `${left} trailing byte${left === 1 ? '' : 's'} after the last column (payload of another schema version?)`,
      )
    }
    return row
  }
}

function compile(type: ClickHouseType): Decode {
  switch (type.kind) {
    case 'int':
      return compileInt(type.signed, type.bits)
    case 'float':
      if (type.bits === 32) return (r) => r.view.getFloat32(r.take(4, 'float'), true)
      if (type.bits === 64) return (r) => r.view.getFloat64(r.take(8, 'float'), true)
      break
    case 'decimal':
      return compileDecimal(type.precision, type.scale)
    case 'bool':
      return (r) => {
        const at = r.take(1, 'bool')
        const byte = r.bytes[at] as number
        if (byte === 1) return true
        if (byte === 0) return false
        throw new RowBinaryFault(`invalid Bool byte 0x${hexByte(byte)} (expected 0 or 1)`, 'bool', at - r.start)
      }
    case 'string':
      return (r) => {
        const at = r.takeLength('string')
        return copy(r.bytes, at, r.pos)
      }
    case 'fixedString': {
      const length = type.length
      if (!Number.isInteger(length) || length < 1) break
      return (r) => {
        const at = r.take(length, 'fixedString')
        return copy(r.bytes, at, at + length)
      }
    }
    case 'date':
      return (r) => {
        const at = r.take(2, 'date')
        return (r.bytes[at] as number) | ((r.bytes[at + 1] as number) << 8)
      }
    case 'date32':
      return (r) => r.view.getInt32(r.take(4, 'date32'), true)
    case 'dateTime':
      return (r) => r.view.getUint32(r.take(4, 'dateTime'), true)
    case 'dateTime64':
      return (r) => r.view.getBigInt64(r.take(8, 'dateTime64'), true)
    case 'time':
      return (r) => r.view.getInt32(r.take(4, 'time'), true)
    case 'time64':
      return (r) => r.view.getBigInt64(r.take(8, 'time64'), true)
    case 'uuid':
      return (r) => uuidText(r.bytes, r.take(16, 'uuid'))
    case 'ipv4':
      return (r) => ipv4Text(r.bytes, r.take(4, 'ipv4'))
    case 'ipv6':
      return (r) => ipv6Text(r.bytes, r.take(16, 'ipv6'))
    case 'enum':
      return compileEnum(type.bits, type.values)
    case 'lowCardinality':
      return compile(type.inner)
    case 'nullable': {
      const inner = compile(type.inner)
      return (r) => {
        const at = r.take(1, 'nullable')
        const marker = r.bytes[at] as number
        if (marker === 0) return inner(r)
        if (marker === 1) return null
        throw new RowBinaryFault(
          `invalid Nullable marker 0x${hexByte(marker)} (expected 0 or 1)`,
          'nullable',
          at - r.start,
        )
      }
    }
    case 'array':
      return compileArray(compile(type.element), minimumSize(type.element), 'array')
    case 'map': {
      const key = compile(type.key)
      const value = compile(type.value)
      const pair: Decode = (r) => [key(r), value(r)]
      return compileArray(pair, minimumSize(type.key) + minimumSize(type.value), 'map')
    }
    case 'tuple':
      return compileObject(
        type.elements.map((element, i) => ({ name: element.name ?? `_${i + 1}`, type: element.type })),
      )
    case 'nested': {
      const element = compileObject(type.fields)
      return compileArray(
        element,
        type.fields.reduce((sum, field) => sum + minimumSize(field.type), 0),
        'nested',
      )
    }
    case 'json':
      return (r) => {
        const at = r.takeLength('json')
        return r.bytes.toString('utf8', at, r.pos)
      }
  }
  throw new TypeError(`cannot decode ${JSON.stringify(type)}`)
}

function compileInt(signed: boolean, bits: number): Decode {
  if (signed) {
    switch (bits) {
      case 8:
        return (r) => ((r.bytes[r.take(1, 'int')] as number) << 24) >> 24
      case 16:
        return (r) => r.view.getInt16(r.take(2, 'int'), true)
      case 32:
        return (r) => r.view.getInt32(r.take(4, 'int'), true)
      case 64:
        return (r) => r.view.getBigInt64(r.take(8, 'int'), true)
      case 128:
        return (r) => wideIntText(r.view, r.take(16, 'int'), 2, true)
      case 256:
        return (r) => wideIntText(r.view, r.take(32, 'int'), 4, true)
    }
  } else {
    switch (bits) {
      case 8:
        return (r) => r.bytes[r.take(1, 'int')] as number
      case 16:
        return (r) => r.view.getUint16(r.take(2, 'int'), true)
      case 32:
        return (r) => r.view.getUint32(r.take(4, 'int'), true)
      case 64:
        return (r) => r.view.getBigUint64(r.take(8, 'int'), true)
      case 128:
        return (r) => wideIntText(r.view, r.take(16, 'int'), 2, false)
      case 256:
        return (r) => wideIntText(r.view, r.take(32, 'int'), 4, false)
    }
  }
  throw new TypeError(`no ${signed ? 'Int' : 'UInt'}${bits}`)
}

function compileDecimal(precision: number, scale: number): Decode {
  if (!Number.isInteger(precision) || precision < 1 || precision > 76) {
    throw new TypeError(`decimal precision ${precision} is outside 1..76`)
  }
  if (!Number.isInteger(scale) || scale < 0 || scale > precision) {
    throw new TypeError(`decimal scale ${scale} is outside 0..${precision}`)
  }
  if (precision <= 9) return (r) => scaleText(String(r.view.getInt32(r.take(4, 'decimal'), true)), scale)
  if (precision <= 18) return (r) => scaleText(r.view.getBigInt64(r.take(8, 'decimal'), true).toString(), scale)
  if (precision <= 38) return (r) => scaleText(wideIntText(r.view, r.take(16, 'decimal'), 2, true), scale)
  return (r) => scaleText(wideIntText(r.view, r.take(32, 'decimal'), 4, true), scale)
}

function compileEnum(bits: 8 | 16, values: ReadonlyArray<{ name: string; value: number }>): Decode {
  const size = bits === 8 ? 1 : 2
  const limit = bits === 8 ? 128 : 32768
  for (const { name, value } of values) {
    if (!Number.isInteger(value) || value < -limit || value >= limit) {
      throw new TypeError(`Enum${bits} value ${value} (${name}) is out of range`)
    }
  }
  // A dense table over the defined values' range, indexed by value - low; outside it a lookup gives undefined.
  const low = Math.min(...values.map((v) => v.value))
  const high = Math.max(...values.map((v) => v.value))
  const names = new Array<string | undefined>(values.length === 0 ? 0 : high - low + 1).fill(undefined)
  for (const { name, value } of values) names[value - low] = name
  return (r) => {
    const at = r.take(size, 'enum')
    const value = size === 1 ? ((r.bytes[at] as number) << 24) >> 24 : r.view.getInt16(at, true)
    const name = value >= low && value <= high ? names[value - low] : undefined
    if (name === undefined) throw new RowBinaryFault(`unknown Enum${bits} value ${value}`, 'enum', at - r.start)
    return name
  }
}

function compileArray(element: Decode, elementSize: number, kind: string): Decode {
  return (r) => {
    const countAt = r.pos
    const count = r.varUInt(kind)
    // Bounds the allocation a poison count could ask for before the element reads would notice.
    if (count > maxElements || count * elementSize > r.end - r.pos) {
      throw new RowBinaryFault(
        `${kind} of ${count} elements cannot fit in the ${r.end - r.pos} bytes left`,
        kind,
        countAt - r.start,
      )
    }
    const values = new Array<unknown>(count)
    for (let i = 0; i < count; i++) values[i] = element(r)
    return values
  }
}

function compileObject(fields: ReadonlyArray<{ name: string; type: ClickHouseType }>): Decode {
  const names = fields.map((field) => field.name)
  const decoders = fields.map((field) => compile(field.type))
  const count = decoders.length
  const protoAt = names.indexOf('__proto__')
  return (r) => {
    const object: Record<string, unknown> = {}
    for (let i = 0; i < count; i++) {
      const value = (decoders[i] as Decode)(r)
      if (i === protoAt) defineField(object, '__proto__', value)
      else object[names[i] as string] = value
    }
    return object
  }
}

/** The fewest bytes a value of this type takes on the wire; bounds element counts before allocating. */
function minimumSize(type: ClickHouseType): number {
  switch (type.kind) {
    case 'int':
    case 'float':
      return type.bits / 8
    case 'decimal':
      return type.precision <= 9 ? 4 : type.precision <= 18 ? 8 : type.precision <= 38 ? 16 : 32
    case 'bool':
      return 1
    case 'fixedString':
      return type.length
    case 'date':
      return 2
    case 'date32':
    case 'dateTime':
    case 'time':
    case 'ipv4':
      return 4
    case 'dateTime64':
    case 'time64':
      return 8
    case 'uuid':
    case 'ipv6':
      return 16
    case 'enum':
      return type.bits / 8
    case 'lowCardinality':
      return minimumSize(type.inner)
    case 'string':
    case 'json':
    case 'nullable':
    case 'array':
    case 'map':
    case 'nested':
      return 1
    case 'tuple':
      return type.elements.reduce((sum, element) => sum + minimumSize(element.type), 0)
  }
}

/** A column or element literally named __proto__ must become a field, not the object's prototype. */
function defineField(object: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(object, name, { value, enumerable: true, writable: true, configurable: true })
}

function copy(bytes: Buffer, from: number, to: number): Buffer {
  const out = Buffer.allocUnsafe(to - from)
  bytes.copy(out, 0, from, to)
  return out
}

function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, '0')
}
