import { describe, expect, it } from 'vitest'
import { UnsupportedTypeError } from '../../engine/errors.js'
import type { CapturedColumn, ClickHouseType } from '../../engine/schema/clickhouse-type.js'
import {
  ClickHouseTypeError,
  containsJson,
  formatClickHouseType,
  parseClickHouseType,
  toCapturedColumn,
  wireExpression,
} from '../../engine/schema/parse-clickhouse-type.js'

const int = (signed: boolean, bits: 8 | 16 | 32 | 64 | 128 | 256): ClickHouseType => ({ kind: 'int', signed, bits })
const string: ClickHouseType = { kind: 'string' }

describe('parseClickHouseType', () => {
  // Type names as system.columns prints them (checked against ClickHouse 26.7), and what they parse to.
  const cases: Array<[string, ClickHouseType]> = [
    ['Int8', int(true, 8)],
    ['Int16', int(true, 16)],
    ['Int32', int(true, 32)],
    ['Int64', int(true, 64)],
    ['Int128', int(true, 128)],
    ['Int256', int(true, 256)],
    ['UInt8', int(false, 8)],
    ['UInt16', int(false, 16)],
    ['UInt32', int(false, 32)],
    ['UInt64', int(false, 64)],
    ['UInt128', int(false, 128)],
    ['UInt256', int(false, 256)],
    ['Float32', { kind: 'float', bits: 32 }],
    ['Float64', { kind: 'float', bits: 64 }],
    ['Decimal(10, 2)', { kind: 'decimal', precision: 10, scale: 2 }],
    ['Decimal(76, 0)', { kind: 'decimal', precision: 76, scale: 0 }],
    ['Decimal32(3)', { kind: 'decimal', precision: 9, scale: 3 }],
    ['Decimal64(4)', { kind: 'decimal', precision: 18, scale: 4 }],
    ['Decimal128(2)', { kind: 'decimal', precision: 38, scale: 2 }],
    ['Decimal256(10)', { kind: 'decimal', precision: 76, scale: 10 }],
    ['Bool', { kind: 'bool' }],
    ['String', string],
    ['FixedString(16)', { kind: 'fixedString', length: 16 }],
    ['Date', { kind: 'date' }],
    ['Date32', { kind: 'date32' }],
    ['DateTime', { kind: 'dateTime' }],
    ["DateTime('Europe/Berlin')", { kind: 'dateTime', timezone: 'Europe/Berlin' }],
    ['DateTime64(3)', { kind: 'dateTime64', precision: 3 }],
    ["DateTime64(9, 'UTC')", { kind: 'dateTime64', precision: 9, timezone: 'UTC' }],
    ['Time', { kind: 'time' }],
    ['Time64(6)', { kind: 'time64', precision: 6 }],
    ['UUID', { kind: 'uuid' }],
    ['IPv4', { kind: 'ipv4' }],
    ['IPv6', { kind: 'ipv6' }],
    [
      "Enum8('a' = 1, 'b c' = -2)",
      {
        kind: 'enum',
        bits: 8,
        values: [
          { name: 'a', value: 1 },
          { name: 'b c', value: -2 },
        ],
      },
    ],
    [
      "Enum16('x' = 1000, 'y' = -32768)",
      {
        kind: 'enum',
        bits: 16,
        values: [
          { name: 'x', value: 1000 },
          { name: 'y', value: -32768 },
        ],
      },
    ],
    ['LowCardinality(String)', { kind: 'lowCardinality', inner: string }],
    ['Nullable(Int32)', { kind: 'nullable', inner: int(true, 32) }],
    [
      'LowCardinality(Nullable(FixedString(4)))',
      { kind: 'lowCardinality', inner: { kind: 'nullable', inner: { kind: 'fixedString', length: 4 } } },
    ],
    ['Array(String)', { kind: 'array', element: string }],
    ['Map(String, UInt64)', { kind: 'map', key: string, value: int(false, 64) }],
    [
      'Map(LowCardinality(String), Array(Nullable(Decimal(10, 2))))',
      {
        kind: 'map',
        key: { kind: 'lowCardinality', inner: string },
        value: { kind: 'array', element: { kind: 'nullable', inner: { kind: 'decimal', precision: 10, scale: 2 } } },
      },
    ],
    ['Tuple(UInt8, String)', { kind: 'tuple', elements: [{ type: int(false, 8) }, { type: string }] }],
    [
      'Tuple(Array(UInt8), Nullable(String))',
      {
        kind: 'tuple',
        elements: [{ type: { kind: 'array', element: int(false, 8) } }, { type: { kind: 'nullable', inner: string } }],
      },
    ],
    [
      'Tuple(a UInt8, `b c` String, `x\\`y` Int8, `select` Bool)',
      {
        kind: 'tuple',
        elements: [
          { name: 'a', type: int(false, 8) },
          { name: 'b c', type: string },
          { name: 'x`y', type: int(true, 8) },
          { name: 'select', type: { kind: 'bool' } },
        ],
      },
    ],
    ['Tuple()', { kind: 'tuple', elements: [] }],
    [
      'Tuple(a Nullable(Tuple(x Int8)), `é` Map(String, Tuple(UInt8)))',
      {
        kind: 'tuple',
        elements: [
          {
            name: 'a',
            type: { kind: 'nullable', inner: { kind: 'tuple', elements: [{ name: 'x', type: int(true, 8) }] } },
          },
          {
            name: 'é',
            type: { kind: 'map', key: string, value: { kind: 'tuple', elements: [{ type: int(false, 8) }] } },
          },
        ],
      },
    ],
    [
      'Nested(a UInt8, `b c` Nested(x String))',
      {
        kind: 'nested',
        fields: [
          { name: 'a', type: int(false, 8) },
          { name: 'b c', type: { kind: 'nested', fields: [{ name: 'x', type: string }] } },
        ],
      },
    ],
    [
      'Array(Tuple(a Int8, b Nested(c Int8)))',
      {
        kind: 'array',
        element: {
          kind: 'tuple',
          elements: [
            { name: 'a', type: int(true, 8) },
            { name: 'b', type: { kind: 'nested', fields: [{ name: 'c', type: int(true, 8) }] } },
          ],
        },
      },
    ],
    ['JSON', { kind: 'json', typeName: 'JSON' }],
    [
      "JSON(max_dynamic_paths=10, `a.b` UInt32, SKIP x, SKIP REGEXP 'y.*')",
      { kind: 'json', typeName: "JSON(max_dynamic_paths=10, `a.b` UInt32, SKIP x, SKIP REGEXP 'y.*')" },
    ],
    [
      'JSON(max_dynamic_paths=N, a.b UInt32, SKIP x)',
      { kind: 'json', typeName: 'JSON(max_dynamic_paths=N, a.b UInt32, SKIP x)' },
    ],
    ["JSON(SKIP REGEXP 'a)(b')", { kind: 'json', typeName: "JSON(SKIP REGEXP 'a)(b')" }],
    ["Object('json')", { kind: 'json', typeName: "Object('json')" }],
    ['Dynamic', { kind: 'json', typeName: 'Dynamic' }],
    ['Dynamic(max_types=3)', { kind: 'json', typeName: 'Dynamic(max_types=3)' }],
    ['Variant(String, UInt64)', { kind: 'json', typeName: 'Variant(String, UInt64)' }],
    [
      'Variant(Array(UInt8), Map(String, Int8))',
      { kind: 'json', typeName: 'Variant(Array(UInt8), Map(String, Int8))' },
    ],
    [
      'Map(String, Variant(String, Array(UInt8)))',
      { kind: 'map', key: string, value: { kind: 'json', typeName: 'Variant(String, Array(UInt8))' } },
    ],
    ['Array(JSON(a.b UInt32))', { kind: 'array', element: { kind: 'json', typeName: 'JSON(a.b UInt32)' } }],
  ]

  it.each(cases)('%s', (typeName, expected) => {
    expect(parseClickHouseType(typeName)).toEqual(expected)
  })

  it('tolerates spaces between tokens', () => {
    expect(parseClickHouseType(' Map( String ,Array( Tuple( a  Int8 ) ) ) ')).toEqual(
      parseClickHouseType('Map(String, Array(Tuple(a Int8)))'),
    )
  })

  // Enum names are SQL strings: ClickHouse prints \' \\ \t \n escapes and raw UTF-8 and control bytes.
  const enumNames: Array<[string, string]> = [
    [String.raw`'it\'s'`, "it's"],
    [`'it''s'`, "it's"],
    [String.raw`'back\\slash'`, 'back\\slash'],
    [String.raw`'tab\t'`, 'tab\t'],
    [String.raw`'new\nline'`, 'new\nline'],
    [String.raw`'nul\0'`, 'nul\0'],
    [String.raw`'\x41\xC3\xA9'`, 'Aé'],
    [String.raw`'\q'`, 'q'],
    [`'dq"'`, 'dq"'],
    ["'bq`'", 'bq`'],
    ["''", ''],
    ["'é ü 😀'", 'é ü 😀'],
    ["'\u0001ctl'", '\u0001ctl'],
    ["'a, b'", 'a, b'],
    ["'x) = 4'", 'x) = 4'],
  ]

  it.each(enumNames)('reads the enum name %s', (quoted, name) => {
    expect(parseClickHouseType(`Enum8(${quoted} = 1, 'z' = 2)`)).toEqual({
      kind: 'enum',
      bits: 8,
      values: [
        { name, value: 1 },
        { name: 'z', value: 2 },
      ],
    })
  })

  it('prints types back as ClickHouse does', () => {
    // Decimal32(S) prints as Decimal(9, S); ClickHouse backquotes keywords such as `select`, tailhouse need not.
    for (const [typeName] of cases.filter(([name]) => !/Decimal\d|`select`/.test(name))) {
      expect(formatClickHouseType(parseClickHouseType(typeName))).toBe(typeName)
    }
    expect(formatClickHouseType(parseClickHouseType('Decimal32(3)'))).toBe('Decimal(9, 3)')
  })

  it('reads back what it prints, for names that need escapes', () => {
    const names = enumNames.map(([, name]) => name)
    const type: ClickHouseType = {
      kind: 'tuple',
      elements: [
        {
          name: names.join(''),
          type: { kind: 'enum', bits: 16, values: names.map((name, value) => ({ name, value })) },
        },
        { name: '1st', type: { kind: 'dateTime', timezone: "O'Hare\\" } },
      ],
    }
    expect(parseClickHouseType(formatClickHouseType(type))).toEqual(type)
  })

  it.each([
    ['Array(', 'offset 6: expected a name'],
    ['Array(String', 'offset 12: expected ")"'],
    ['Array(String) x', 'unexpected text after the type'],
    ['Map(String)', 'expected ","'],
    ["Enum8('a = 1)", 'unterminated'],
    ["Enum8('a' = 128)", 'Enum8 value 128 is out of range'],
    ["Enum16('a' = -32769)", 'Enum16 value -32769 is out of range'],
    ['Decimal(77, 2)', 'Decimal precision must be 1 to 76'],
    ['Decimal(10, 11)', 'Decimal scale must be 0 to the precision'],
    ['Decimal32(10)', 'Decimal32 scale must be 0 to 9'],
    ['DateTime64(10)', 'precision must be 0 to 9'],
    ['FixedString(0)', 'FixedString needs a length of at least 1'],
    ['JSON(a UInt8', 'expected ")"'],
  ])('refuses the malformed %s', (typeName, reason) => {
    expect(() => parseClickHouseType(typeName)).toThrow(ClickHouseTypeError)
    expect(() => parseClickHouseType(typeName)).toThrow(reason)
  })
})

