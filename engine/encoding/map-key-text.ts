/**
 * The text form of a decoded map key (rowbinary-decoder.ts shapes), for formats whose maps take only text keys.
 * The forms are schema/map-keys.ts's, equal to the Protobuf encoder's text keys.
 */
import type { ClickHouseType } from '../schema/clickhouse-type.js'
import { unwrapLowCardinality } from '../schema/map-keys.js'
import { dateText, dateTime64Text, dateTimeText, float32Text, float64Text, tickScale } from './encode-values.js'
import { scaleText } from './rowbinary-text.js'

/** Compiles the key writer of `type`; throws a TypeError for a type without a text form (see hasKeyText). */
export function compileKeyText(type: ClickHouseType): (key: unknown) => string {
  const key = unwrapLowCardinality(type)
  switch (key.kind) {
    case 'int':
    case 'time':
      return String
    case 'bool':
      return (k) => (k ? 'true' : 'false')
    case 'string':
    case 'fixedString':
      return (k) => (k as Buffer).toString('utf8')
    case 'date':
    case 'date32':
      return (k) => dateText(k as number)
    case 'dateTime':
      return (k) => dateTimeText(k as number, 0, 0)
    case 'dateTime64': {
      const precision = key.precision
      tickScale(precision)
      return (k) => dateTime64Text(k as bigint, precision)
    }
    case 'time64': {
      const precision = key.precision
      return (k) => scaleText(String(k), precision)
    }
    case 'float': {
      const text = key.bits === 32 ? float32Text : float64Text
      return (k) => text(k as number, clickHouseNonFinite)
    }
    case 'decimal':
    case 'enum':
    case 'json':
    case 'uuid':
    case 'ipv4':
    case 'ipv6':
      return (k) => k as string
  }
  throw new TypeError(`a ${key.kind} has no text form for a map key`)
}

/** nan, inf, -inf: how ClickHouse prints the non-finite floats. */
function clickHouseNonFinite(value: number): string {
  return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf'
}
