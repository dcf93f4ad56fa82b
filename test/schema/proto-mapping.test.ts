import { describe, expect, it } from 'vitest'
import { numberFields } from '../../engine/schema/proto-mapping.js'
import { fieldLine, fieldLines, loadRow } from './load-proto.js'

/** The one field of a Row generated for a column `c` of `typeName`. */
function mapped(typeName: string, options?: Parameters<typeof loadRow>[1]) {
  const { proto, root, row } = loadRow({ c: typeName }, options)
  const field = row.fields.c
  if (!field) throw new Error(`no field c in\n${proto.text}`)
  return { proto, root, row, line: fieldLine(field) }
}

describe('type mapping (ARCHITECTURE.md, "Encoding")', () => {
  const table: Array<[string, string]> = [
    ['Int8', 'int32'],
    ['Int16', 'int32'],
    ['Int32', 'int32'],
    ['UInt8', 'uint32'],
    ['UInt16', 'uint32'],
    ['UInt32', 'uint32'],
    ['Int64', 'int64'],
    ['UInt64', 'uint64'],
    ['Int128', 'string'],
    ['UInt128', 'string'],
    ['Int256', 'string'],
    ['UInt256', 'string'],
    ['Decimal(10, 2)', 'string'],
    ['Decimal(76, 38)', 'string'],
    ['Float32', 'float'],
    ['Float64', 'double'],
    ['Bool', 'bool'],
    ['String', 'bytes'],
    ['FixedString(16)', 'bytes'],
    ['Date', 'google.protobuf.Timestamp'],
    ['Date32', 'google.protobuf.Timestamp'],
    ['DateTime', 'google.protobuf.Timestamp'],
    ["DateTime('Europe/Berlin')", 'google.protobuf.Timestamp'],
    ["DateTime64(3, 'UTC')", 'google.protobuf.Timestamp'],
    ['Time', 'google.protobuf.Duration'],
    ['Time64(9)', 'google.protobuf.Duration'],
    ['UUID', 'string'],
    ['IPv4', 'string'],
    ['IPv6', 'string'],
    ["Enum8('a' = 1)", 'Row.C'],
    ["Enum16('a' = 1000)", 'Row.C'],
    ['LowCardinality(String)', 'bytes'],
    ['Nullable(Int32)', 'optional int32'],
    ['Nullable(UInt64)', 'optional uint64'],
    ['LowCardinality(Nullable(String))', 'optional bytes'],
    ['Nullable(DateTime64(6))', 'optional google.protobuf.Timestamp'],
    ["Nullable(Enum8('a' = 1))", 'optional Row.C'],
    ['Nullable(Tuple(x Int8))', 'optional Row.C'],
    ['Array(String)', 'repeated bytes'],
    ['Array(LowCardinality(String))', 'repeated bytes'],
    ['Array(Date)', 'repeated google.protobuf.Timestamp'],
    ["Array(Enum8('a' = 1))", 'repeated Row.CItem'],
    ['Array(Tuple(a Int8))', 'repeated Row.CItem'],
    ['Map(String, UInt64)', 'map<string, uint64>'],
    ['Map(LowCardinality(String), Float64)', 'map<string, double>'],
    ['Map(Int8, String)', 'map<int32, bytes>'],
    ['Map(UInt16, String)', 'map<uint32, bytes>'],
    ['Map(Int64, String)', 'map<int64, bytes>'],
    ['Map(UInt64, String)', 'map<uint64, bytes>'],
    ['Map(Bool, String)', 'map<bool, bytes>'],
    ['Map(FixedString(2), String)', 'map<string, bytes>'],
    ['Map(UUID, String)', 'map<string, bytes>'],
    ['Map(IPv4, String)', 'map<string, bytes>'],
    ['Map(IPv6, String)', 'map<string, bytes>'],
    ["Map(Enum8('a' = 1), String)", 'map<string, bytes>'],
    ['Map(Date, String)', 'map<string, bytes>'],
    ['Map(Date32, String)', 'map<string, bytes>'],
    ['Map(DateTime, String)', 'map<string, bytes>'],
    ['Map(DateTime64(3), String)', 'map<string, bytes>'],
    ['Map(Time, String)', 'map<string, bytes>'],
    ['Map(Float64, String)', 'map<string, bytes>'],
    ['Map(Decimal(10, 2), String)', 'map<string, bytes>'],
    ['Map(Int128, String)', 'map<string, bytes>'],
    ['Map(String, Date)', 'map<string, google.protobuf.Timestamp>'],
    ["Map(String, Enum8('a' = 1))", 'map<string, Row.CValue>'],
    ['Tuple(a UInt8, b String)', 'Row.C'],
    ['Tuple(UInt8, String)', 'Row.C'],
    ['Nested(a UInt8, b String)', 'repeated Row.CItem'],
    ['JSON', 'string'],
    ["Object('json')", 'string'],
    ['Dynamic', 'string'],
    ['Variant(String, UInt64)', 'string'],
    ['Array(JSON)', 'string'],
    ['Map(String, Variant(String, UInt64))', 'string'],
  ]

  it.each(table)('%s → %s', (typeName, expected) => {
    expect(mapped(typeName).line).toBe(`${expected} c = 1`)
  })

  it.each([
    ['Date', 'days since 1970-01-01'],
    ['Date32', 'days since 1970-01-01'],
    ["DateTime('Asia/Tokyo')", 'seconds since the Unix epoch'],
    ['DateTime64(0)', 'seconds since the Unix epoch'],
    ['DateTime64(3)', 'ticks of 10^-3 s since the Unix epoch'],
    ['DateTime64(9)', 'ticks of 10^-9 s since the Unix epoch'],
    ['Time', 'seconds'],
    ['Time64(6)', 'ticks of 10^-6 s'],
  ])("with timestamps: 'int64', %s is int64 and its comment says %s", (typeName, unit) => {
    const { line, proto } = mapped(typeName, { timestamps: 'int64' })
    expect(line).toBe('int64 c = 1')
    expect(proto.text).toContain(`int64 c = 1; // ${typeName}; ${unit}\n`)
  })

  it("with enums: 'string', an enum is its value's name and no enum type is declared", () => {
    const { line, row, proto } = mapped("Nullable(Enum8('a' = 1, 'b' = 2))", { enums: 'string' })
    expect(line).toBe('optional string c = 1')
    expect(row.nestedArray).toEqual([])
    expect(proto.text).not.toContain('enum ')
  })

  it.each([
    ['Map(String, UInt8)', 'keys: UTF-8 text (String keys must be valid UTF-8)'],
    ['Map(Date, UInt8)', 'keys: ISO-8601 dates, YYYY-MM-DD'],
    ['Map(DateTime, UInt8)', 'keys: ISO-8601 UTC times, YYYY-MM-DDThh:mm:ssZ'],
    ['Map(DateTime64(3), UInt8)', 'keys: ISO-8601 UTC times, YYYY-MM-DDThh:mm:ss.fffZ'],
    ['Map(Time64(3), UInt8)', 'keys: seconds as decimal text with 3 fraction digits'],
    ['Map(Decimal(10, 2), UInt8)', 'keys: decimal text with exactly 2 fraction digits'],
    ['Map(Float32, UInt8)', 'keys: shortest round-trip decimal text'],
    ['Map(UInt128, UInt8)', 'keys: decimal text'],
    ["Map(Enum8('a' = 1), UInt8)", 'keys: the enum value names'],
    ['Map(UUID, UInt8)', 'keys: lowercase 8-4-4-4-12 text'],
    ['Map(IPv6, UInt8)', 'keys: the address as ClickHouse prints it'],
    ['Map(String, Decimal(5, 1))', 'values: decimal text with exactly 1 fraction digits'],
  ])('documents the text form in %s: %s', (typeName, note) => {
    const line = mapped(typeName)
      .proto.text.split('\n')
      .find((text) => text.includes(' c = 1'))
    expect(line).toContain(`c = 1; // ${typeName}; `)
    expect(line).toContain(note)
  })

  it('puts the ClickHouse type in a trailing comment on every field', () => {
    const { proto } = loadRow({
      id: 'UInt64',
      tags: 'Array(Nullable(String))',
      at: 'Tuple(x Int8, y Nullable(Decimal(9, 3)))',
    })
    const fieldLines = proto.text
      .split('\n')
      .filter((line) => / = \d+( \[.*\])?;/.test(line) && !/^\s+[A-Z_0-9]+ = /.test(line))
    expect(fieldLines).toEqual([
      '  uint64 id = 1; // UInt64',
      '  repeated TagsItem tags = 2; // Array(Nullable(String))',
      '  At at = 3; // Tuple(x Int8, y Nullable(Decimal(9, 3)))',
      '    optional bytes value = 1; // Nullable(String)',
      '    int32 x = 1; // Int8',
      '    optional string y = 2; // Nullable(Decimal(9, 3)); decimal text with exactly 3 fraction digits',
    ])
  })
})

