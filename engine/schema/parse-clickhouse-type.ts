import { UnsupportedTypeError } from '../errors.js'
import type { CapturedColumn, ClickHouseType } from './clickhouse-type.js'
import { ClickHouseTypeError, formatName, quoteText, TypeNameScanner } from './type-name-scanner.js'

export { ClickHouseTypeError }

/**
 * Parses a type name exactly as `system.columns.type` prints it (ClickHouse 24.8–26.x) into a {@link ClickHouseType}.
 * Throws {@link ClickHouseTypeError} for a type tailhouse does not map, or for text it cannot read; use
 * {@link toCapturedColumn} to get the user-facing {@link UnsupportedTypeError} instead.
 *
 * @example parseClickHouseType("Map(LowCardinality(String), Array(Nullable(Decimal(10, 2))))")
 */
export function parseClickHouseType(typeName: string): ClickHouseType {
  const scanner = new TypeNameScanner(typeName)
  const type = parseType(scanner)
  if (!scanner.atEnd()) scanner.fail('unexpected text after the type')
  return type
}

/**
 * Parses a column's type for capture. A column with a JSON-like type anywhere inside (JSON, Object, Dynamic,
 * Variant, e.g. `Array(JSON)`) becomes one `json` column as a whole, because the capture view serializes it with
 * `toJSONString` (see {@link wireExpression}).
 */
export function toCapturedColumn(table: string, column: string, typeName: string): CapturedColumn {
  let type: ClickHouseType
  try {
    type = parseClickHouseType(typeName)
  } catch (error) {
    if (error instanceof ClickHouseTypeError) throw new UnsupportedTypeError(table, column, typeName, error.message)
    throw error
  }
  return { name: column, type: containsJson(type) ? { kind: 'json', typeName } : type, typeName }
}

/** True when `type` is, or has anywhere inside, a `json` kind. */
export function containsJson(type: ClickHouseType): boolean {
  switch (type.kind) {
    case 'json':
      return true
    case 'lowCardinality':
    case 'nullable':
      return containsJson(type.inner)
    case 'array':
      return containsJson(type.element)
    case 'map':
      return containsJson(type.key) || containsJson(type.value)
    case 'tuple':
      return type.elements.some((element) => containsJson(element.type))
    case 'nested':
      return type.fields.some((field) => containsJson(field.type))
    default:
      return false
  }
}

/**
 * The SQL expression that the capture view selects for `column`: its backquoted name, or its JSON text.
 * toJSONString of a top-level Dynamic or Variant is Nullable(String), which would add a null-marker byte to the
 * RowBinary payload; ifNull keeps every JSON column a plain String, with NULL as the JSON text `null`.
 */
export function wireExpression(column: CapturedColumn, qualifier?: string): string {
  const name = `${qualifier ? `${qualifier}.` : ''}${quoteText(column.name, '`')}`
  return column.type.kind === 'json' ? `ifNull(toJSONString(${name}), 'null')` : name
}

/** Prints `type` as ClickHouse does (Decimal32(S) as Decimal(9, S)); `parseClickHouseType` reads it back. */
export function formatClickHouseType(type: ClickHouseType): string {
  switch (type.kind) {
    case 'int':
      return `${type.signed ? '' : 'U'}Int${type.bits}`
    case 'float':
      return `Float${type.bits}`
    case 'decimal':
      return `Decimal(${type.precision}, ${type.scale})`
    case 'fixedString':
      return `FixedString(${type.length})`
    case 'dateTime':
      return type.timezone === undefined ? 'DateTime' : `DateTime(${quoteText(type.timezone, "'")})`
    case 'dateTime64':
      return `DateTime64(${type.precision}${type.timezone === undefined ? '' : `, ${quoteText(type.timezone, "'")}`})`
    case 'time64':
      return `Time64(${type.precision})`
    case 'enum':
      return `Enum${type.bits}(${type.values.map((v) => `${quoteText(v.name, "'")} = ${v.value}`).join(', ')})`
    case 'lowCardinality':
      return `LowCardinality(${formatClickHouseType(type.inner)})`
    case 'nullable':
      return `Nullable(${formatClickHouseType(type.inner)})`
    case 'array':
      return `Array(${formatClickHouseType(type.element)})`
    case 'map':
      return `Map(${formatClickHouseType(type.key)}, ${formatClickHouseType(type.value)})`
    case 'tuple':
      return `Tuple(${type.elements.map((e) => (e.name === undefined ? '' : `${formatName(e.name)} `) + formatClickHouseType(e.type)).join(', ')})`
    case 'nested':
      return `Nested(${type.fields.map((f) => `${formatName(f.name)} ${formatClickHouseType(f.type)}`).join(', ')})`
    case 'json':
      return type.typeName
    default:
      return bareNames[type.kind]
  }
}

