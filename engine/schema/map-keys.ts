/**
 * Map keys in formats whose maps take only text keys (Avro maps, JSON objects): which ClickHouse key types have a
 * text form, and what that form is — the same texts the Protobuf mapping gives keys it writes as `string`
 * (proto-mapping.ts keyText). Keys of other types (Array, Tuple, Map, Nullable) make the map a list of
 * `{ key, value }` entries instead.
 */
import type { ClickHouseType } from './clickhouse-type.js'

export function unwrapLowCardinality(type: ClickHouseType): ClickHouseType {
  return type.kind === 'lowCardinality' ? unwrapLowCardinality(type.inner) : type
}

/** True when a key of `type` has a text form, so the map can be a text-keyed map. */
export function hasKeyText(type: ClickHouseType): boolean {
  return !['nullable', 'array', 'map', 'tuple', 'nested'].includes(unwrapLowCardinality(type).kind)
}

/** How a key of `type` is written as text, for docs and schema descriptions. */
export function keyTextDescription(type: ClickHouseType): string {
  const key = unwrapLowCardinality(type)
  switch (key.kind) {
    case 'int':
      return 'decimal text'
    case 'bool':
      return 'true or false'
    case 'string':
    case 'fixedString':
      return 'UTF-8 text'
    case 'date':
    case 'date32':
      return 'ISO-8601 dates, YYYY-MM-DD'
    case 'dateTime':
      return 'ISO-8601 UTC times, YYYY-MM-DDThh:mm:ssZ'
    case 'dateTime64':
      return `ISO-8601 UTC times, YYYY-MM-DDThh:mm:ss${key.precision === 0 ? '' : `.${'f'.repeat(key.precision)}`}Z`
    case 'time':
    case 'time64':
      return `seconds as decimal text with ${key.kind === 'time' ? 0 : key.precision} fraction digits`
    case 'decimal':
      return `decimal text with exactly ${key.scale} fraction digits`
    case 'float':
      return 'shortest round-trip decimal text (nan, inf, -inf)'
    case 'enum':
      return 'the enum value names'
    case 'json':
      return 'JSON text'
    case 'uuid':
      return 'lowercase 8-4-4-4-12 text'
    default:
      return 'the value as ClickHouse prints it'
  }
}
