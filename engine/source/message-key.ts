/**
 * The Kafka message key of a row: the text of its key columns (which columns: key-choice.ts), so that all changes
 * of one source row go to one partition (murmur2, Java-compatible) in changelog order. One column: its value's
 * text; several: a JSON array of their texts. ClickHouse computes it in the read query ({@link keySql}); rows the engine decodes itself (a row
 * captured between an ALTER … MODIFY COLUMN and the next migrate) get the same bytes from {@link messageKey}.
 *
 * Text forms (ClickHouse's `toString`, times in UTC): integers in decimal; String as its bytes, FixedString without
 * its padding zero bytes;
 * Bool `true`/`false`; UUID, IPv4, IPv6 and Enum as ClickHouse prints them; Date `2024-01-31`; DateTime(64)
 * `2024-01-31 12:00:00[.123]` in UTC; Decimal with exactly its scale's fraction digits; NULL as `null`. Other types
 * (floats, arrays, maps, tuples, JSON, times of day) cannot be key columns: their text is not an identity.
 */

import { dateText, dateTime64Text, dateTimeText } from '../encoding/encode-values.js'
import type { ClickHouseType } from '../schema/clickhouse-type.js'

/** Why a column cannot be a key column, or undefined when it can. */
export function keyColumnProblem(type: ClickHouseType): string | undefined {
  switch (type.kind) {
    case 'lowCardinality':
    case 'nullable':
      return keyColumnProblem(type.inner)
    case 'int':
    case 'bool':
    case 'string':
    case 'fixedString':
    case 'uuid':
    case 'ipv4':
    case 'ipv6':
    case 'enum':
    case 'date':
    case 'date32':
    case 'dateTime':
    case 'dateTime64':
    case 'decimal':
      return undefined
    default:
      return `a ${type.kind} column has no text that identifies a row; key columns are integers, strings, UUID, IP, enum, bool, dates, times or decimals`
  }
}

/** The SQL of the key of columns `keys` (each read by `sql`), or undefined for no key columns. */
export function keySql(keys: ReadonlyArray<{ type: ClickHouseType; sql: string }>): string | undefined {
  if (keys.length === 0) return undefined
  if (keys.length === 1)
    return textSql((keys[0] as { type: ClickHouseType; sql: string }).type, (keys[0] as { sql: string }).sql)
  // JSON strings of the texts, escaped as JSON.stringify does (see jsonString), in one array.
  return `concat('[', ${keys.map((k) => `toJSONString(${textSql(k.type, k.sql)})`).join(", ',', ")}, ']')`
}

function textSql(type: ClickHouseType, sql: string): string {
  switch (type.kind) {
    case 'lowCardinality':
      return textSql(type.inner, sql)
    case 'nullable':
      return `ifNull(${textSql(type.inner, sql)}, 'null')`
    case 'string':
      return sql
    case 'dateTime':
    case 'dateTime64':
      return `toString(${sql}, 'UTC')`
    case 'decimal':
      return `toDecimalString(${sql}, ${type.scale})`
    default:
      return `toString(${sql})`
  }
}

/** The key of a decoded row (rowbinary-decoder.ts values), byte for byte what {@link keySql} gives. */
export function messageKey(
  row: Record<string, unknown>,
  keys: ReadonlyArray<{ name: string; type: ClickHouseType }>,
): Buffer | undefined {
  if (keys.length === 0) return undefined
  if (keys.length === 1) {
    const key = keys[0] as { name: string; type: ClickHouseType }
    return textBytes(key.type, row[key.name])
  }
  return Buffer.from(`[${keys.map((k) => jsonString(textBytes(k.type, row[k.name]).toString('utf8'))).join(',')}]`)
}

function textBytes(type: ClickHouseType, value: unknown): Buffer {
  if (value === null || value === undefined) return Buffer.from('null')
  switch (type.kind) {
    case 'lowCardinality':
    case 'nullable':
      return textBytes(type.inner, value)
    case 'string':
      return value as Buffer
    case 'fixedString':
      return withoutTrailingZeros(value as Buffer)
    case 'bool':
      return Buffer.from(value ? 'true' : 'false')
    case 'date':
    case 'date32':
      return Buffer.from(dateText(value as number))
    case 'dateTime':
      return Buffer.from(spaced(dateTimeText(value as number, 0, 0)))
    case 'dateTime64':
      return Buffer.from(spaced(dateTime64Text(value as bigint, type.precision)))
    default:
      return Buffer.from(String(value))
  }
}

/** toString of a FixedString: the bytes without the zero bytes that pad them. */
function withoutTrailingZeros(bytes: Buffer): Buffer {
  let end = bytes.length
  while (end > 0 && bytes[end - 1] === 0) end--
  return bytes.subarray(0, end)
}

/** `2024-01-31T12:00:00.5Z` → `2024-01-31 12:00:00.5`, ClickHouse's text of a time. */
function spaced(iso: string): string {
  return iso.replace('T', ' ').slice(0, -1)
}

/**
 * A JSON string literal as ClickHouse's toJSONString writes it with output_format_json_escape_forward_slashes = 0
 * (the read query sets it): `"` and `\` escaped, \b \f \n \r \t, other control characters as \u00XX.
 */
export function jsonString(text: string): string {
  return JSON.stringify(text)
}