const bareNames = {
  bool: 'Bool',
  string: 'String',
  date: 'Date',
  date32: 'Date32',
  time: 'Time',
  uuid: 'UUID',
  ipv4: 'IPv4',
  ipv6: 'IPv6',
} as const

type BareKind = keyof typeof bareNames

/** Type names without arguments, by the name ClickHouse prints. */
const bareTypes: Record<string, ClickHouseType> = {
  Float32: { kind: 'float', bits: 32 },
  Float64: { kind: 'float', bits: 64 },
  ...Object.fromEntries(Object.entries(bareNames).map(([kind, name]) => [name, { kind: kind as BareKind }])),
}

/** Types ClickHouse has and tailhouse refuses, with what the user can do instead. */
const refusals: Array<[RegExp, (family: string) => string]> = [
  [
    /^AggregateFunction$/,
    () => 'AggregateFunction states have no row value; capture the source table, not the aggregate',
  ],
  [
    /^SimpleAggregateFunction$/,
    () =>
      'SimpleAggregateFunction holds partial aggregates that merges keep changing; capture the source table, not the aggregate',
  ],
  [/^Nothing$/, () => 'Nothing holds no values; cast the column to a concrete type in a view'],
  [/^Interval/, (family) => `${family} is not mapped yet; cast the column to an integer in a view`],
  [
    /^(Point|Ring|LineString|MultiLineString|Polygon|MultiPolygon|Geometry)$/,
    (family) => `${family} is a geo type; geo types are not mapped yet; cast the column in a view, e.g. wkt(column)`,
  ],
  [/^BFloat16$/, () => 'BFloat16 is not mapped yet; cast the column to Float32 in a view'],
  [/^QBit$/, () => 'QBit is not mapped yet; cast the column to Array(Float32) in a view'],
]

function parseType(scanner: TypeNameScanner): ClickHouseType {
  scanner.skipSpaces()
  const start = scanner.position
  const family = scanner.word()
  const integer = /^(U?)Int(8|16|32|64|128|256)$/.exec(family)
  if (integer)
    return { kind: 'int', signed: integer[1] === '', bits: Number(integer[2]) as 8 | 16 | 32 | 64 | 128 | 256 }
  const bare = bareTypes[family]
  if (bare) return { ...bare }
  switch (family) {
    case 'Decimal':
      return parseDecimal(scanner)
    case 'Decimal32':
    case 'Decimal64':
    case 'Decimal128':
    case 'Decimal256':
      return parseSizedDecimal(scanner, family)
    case 'FixedString': {
      const length = oneArgument(scanner, () => scanner.integer())
      if (length < 1) scanner.fail('FixedString needs a length of at least 1')
      return { kind: 'fixedString', length }
    }
    case 'DateTime':
      return scanner.peek() === '('
        ? { kind: 'dateTime', timezone: oneArgument(scanner, () => scanner.quoted("'")) }
        : { kind: 'dateTime' }
    case 'DateTime64':
      return parseDateTime64(scanner)
    case 'Time64':
      return { kind: 'time64', precision: oneArgument(scanner, () => precision(scanner)) }
    case 'Enum8':
      return { kind: 'enum', bits: 8, values: parseEnumValues(scanner, 8) }
    case 'Enum16':
      return { kind: 'enum', bits: 16, values: parseEnumValues(scanner, 16) }
    case 'LowCardinality':
      return { kind: 'lowCardinality', inner: oneArgument(scanner, () => parseType(scanner)) }
    case 'Nullable':
      return { kind: 'nullable', inner: oneArgument(scanner, () => parseType(scanner)) }
    case 'Array':
      return { kind: 'array', element: oneArgument(scanner, () => parseType(scanner)) }
    case 'Map': {
      scanner.expect('(')
      const key = parseType(scanner)
      scanner.expect(',')
      const value = parseType(scanner)
      scanner.expect(')')
      return { kind: 'map', key, value }
    }
    case 'Tuple':
      return { kind: 'tuple', elements: list(scanner, () => parseTupleElement(scanner)) }
    case 'Nested':
      return { kind: 'nested', fields: list(scanner, () => ({ name: scanner.name(), type: parseType(scanner) })) }
    case 'JSON':
    case 'Object':
    case 'Dynamic':
    case 'Variant':
      // Captured as JSON text, so their arguments only need to be skipped; the kind keeps the exact text.
      if (scanner.peek() === '(') scanner.skipArguments()
      return { kind: 'json', typeName: scanner.text.slice(start, scanner.position) }
  }
  const refusal = refusals.find(([pattern]) => pattern.test(family))
  throw new ClickHouseTypeError(
    refusal ? refusal[1](family) : `unknown type ${family}; cast the column to a supported type in a view`,
  )
}