describe('toCapturedColumn', () => {
  it('keeps the parsed type and the exact type name', () => {
    expect(toCapturedColumn('shop.orders', 'price', 'Nullable(Decimal(10, 2))')).toEqual({
      name: 'price',
      type: { kind: 'nullable', inner: { kind: 'decimal', precision: 10, scale: 2 } },
      typeName: 'Nullable(Decimal(10, 2))',
    })
  })

  it.each([
    'JSON',
    'Array(JSON)',
    'Map(String, Variant(String, UInt64))',
    'Nullable(Dynamic)',
    'Tuple(a UInt8, b Array(Dynamic(max_types=3)))',
    'Nested(a UInt8, b JSON)',
    "Map(LowCardinality(String), Object('json'))",
  ])('turns %s, which has a JSON kind inside, into one json column', (typeName) => {
    expect(toCapturedColumn('shop.orders', 'doc', typeName)).toEqual({
      name: 'doc',
      type: { kind: 'json', typeName },
      typeName,
    })
  })

  it.each([
    ['AggregateFunction(sum, UInt64)', 'AggregateFunction states have no row value; capture the source table'],
    ['SimpleAggregateFunction(sum, UInt64)', 'capture the source table, not the aggregate'],
    ['Nothing', 'Nothing holds no values'],
    ['Nullable(Nothing)', 'Nothing holds no values'],
    ['IntervalDay', 'IntervalDay is not mapped yet; cast the column to an integer in a view'],
    ['IntervalSecond', 'IntervalSecond is not mapped yet'],
    ['Point', 'geo types are not mapped yet; cast the column in a view'],
    ['Ring', 'Ring is a geo type'],
    ['Polygon', 'Polygon is a geo type'],
    ['MultiPolygon', 'MultiPolygon is a geo type'],
    ['LineString', 'LineString is a geo type'],
    ['MultiLineString', 'MultiLineString is a geo type'],
    ['Array(Point)', 'Point is a geo type'],
    ['BFloat16', 'cast the column to Float32'],
    ['QBit(Float32, 8)', 'QBit is not mapped yet'],
    ['Tuple(a UInt8, b Frobnicate)', 'unknown type Frobnicate'],
    ['Array(String', 'cannot parse the type name at offset 12'],
  ])('refuses %s with an UnsupportedTypeError naming table, column and type', (typeName, reason) => {
    let error: unknown
    try {
      toCapturedColumn('shop.orders', 'bad', typeName)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(UnsupportedTypeError)
    const unsupported = error as UnsupportedTypeError
    expect(unsupported.code).toBe('TH_UNSUPPORTED_TYPE')
    expect(unsupported).toMatchObject({ table: 'shop.orders', column: 'bad', typeName })
    expect(unsupported.message).toContain(`shop.orders.bad: type ${typeName} cannot be captured: `)
    expect(unsupported.message).toContain(reason)
  })
})

describe('containsJson', () => {
  it.each([
    ['JSON', true],
    ['Array(Array(Dynamic))', true],
    ['Map(Variant(String, UInt8), UInt8)', true],
    ['Tuple(a UInt8, b Tuple(c JSON))', true],
    ['LowCardinality(Nullable(String))', false],
    ['Map(String, Array(Tuple(a UInt8, b Nested(c String))))', false],
  ])('%s → %s', (typeName, expected) => {
    expect(containsJson(parseClickHouseType(typeName))).toBe(expected)
  })
})

describe('wireExpression', () => {
  const column = (name: string, typeName: string): CapturedColumn => toCapturedColumn('shop.orders', name, typeName)

  it.each([
    [column('id', 'UInt64'), '`id`'],
    [column('order id', 'UInt64'), '`order id`'],
    [column('a`b', 'UInt64'), '`a\\`b`'],
    [column('a\\b', 'UInt64'), '`a\\\\b`'],
    [column('e.a', 'Array(UInt8)'), '`e.a`'],
    [column('doc', 'JSON'), "ifNull(toJSONString(`doc`), 'null')"],
    [column('my`doc\\', 'Array(JSON)'), "ifNull(toJSONString(`my\\`doc\\\\`), 'null')"],
  ])('selects %o as %s', (captured, expression) => {
    expect(wireExpression(captured)).toBe(expression)
  })
})
