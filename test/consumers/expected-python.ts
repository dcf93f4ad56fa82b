/**
 * What Python's confluent-kafka deserializers give for a decoded ClickHouse value, in canonical.py's JSON form,
 * derived from the value as the source table holds it (rowbinary-decoder.ts shapes) by the documented mapping
 * of each format — written apart from the encoders, with JavaScript's Date for calendar arithmetic.
 */
import type { ClickHouseType } from '../../engine/schema/clickhouse-type.js'
import { hasKeyText } from '../../engine/schema/map-keys.js'

type Canonical = unknown

const bytes = (b: Buffer): Canonical => ({ bytes: b.toString('base64') })
const int = (n: number | bigint): Canonical =>
  typeof n === 'bigint' && (n >= 2n ** 53n || n <= -(2n ** 53n)) ? { int: String(n) } : Number(n)

/** `YYYY-MM-DD` of days since 1970-01-01. */
function isoDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10)
}

/** `YYYY-MM-DDThh:mm:ss` of whole seconds, UTC. */
function isoSeconds(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().slice(0, 19)
}

/** Floor division and remainder of ticks by 10^digits. */
function split(ticks: bigint, digits: number): [bigint, bigint] {
  const scale = 10n ** BigInt(digits)
  let whole = ticks / scale
  let rest = ticks % scale
  if (rest < 0n) {
    rest += scale
    whole -= 1n
  }
  return [whole, rest]
}

/** Python's datetime.isoformat() of an aware UTC datetime: microseconds only when non-zero. */
function pythonUtc(seconds: bigint, micros: bigint): string {
  return `${isoSeconds(seconds)}${micros === 0n ? '' : `.${String(micros).padStart(6, '0')}`}+00:00`
}

/** A key's text in Avro maps and JSON objects (schema/map-keys.ts), for the key types the fixture uses. */
function keyText(type: ClickHouseType, key: unknown): string {
  const t = type.kind === 'lowCardinality' ? type.inner : type
  if (t.kind === 'string' || t.kind === 'fixedString') return (key as Buffer).toString('utf8')
  if (t.kind === 'date' || t.kind === 'date32') return isoDate(key as number)
  return String(key)
}

/** JSON writes a Float32 as the shortest decimal that reads back as it (0.1, not 0.10000000149011612). */
function shortestFloat32(value: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits))
    if (Math.fround(candidate) === value) return candidate
  }
  return value
}

/** The Avro deserializer's value (fastavro): logical types converted, timestamp-nanos left as its integer. */
export function expectedAvro(type: ClickHouseType, value: unknown): Canonical {
  switch (type.kind) {
    case 'lowCardinality':
      return expectedAvro(type.inner, value)
    case 'nullable':
      return value === null ? null : expectedAvro(type.inner, value)
    case 'array':
      return (value as unknown[]).map((v) => expectedAvro(type.element, v))
    case 'nested':
      return (value as unknown[]).map((v) => expectedAvro({ kind: 'tuple', elements: type.fields }, v))
    case 'map': {
      const pairs = value as Array<[unknown, unknown]>
      if (!hasKeyText(type.key)) {
        return pairs.map(([k, v]) => ({ key: expectedAvro(type.key, k), value: expectedAvro(type.value, v) }))
      }
      return Object.fromEntries(pairs.map(([k, v]) => [keyText(type.key, k), expectedAvro(type.value, v)]))
    }
    case 'tuple': {
      const object = value as Record<string, unknown>
      return Object.fromEntries(
        type.elements.map((e, i) => {
          const key = e.name ?? `_${i + 1}`
          return [key, expectedAvro(e.type, object[key])]
        }),
      )
    }
    case 'int':
      if (type.bits > 64 || (type.bits === 64 && !type.signed)) return { decimal: String(value) }
      return int(value as number | bigint)
    case 'decimal':
      return { decimal: value }
    case 'float':
      return value
    case 'bool':
      return value
    case 'string':
    case 'fixedString':
      return bytes(value as Buffer)
    case 'date':
    case 'date32':
      return { date: isoDate(value as number) }
    case 'dateTime':
      return { datetime: pythonUtc(BigInt(value as number), 0n) }
    case 'dateTime64': {
      if (type.precision > 6) return int(value as bigint) // timestamp-nanos: fastavro returns the integer
      const [seconds, fraction] = split(value as bigint, type.precision)
      const micros = fraction * 10n ** BigInt(6 - type.precision)
      // timestamp-millis carries whole milliseconds, timestamp-micros microseconds: both exact here.
      return { datetime: pythonUtc(seconds, micros) }
    }
    case 'time':
    case 'time64':
      return int(value as number | bigint)
    case 'uuid':
    case 'ipv4':
    case 'ipv6':
    case 'enum':
    case 'json':
      return value
  }
}