describe('shapes proto cannot write directly', () => {
  it.each([
    ['Array(Nullable(Int32))', 'repeated Row.CItem', { CItem: ['optional int32 value = 1'] }],
    ['Array(Array(String))', 'repeated Row.CItem', { CItem: ['repeated bytes values = 1'] }],
    [
      'Array(Array(Nullable(Int8)))',
      'repeated Row.CItem',
      { CItem: ['repeated Row.CItem.ValuesItem values = 1'], 'CItem.ValuesItem': ['optional int32 value = 1'] },
    ],
    ['Array(Map(String, UInt8))', 'repeated Row.CItem', { CItem: ['map<string, uint32> entries = 1'] }],
    [
      'Array(Nested(a UInt8))',
      'repeated Row.CItem',
      { CItem: ['repeated Row.CItem.ValuesItem values = 1'], 'CItem.ValuesItem': ['uint32 a = 1'] },
    ],
    ['Map(String, Nullable(UInt8))', 'map<string, Row.CValue>', { CValue: ['optional uint32 value = 1'] }],
    ['Map(String, Array(UInt8))', 'map<string, Row.CValue>', { CValue: ['repeated uint32 values = 1'] }],
    ['Map(String, Map(String, UInt8))', 'map<string, Row.CValue>', { CValue: ['map<string, uint32> entries = 1'] }],
    ['Map(String, Tuple(a UInt8))', 'map<string, Row.CValue>', { CValue: ['uint32 a = 1'] }],
    ['Map(Array(UInt8), String)', 'repeated Row.CItem', { CItem: ['repeated uint32 key = 1', 'bytes value = 2'] }],
    [
      'Map(Tuple(a Int8, b Int8), Nullable(String))',
      'repeated Row.CItem',
      { CItem: ['Row.CItem.Key key = 1', 'optional bytes value = 2'], 'CItem.Key': ['int32 a = 1', 'int32 b = 2'] },
    ],
    [
      'Tuple(UInt8, Nullable(String), Array(Tuple(x Int8)))',
      'Row.C',
      {
        C: ['uint32 _1 = 1', 'optional bytes _2 = 2', 'repeated Row.C.Field3Item _3 = 3'],
        'C.Field3Item': ['int32 x = 1'],
      },
    ],
    ['Tuple(a Nullable(Tuple(x Int8)))', 'Row.C', { C: ['optional Row.C.A a = 1'], 'C.A': ['int32 x = 1'] }],
    ['Nested(a UInt8, b Nullable(String))', 'repeated Row.CItem', { CItem: ['uint32 a = 1', 'optional bytes b = 2'] }],
  ])('%s → %s', (typeName, expected, nested) => {
    const { line, root } = mapped(typeName)
    expect(line).toBe(`${expected} c = 1`)
    for (const [path, lines] of Object.entries(nested)) expect(fieldLines(root, `Row.${path}`)).toEqual(lines)
  })

  it('keeps wrapper and tuple names apart from other columns and from protoc map entries', () => {
    const { root, proto } = loadRow({
      tags: 'Array(Nullable(Int8))',
      tags_item: 'Tuple(a Int8)',
      foo_entry: 'Tuple(b Int8)',
      foo: 'Map(String, UInt8)',
    })
    expect(fieldLines(root, 'Row')).toEqual([
      'repeated Row.TagsItem tags = 1',
      'Row.TagsItem2 tags_item = 2',
      'Row.FooEntry2 foo_entry = 3',
      'map<string, uint32> foo = 4',
    ])
    expect(fieldLines(root, 'Row.TagsItem2')).toEqual(['int32 a = 1'])
    // protoc declares `FooEntry` for the map field `foo` itself; protobufjs does not, so check the text.
    expect(proto.text).not.toMatch(/message FooEntry \{/)
  })
})

describe('enums', () => {
  function enumOf(typeName: string, columns: Record<string, string> = {}) {
    const { root, proto } = loadRow({ ...columns, c: typeName })
    return { values: root.lookupEnum('tailhouse.shop.orders.v1.Row.C').values, proto }
  }

  it('adds <ENUM>_UNSPECIFIED = 0 first when no ClickHouse value is 0', () => {
    const { values, proto } = enumOf("Enum8('a' = 1, 'b' = 2)")
    expect(values).toEqual({ C_UNSPECIFIED: 0, C_A: 1, C_B: 2 })
    expect(proto.text).toContain("  enum C {\n    C_UNSPECIFIED = 0;\n    C_A = 1; // 'a'\n    C_B = 2; // 'b'\n  }")
  })

  it('puts the ClickHouse value 0 first instead', () => {
    const { values, proto } = enumOf("Enum8('down' = -1, 'off' = 0, 'on' = 1)")
    expect(Object.entries(values)).toEqual([
      ['C_OFF', 0],
      ['C_DOWN', -1],
      ['C_ON', 1],
    ])
    expect(proto.text).not.toContain('UNSPECIFIED')
    expect(proto.text).not.toContain('allow_alias')
  })

  it('sanitizes arbitrary names and keeps the original in a comment', () => {
    const { values, proto } = enumOf(
      String.raw`Enum16('b c' = 1, 'it\'s' = 2, 'camelCase' = 3, 'Ärger' = 4, '' = 5, '€' = 6, '123' = 7, 'new\nline' = 8, 'neg' = -3, '-' = -4)`,
    )
    expect(values).toEqual({
      C_UNSPECIFIED: 0,
      C_B_C: 1,
      C_IT_S: 2,
      C_CAMEL_CASE: 3,
      C_ARGER: 4,
      C_5: 5,
      C_6: 6,
      C_123: 7,
      C_NEW_LINE: 8,
      C_NEG: -3,
      C_MINUS_4: -4,
    })
    expect(proto.text).toContain("C_IT_S = 2; // 'it\\'s'")
    expect(proto.text).toContain("C_ARGER = 4; // 'Ärger'")
    expect(proto.text).toContain("C_5 = 5; // ''")
    expect(proto.text).toContain("C_NEW_LINE = 8; // 'new\\nline'")
  })

  it('appends the value when sanitized names collide, also with UNSPECIFIED and once underscores are ignored', () => {
    const { values } = enumOf(
      "Enum8('a b' = 1, 'a_b' = 2, 'A B' = 3, 'unspecified' = 4, 'x1' = 5, 'x_1' = 6, 'y' = -1, 'Y' = -2)",
    )
    expect(values).toEqual({
      C_UNSPECIFIED: 0,
      C_Y: -1,
      C_Y_MINUS_2: -2,
      C_A_B: 1,
      C_A_B_2: 2,
      C_A_B_3: 3,
      C_UNSPECIFIED_4: 4,
      C_X1: 5,
      C_X_1_6: 6,
    })
  })

  it('keeps value names unique across enums of one message, as protoc scopes them', () => {
    // Enum A's 'bc x' and enum ABc's 'x' both sanitize to A_BC_X, and protoc scopes both to Row.
    const { root } = loadRow({ a: "Enum8('bc x' = 1)", a_bc: "Enum8('x' = 1)" })
    expect(root.lookupEnum('tailhouse.shop.orders.v1.Row.A').values).toEqual({ A_UNSPECIFIED: 0, A_BC_X: 1 })
    expect(root.lookupEnum('tailhouse.shop.orders.v1.Row.ABc').values).toEqual({ A_BC_UNSPECIFIED: 0, A_BC_X_1: 1 })
  })

  it('encodes the ClickHouse values as the enum numbers', () => {
    const { row } = loadRow({ c: "Enum8('b c' = -2, 'a' = 1)", d: "Nullable(Enum16('x' = 300))" })
    const decoded = row.decode(row.encode(row.fromObject({ c: -2, d: 300 })).finish())
    expect(row.toObject(decoded, { enums: Number })).toEqual({ c: -2, d: 300 })
  })
})

describe('field names', () => {
  it('sanitizes column names to lower_snake, with json_name whenever the JSON name would differ', () => {
    const { row } = loadRow({
      id: 'UInt8',
      user_id: 'UInt8',
      userID: 'UInt8',
      'Order Date': 'UInt8',
      '1st': 'UInt8',
      message: 'UInt8',
      default: 'UInt8',
      constructor: 'UInt8',
      Ünïcode: 'UInt8',
      цена: 'UInt8',
      'a-b': 'UInt8',
      _foo: 'UInt8',
      foo: 'UInt8',
      a1: 'UInt8',
      a_1: 'UInt8',
      'say "hi"\\\n': 'UInt8',
    })
    const names = row.fieldsArray.map((f) => [f.name, f.options?.json_name])
    expect(names).toEqual([
      ['id', undefined],
      ['user_id', 'user_id'],
      ['user_id_2', 'userID'],
      ['order_date', 'Order Date'],
      ['_1st', '1st'],
      ['message_', 'message'],
      ['default_', 'default'],
      ['constructor_', 'constructor'],
      ['unicode', 'Ünïcode'],
      ['field', 'цена'],
      ['a_b', 'a-b'],
      ['foo_2', '_foo'],
      ['foo', undefined],
      ['a1', undefined],
      ['a_1_2', 'a_1'],
      ['say_hi', 'say "hi"\\\n'],
    ])
  })

  it("never names a field like another field's ClickHouse name, which is that field's JSON name", () => {
    const { row } = loadRow({ _b: 'UInt8', b: 'UInt8', 'b-2': 'UInt8', b_2: 'UInt8' })
    expect(row.fieldsArray.map((f) => [f.name, f.options?.json_name])).toEqual([
      ['b_3', '_b'],
      ['b', undefined],
      ['b_2_2', 'b-2'],
      ['b_2', 'b_2'],
    ])
  })

  it('makes a Row that protobufjs can instantiate even for names that are JavaScript built-ins', () => {
    const columns = Object.fromEntries(['constructor', 'prototype', '__proto__'].map((name) => [name, 'UInt8']))
    const { row } = loadRow(columns)
    const decoded = row.toObject(
      row.decode(row.encode(row.fromObject({ constructor_: 1, prototype_: 2, proto: 3 })).finish()),
    )
    expect(decoded).toEqual({ constructor_: 1, prototype_: 2, proto: 3 })
  })
})

describe('numberFields', () => {
  it('numbers the first version 1, 2, 3 in column order', () => {
    expect(numberFields(['a', 'b', 'c'], {})).toEqual({
      numbers: [1, 2, 3],
      ledger: { a: 1, b: 2, c: 3 },
      reserved: [],
    })
  })

  it('keeps numbers, retires dropped ones and gives new and re-added columns fresh numbers', () => {
    const v1 = numberFields(['a', 'b', 'c'], {})
    const v2 = numberFields(['c', 'a', 'd'], v1.ledger)
    expect(v2).toEqual({ numbers: [3, 1, 4], ledger: { a: 1, b: -2, c: 3, d: 4 }, reserved: [[2, 2]] })
    const v3 = numberFields(['a', 'b', 'c', 'd'], v2.ledger)
    expect(v3).toEqual({ numbers: [1, 5, 3, 4], ledger: { a: 1, b: 5, c: 3, d: 4 }, reserved: [[2, 2]] })
  })

  it('never reuses the number of a dropped highest column', () => {
    const v2 = numberFields(['a'], numberFields(['a', 'b'], {}).ledger)
    expect(v2.reserved).toEqual([[2, 2]])
    expect(numberFields(['a', 'c'], v2.ledger)).toMatchObject({ numbers: [1, 3], reserved: [[2, 2]] })
  })

  it('skips 19000–19999 and does not reserve them', () => {
    expect(numberFields(['a', 'b'], { a: 1, x: -18999 })).toEqual({
      numbers: [1, 20000],
      ledger: { a: 1, x: -18999, b: 20000 },
      reserved: [[2, 18999]],
    })
    expect(numberFields(['a'], { a: 1, x: -20001 }).reserved).toEqual([
      [2, 18999],
      [20000, 20001],
    ])
  })

  it('gives Rows whose kept fields decode across versions', () => {
    const v1 = loadRow({ id: 'UInt64', name: 'String', gone: 'Int8' })
    const v2 = loadRow({ id: 'UInt64', added: 'Int32', name: 'String' }, {}, v1.proto.fieldNumbers)
    expect(v2.proto.fieldNumbers).toEqual({ id: 1, name: 2, gone: -3, added: 4 })
    expect(v2.proto.text).toContain('  reserved 3;\n')
    const written = v1.row.encode(v1.row.fromObject({ id: 7, name: Buffer.from('x'), gone: 3 })).finish()
    expect(v2.row.toObject(v2.row.decode(written), { longs: String })).toEqual({ id: '7', name: Buffer.from('x') })
  })
})