function parseDecimal(scanner: TypeNameScanner): ClickHouseType {
  scanner.expect('(')
  const precision = scanner.integer()
  scanner.expect(',')
  const scale = scanner.integer()
  scanner.expect(')')
  if (precision < 1 || precision > 76) scanner.fail('Decimal precision must be 1 to 76')
  if (scale < 0 || scale > precision) scanner.fail('Decimal scale must be 0 to the precision')
  return { kind: 'decimal', precision, scale }
}

const decimalPrecisions: Record<string, number> = { Decimal32: 9, Decimal64: 18, Decimal128: 38, Decimal256: 76 }

function parseSizedDecimal(scanner: TypeNameScanner, family: string): ClickHouseType {
  const precision = decimalPrecisions[family] as number
  const scale = oneArgument(scanner, () => scanner.integer())
  if (scale < 0 || scale > precision) scanner.fail(`${family} scale must be 0 to ${precision}`)
  return { kind: 'decimal', precision, scale }
}

function parseDateTime64(scanner: TypeNameScanner): ClickHouseType {
  scanner.expect('(')
  const digits = precision(scanner)
  const timezone = scanner.accept(',') ? scanner.quoted("'") : undefined
  scanner.expect(')')
  return timezone === undefined
    ? { kind: 'dateTime64', precision: digits }
    : { kind: 'dateTime64', precision: digits, timezone }
}

/** Sub-second digits of DateTime64 and Time64: 0 to 9. */
function precision(scanner: TypeNameScanner): number {
  const digits = scanner.integer()
  if (digits < 0 || digits > 9) scanner.fail('precision must be 0 to 9')
  return digits
}

function parseEnumValues(scanner: TypeNameScanner, bits: 8 | 16): Array<{ name: string; value: number }> {
  const limit = 2 ** (bits - 1)
  return list(scanner, () => {
    const name = scanner.quoted("'")
    scanner.expect('=')
    const value = scanner.integer()
    if (value < -limit || value >= limit) scanner.fail(`Enum${bits} value ${value} is out of range`)
    return { name, value }
  })
}

/** `Tuple(T1, T2)` or `Tuple(a T1, b T2)`: a bare word is an element name when a type follows it, else a type. */
function parseTupleElement(scanner: TypeNameScanner): { name?: string; type: ClickHouseType } {
  if (scanner.peek() === '`') return { name: scanner.quoted('`'), type: parseType(scanner) }
  const mark = scanner.position
  const word = scanner.word()
  if (![',', ')', '('].includes(scanner.peek())) return { name: word, type: parseType(scanner) }
  scanner.rewind(mark)
  return { type: parseType(scanner) }
}

function oneArgument<T>(scanner: TypeNameScanner, read: () => T): T {
  scanner.expect('(')
  const value = read()
  scanner.expect(')')
  return value
}

/** A parenthesized, comma-separated list; `Tuple()` may be empty. */
function list<T>(scanner: TypeNameScanner, read: () => T): T[] {
  scanner.expect('(')
  const items: T[] = []
  if (scanner.accept(')')) return items
  do items.push(read())
  while (scanner.accept(','))
  scanner.expect(')')
  return items
}