/**
 * The JSON Schema deserializer's value: the parsed JSON document (Python's json keeps big integers exact). With
 * `uint64AsText`, debezium-json's row values.
 */
export function expectedJson(
  type: ClickHouseType,
  value: unknown,
  options: { uint64AsText?: boolean } = {},
): Canonical {
  const sub = (t: ClickHouseType, v: unknown) => expectedJson(t, v, options)
  switch (type.kind) {
    case 'lowCardinality':
      return sub(type.inner, value)
    case 'nullable':
      return value === null ? null : sub(type.inner, value)
    case 'array':
      return (value as unknown[]).map((v) => sub(type.element, v))
    case 'nested':
      return (value as unknown[]).map((v) => sub({ kind: 'tuple', elements: type.fields }, v))
    case 'map': {
      const pairs = value as Array<[unknown, unknown]>
      if (!hasKeyText(type.key)) {
        return pairs.map(([k, v]) => ({ key: sub(type.key, k), value: sub(type.value, v) }))
      }
      return Object.fromEntries(pairs.map(([k, v]) => [keyText(type.key, k), sub(type.value, v)]))
    }
    case 'tuple': {
      const object = value as Record<string, unknown>
      return Object.fromEntries(
        type.elements.map((e, i) => {
          const key = e.name ?? `_${i + 1}`
          return [key, sub(e.type, object[key])]
        }),
      )
    }
    case 'int':
      if (type.bits > 64 || (options.uint64AsText && type.bits === 64 && !type.signed)) return String(value)
      return int(value as number | bigint)
    case 'float':
      return type.bits === 32 ? shortestFloat32(value as number) : value
    case 'bool':
      return value
    case 'string':
    case 'fixedString':
      return (value as Buffer).toString('utf8')
    case 'date':
    case 'date32':
      return isoDate(value as number)
    case 'dateTime':
      return `${isoSeconds(BigInt(value as number))}Z`
    case 'dateTime64': {
      const [seconds, fraction] = split(value as bigint, type.precision)
      const digits = type.precision === 0 ? '' : `.${String(fraction).padStart(type.precision, '0')}`
      return `${isoSeconds(seconds)}${digits}Z`
    }
    case 'time':
      return value
    case 'time64': {
      const ticks = value as bigint
      const negative = ticks < 0n
      const magnitude = negative ? -ticks : ticks
      const scale = 10n ** BigInt(type.precision)
      const fraction = String(magnitude % scale).padStart(type.precision, '0')
      return `${negative ? '-' : ''}${magnitude / scale}${type.precision === 0 ? '' : `.${fraction}`}`
    }
    case 'decimal':
    case 'uuid':
    case 'ipv4':
    case 'ipv6':
    case 'enum':
    case 'json':
      return value
  }
}

/** The proto fixture's toObject values (test/fixtures/every-type-proto.ts) in canonical.py's form. */
export function protoCanonical(value: unknown): Canonical {
  if (Buffer.isBuffer(value)) return bytes(value)
  if (Array.isArray(value)) return value.map(protoCanonical)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, protoCanonical(v)]))
  }
  return value
}
