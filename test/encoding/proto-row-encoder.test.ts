import type protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { createProtoRowEncoder } from '../../engine/encoding/proto-row-encoder.js'
import { RowEncodeError, type RowSchema } from '../../engine/encoding/row-encoder.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { generateRowProto } from '../../engine/schema/proto-writer.js'
import { loadProto } from '../schema/load-proto.js'

type Options = RowSchema['options']
const defaults: Options = { timestamps: 'timestamp', enums: 'enum' }

/**
 * Generates shop.orders v1 for `name → ClickHouse type`, compiles the encoder, and loads the Row type separately
 * from the same text (as a consumer would), so every check is encode → decode by an independent protobufjs root.
 */
function setup(columns: Record<string, string>, options: Options = defaults, previous?: Record<string, number>) {
  const captured = Object.entries(columns).map(([name, typeName]) => toCapturedColumn('shop.orders', name, typeName))
  const proto = generateRowProto({
    database: 'shop',
    table: 'orders',
    version: 1,
    columns: captured,
    options,
    previousFieldNumbers: previous,
  })
  const schema: RowSchema = { protoText: proto.text, columns: captured, fieldNumbers: proto.fieldNumbers, options }
  const encoder = createProtoRowEncoder(schema)
  const Row = loadProto(proto.text).root.lookupType(`${proto.packageName}.Row`)
  const decode = (row: Record<string, unknown>): Record<string, unknown> =>
    Row.toObject(Row.decode(encoder.encode(row)), { longs: String, arrays: true, objects: true })
  return { encoder, Row, decode, proto, schema }
}

/** A decoded google.protobuf.Timestamp or Duration (toObject leaves out zero parts). */
const wkt = (seconds: number | string | bigint, nanos = 0) => ({
  ...(String(seconds) === '0' ? {} : { seconds: String(seconds) }),
  ...(nanos === 0 ? {} : { nanos }),
})

const buf = (text: string) => Buffer.from(text)

describe('proto row encoder: scalars', () => {
  it('encodes every scalar kind as the mapped proto type', () => {
    const { decode } = setup({
      i8: 'Int8',
      i16: 'Int16',
      i32: 'Int32',
      u8: 'UInt8',
      u16: 'UInt16',
      u32: 'UInt32',
      i64: 'Int64',
      u64: 'UInt64',
      i128: 'Int128',
      u256: 'UInt256',
      f32: 'Float32',
      f64: 'Float64',
      d: 'Decimal(18, 4)',
      b: 'Bool',
      s: 'String',
      fs: 'FixedString(3)',
      uuid: 'UUID',
      ip4: 'IPv4',
      ip6: 'IPv6',
      j: 'JSON',
      lc: 'LowCardinality(String)',
    })
    expect(
      decode({
        i8: -128,
        i16: -32768,
        i32: -2147483648,
        u8: 255,
        u16: 65535,
        u32: 4294967295,
        i64: -42n,
        u64: 42n,
        i128: '-170141183460469231731687303715884105728',
        u256: '115792089237316195423570985008687907853269984665640564039457584007913129639935',
        f32: Math.fround(-0.1),
        f64: 1e308,
        d: '-12.3400',
        b: true,
        s: buf('héllo'),
        fs: Buffer.from([0x61, 0, 0]),
        uuid: '00112233-4455-6677-8899-aabbccddeeff',
        ip4: '1.2.3.4',
        ip6: '::ffff:1.2.3.4',
        j: '{"a":1}',
        lc: buf('x'),
      }),
    ).toEqual({
      i8: -128,
      i16: -32768,
      i32: -2147483648,
      u8: 255,
      u16: 65535,
      u32: 4294967295,
      i64: '-42',
      u64: '42',
      i128: '-170141183460469231731687303715884105728',
      u256: '115792089237316195423570985008687907853269984665640564039457584007913129639935',
      f32: Math.fround(-0.1),
      f64: 1e308,
      d: '-12.3400',
      b: true,
      s: buf('héllo'),
      fs: Buffer.from([0x61, 0, 0]),
      uuid: '00112233-4455-6677-8899-aabbccddeeff',
      ip4: '1.2.3.4',
      ip6: '::ffff:1.2.3.4',
      j: '{"a":1}',
      lc: buf('x'),
    })
  })

  it('keeps 64-bit integers exact at the limits and around 2^53', () => {
    const { decode } = setup({ i: 'Int64', u: 'UInt64', a: 'Array(Int64)' })
    const cases: Array<[bigint, bigint]> = [
      [-9223372036854775808n, 18446744073709551615n],
      [9223372036854775807n, 9223372036854775808n],
      [9007199254740991n, 9007199254740992n],
      [-9007199254740993n, 9007199254740993n],
      [-1n, 4294967296n],
    ]
    for (const [i, u] of cases) {
      expect(decode({ i, u, a: [i, -i - 1n, 0n] })).toEqual({
        i: String(i),
        u: String(u),
        a: [`${i}`, `${-i - 1n}`, '0'],
      })
    }
  })

  it('leaves zero values of non-optional fields off the wire, as proto3 does', () => {
    const { encoder } = setup({
      n: 'Int32',
      s: 'String',
      u: 'UInt64',
      b: 'Bool',
      f: 'Float64',
      e: "Enum8('a' = 0, 'b' = 1)",
    })
    expect(encoder.encode({ n: 0, s: buf(''), u: 0n, b: false, f: 0, e: 'a' })).toHaveLength(0)
  })
})

describe('proto row encoder: Nullable', () => {
  it('leaves a NULL out and writes a present zero', () => {
    const { encoder, decode, Row } = setup({ n: 'Nullable(Int32)', s: 'Nullable(String)', d: 'Nullable(Date)' })
    expect(Buffer.from(encoder.encode({ n: null, s: null, d: null }))).toHaveLength(0)
    const zero = Row.decode(encoder.encode({ n: 0, s: buf(''), d: 0 }))
    expect(Object.hasOwn(zero, 'n') && Object.hasOwn(zero, 's') && Object.hasOwn(zero, 'd')).toBe(true)
    expect(decode({ n: 0, s: buf(''), d: 0 })).toEqual({ n: 0, s: buf(''), d: {} })
    // Field 1 varint 0, field 2 empty bytes, field 3 an empty Timestamp: each present.
    expect(Buffer.from(encoder.encode({ n: 0, s: buf(''), d: 0 })).toString('hex')).toBe('0800' + '1200' + '1a00')
    expect(decode({ n: null, s: null, d: null })).toEqual({})
    expect(decode({ n: -7, s: buf('x'), d: null })).toEqual({ n: -7, s: buf('x') })
  })

  it('treats LowCardinality(Nullable(T)) as Nullable(T)', () => {
    const { decode } = setup({ lcn: 'LowCardinality(Nullable(String))' })
    expect(decode({ lcn: null })).toEqual({})
    expect(decode({ lcn: buf('') })).toEqual({ lcn: buf('') })
  })
})

describe('proto row encoder: dates and times', () => {
  it('makes Timestamps of Date, Date32, DateTime and DateTime64, exact and normalized', () => {
    const { decode } = setup({
      dt: 'Date',
      dt32: 'Date32',
      dtm: "DateTime('UTC')",
      ms: "DateTime64(3, 'UTC')",
      us: 'DateTime64(6)',
      ns: 'DateTime64(9)',
      s0: 'DateTime64(0)',
    })
    expect(
      decode({
        dt: 65535,
        dt32: -25567,
        dtm: 4294967295,
        ms: -1n,
        us: -2208988799999999n,
        ns: 1700000000123456789n,
        s0: -5n,
      }),
    ).toEqual({
      dt: wkt(65535 * 86400),
      dt32: wkt(-25567 * 86400), // 1900-01-01
      dtm: wkt(4294967295),
      ms: wkt(-1, 999_000_000), // 1969-12-31T23:59:59.999
      us: wkt(-2208988800, 1000), // 1900-01-01T00:00:00.000001
      ns: wkt(1700000000, 123456789),
      s0: wkt(-5),
    })
  })

  it('keeps DateTime64(9) nanoseconds exact where a double could not', () => {
    const { decode } = setup({ ns: 'DateTime64(9)' })
    // 2262-04-11T23:47:16.854775807Z, the largest Int64 tick count.
    expect(decode({ ns: 9223372036854775807n })).toEqual({ ns: wkt(9223372036, 854775807) })
    expect(decode({ ns: -9223372036854775808n })).toEqual({ ns: wkt(-9223372037, 145224192) })
    expect(decode({ ns: -1n })).toEqual({ ns: wkt(-1, 999_999_999) })
    expect(decode({ ns: 1n })).toEqual({ ns: wkt(0, 1) })
    expect(decode({ ns: -1_000_000_000n })).toEqual({ ns: wkt(-1) })
  })

  it('makes Durations of Time and Time64 with nanos of the sign of the seconds', () => {
    const { decode } = setup({ t: 'Time', ms: 'Time64(3)', us: 'Time64(6)', ns: 'Time64(9)' })
    expect(decode({ t: -3601, ms: -1500n, us: -500n, ns: 45296789000001n })).toEqual({
      t: wkt(-3601),
      ms: wkt(-1, -500_000_000),
      us: wkt(0, -500_000),
      ns: wkt(45296, 789000001),
    })
    expect(decode({ t: 3599999, ms: -3000n, us: 1n, ns: -9223372036854775807n })).toEqual({
      t: wkt(3599999),
      ms: wkt(-3),
      us: wkt(0, 1000),
      ns: wkt(-9223372036, -854775807),
    })
  })

  it('writes the ClickHouse integers in int64 mode', () => {
    const options: Options = { timestamps: 'int64', enums: 'enum' }
    const { decode } = setup(
      {
        dt: 'Date',
        dt32: 'Date32',
        dtm: 'DateTime',
        ns: 'DateTime64(9)',
        t: 'Time',
        t64: 'Time64(3)',
        n: 'Nullable(Date)',
      },
      options,
    )
    expect(decode({ dt: 10957, dt32: -25567, dtm: 946684800, ns: -1n, t: -3601, t64: -1500n, n: 0 })).toEqual({
      dt: '10957',
      dt32: '-25567',
      dtm: '946684800',
      ns: '-1',
      t: '-3601',
      t64: '-1500',
      n: '0',
    })
  })
})

describe('proto row encoder: enums', () => {
  const columns = {
    e8: "Enum8('neg' = -1, 'two' = 2)",
    e16: "Enum16('m' = -1000, 'k' = 1000)",
    z: "Enum8('zero' = 0, 'one' = 1)",
  }

  it('writes the ClickHouse value as the enum number', () => {
    const { decode, Row } = setup(columns)
    expect(decode({ e8: 'neg', e16: 'k', z: 'one' })).toEqual({ e8: -1, e16: 1000, z: 1 })
    const named = Row.toObject(Row.decode(setup(columns).encoder.encode({ e8: 'two', e16: 'm', z: 'zero' })), {
      enums: String,
    })
    expect(named).toEqual({ e8: 'E8_TWO', e16: 'E16_M' })
  })

  it('writes the name in string mode', () => {
    const { decode } = setup(columns, { timestamps: 'timestamp', enums: 'string' })
    expect(decode({ e8: 'neg', e16: 'k', z: 'zero' })).toEqual({ e8: 'neg', e16: 'k', z: 'zero' })
  })

  it('refuses a name the enum does not have, naming the column', () => {
    const { encoder } = setup(columns)
    const encode = () => encoder.encode({ e8: 'three', e16: 'k', z: 'one' })
    expect(encode).toThrow(RowEncodeError)
    expect(encode).toThrow('cannot encode column "e8": "three" is no value of E8')
  })
})

describe('proto row encoder: collections and wrappers', () => {
  it('wraps nullable items in { value }, nested arrays in { values }, nested maps in { entries }', () => {
    const { decode } = setup({
      arr: 'Array(Nullable(Int32))',
      matrix: 'Array(Array(Int16))',
      maps: 'Array(Map(String, UInt8))',
      plain: 'Array(String)',
    })
    expect(
      decode({
        arr: [1, null, 0],
        matrix: [[1, 2], [], [-3]],
        maps: [[[buf('a'), 1]], []],
        plain: [buf('x'), buf('')],
      }),
    ).toEqual({
      arr: [{ value: 1 }, {}, { value: 0 }],
      matrix: [{ values: [1, 2] }, { values: [] }, { values: [-3] }],
      maps: [{ entries: { a: 1 } }, { entries: {} }],
      plain: [buf('x'), buf('')],
    })
  })

  it('wraps map values that proto cannot label', () => {
    const { decode } = setup({
      counters: 'Map(String, Array(UInt32))',
      daily: 'Map(Date, Nullable(Float64))',
      deep: 'Map(String, Map(String, UInt8))',
    })
    expect(
      decode({
        counters: [
          [buf('a'), [1, 2]],
          [buf('b'), []],
        ],
        daily: [
          [10957, null],
          [0, 0],
        ],
        deep: [[buf('x'), [[buf('y'), 7]]]],
      }),
    ).toEqual({
      counters: { a: { values: [1, 2] }, b: { values: [] } },
      daily: { '2000-01-01': {}, '1970-01-01': { value: 0 } },
      deep: { x: { entries: { y: 7 } } },
    })
  })

  it('encodes tuples as nested messages and Nested as repeated messages', () => {
    const { decode } = setup({
      tu: 'Tuple(UInt8, String)',
      address: 'Tuple(street String, `zip code` Nullable(String), geo Tuple(Float64, Float64))',
      lines: "Nested(sku String, qty UInt32, unit Enum8('piece' = 0, 'kg' = 1))",
    })
    expect(
      decode({
        tu: { _1: 1, _2: buf('x') },
        address: { street: buf('Main'), 'zip code': null, geo: { _1: 1.5, _2: -2 } },
        lines: [
          { sku: buf('A1'), qty: 3, unit: 'kg' },
          { sku: buf('B2'), qty: 0, unit: 'piece' },
        ],
      }),
    ).toEqual({
      tu: { _1: 1, _2: buf('x') },
      address: { street: buf('Main'), geo: { _1: 1.5, _2: -2 } },
      lines: [{ sku: buf('A1'), qty: 3, unit: 1 }, { sku: buf('B2') }],
    })
    expect(
      decode({
        tu: { _1: 0, _2: buf('') },
        address: { street: buf(''), 'zip code': buf(''), geo: { _1: 0, _2: 0 } },
        lines: [],
      }),
    ).toEqual({
      tu: {},
      address: { zip_code: buf(''), geo: {} },
      lines: [],
    })
  })
})

describe('proto row encoder: map keys', () => {
  it('writes integer and bool keys as themselves', () => {
    const { decode } = setup({
      i8: 'Map(Int8, UInt8)',
      u64: 'Map(UInt64, UInt8)',
      i64: 'Map(Int64, UInt8)',
      b: 'Map(Bool, UInt8)',
    })
    expect(
      decode({
        i8: [
          [-5, 1],
          [7, 2],
        ],
        u64: [
          [18446744073709551615n, 1],
          [0n, 2],
        ],
        i64: [
          [-9223372036854775808n, 1],
          [9223372036854775807n, 2],
        ],
        b: [
          [true, 1],
          [false, 2],
        ],
      }),
    ).toEqual({
      i8: { '-5': 1, '7': 2 },
      u64: { '18446744073709551615': 1, '0': 2 },
      i64: { '-9223372036854775808': 1, '9223372036854775807': 2 },
      b: { true: 1, false: 2 },
    })
  })

  it('writes other keys in the text forms the .proto comments name', () => {
    const { decode, proto } = setup({
      s: 'Map(String, UInt8)',
      fs: 'Map(FixedString(2), UInt8)',
      d: 'Map(Date, UInt8)',
      d32: 'Map(Date32, UInt8)',
      dtm: 'Map(DateTime, UInt8)',
      ms: "Map(DateTime64(3, 'UTC'), UInt8)",
      s0: 'Map(DateTime64(0), UInt8)',
      t: 'Map(Time, UInt8)',
      t64: 'Map(Time64(3), UInt8)',
      dec: 'Map(Decimal(9, 2), UInt8)',
      f32: 'Map(Float32, UInt8)',
      f64: 'Map(Float64, UInt8)',
      e: "Map(Enum8('a' = 1, 'b' = -2), UInt8)",
      u: 'Map(UUID, UInt8)',
      ip: 'Map(IPv6, UInt8)',
      wide: 'Map(Int128, UInt8)',
      lc: 'Map(LowCardinality(String), UInt8)',
    })
    expect(proto.text).toContain(
      "map<string, uint32> ms = 6; // Map(DateTime64(3, 'UTC'), UInt8); keys: ISO-8601 UTC times, YYYY-MM-DDThh:mm:ss.fffZ",
    )
    expect(
      decode({
        s: [[buf('__proto__'), 1]],
        fs: [[Buffer.from([0x61, 0]), 1]],
        d: [[10957, 1]],
        d32: [[-1, 1]],
        dtm: [[946684800, 1]],
        ms: [
          [-500n, 1],
          [946684800123n, 2],
        ],
        s0: [[-1n, 1]],
        t: [[-3601, 1]],
        t64: [
          [-1500n, 1],
          [5n, 2],
        ],
        dec: [['-0.05', 1]],
        f32: [
          [Math.fround(0.1), 1],
          [Number.NaN, 2],
          [Number.NEGATIVE_INFINITY, 3],
        ],
        f64: [
          [0.1, 1],
          [-0, 2],
          [1e21, 3],
        ],
        e: [
          ['b', 1],
          ['a', 2],
        ],
        u: [['00112233-4455-6677-8899-aabbccddeeff', 1]],
        ip: [['2001:db8::1', 1]],
        wide: [['-170141183460469231731687303715884105728', 1]],
        lc: [[buf('x'), 1]],
      }),
    ).toEqual({
      s: { ['__proto__']: 1 },
      fs: { 'a\u0000': 1 },
      d: { '2000-01-01': 1 },
      d32: { '1969-12-31': 1 },
      dtm: { '2000-01-01T00:00:00Z': 1 },
      ms: { '1969-12-31T23:59:59.500Z': 1, '2000-01-01T00:00:00.123Z': 2 },
      s0: { '1969-12-31T23:59:59Z': 1 },
      t: { '-3601': 1 },
      t64: { '-1.500': 1, '0.005': 2 },
      dec: { '-0.05': 1 },
      f32: { '0.1': 1, nan: 2, '-inf': 3 },
      f64: { '0.1': 1, '-0': 2, '1e+21': 3 },
      e: { b: 1, a: 2 },
      u: { '00112233-4455-6677-8899-aabbccddeeff': 1 },
      ip: { '2001:db8::1': 1 },
      wide: { '-170141183460469231731687303715884105728': 1 },
      lc: { x: 1 },
    })
  })

  it('keeps the last value of a repeated key, as a proto map does', () => {
    const { decode } = setup({ m: 'Map(String, UInt8)' })
    expect(
      decode({
        m: [
          [buf('a'), 1],
          [buf('b'), 2],
          [buf('a'), 3],
        ],
      }),
    ).toEqual({ m: { a: 3, b: 2 } })
  })

  it('writes maps with keys proto cannot hold as repeated { key, value } in entry order', () => {
    const { decode } = setup({
      by_array: 'Map(Array(UInt8), String)',
      by_nullable: 'Map(Nullable(String), Nullable(UInt8))',
      by_tuple: 'Map(Tuple(a UInt8, b String), Array(UInt8))',
    })
    expect(
      decode({
        by_array: [
          [[2, 1], buf('x')],
          [[], buf('y')],
          [[2, 1], buf('z')],
        ],
        by_nullable: [
          [null, 1],
          [buf(''), null],
        ],
        by_tuple: [[{ a: 1, b: buf('k') }, [3]]],
      }),
    ).toEqual({
      by_array: [
        { key: [2, 1], value: buf('x') },
        { key: [], value: buf('y') },
        { key: [2, 1], value: buf('z') },
      ],
      by_nullable: [{ value: 1 }, { key: buf('') }],
      by_tuple: [{ key: { a: 1, b: buf('k') }, value: [3] }],
    })
  })
})

describe('proto row encoder: schema binding', () => {
  it('finds fields by number, not by position or name', () => {
    // v1 had a, b, c; v2 dropped b and added d: numbers 1, 3, 4 with 2 reserved.
    const { decode, proto } = setup({ c: 'String', 'order uuid': 'UUID', type: 'UInt8' }, defaults, {
      a: 5,
      b: 2,
      c: 3,
    })
    expect(proto.fieldNumbers).toEqual({ a: -5, b: -2, c: 3, 'order uuid': 6, type: 7 })
    expect(decode({ c: buf('x'), 'order uuid': '00000000-0000-0000-0000-000000000001', type: 9 })).toEqual({
      c: buf('x'),
      order_uuid: '00000000-0000-0000-0000-000000000001',
      type_: 9,
    })
  })

  it('refuses a .proto generated with other options, naming the column', () => {
    const { schema } = setup({ id: 'UInt64', at: 'DateTime' }, { timestamps: 'int64', enums: 'enum' })
    expect(() => createProtoRowEncoder({ ...schema, options: defaults })).toThrow(
      'column "at": expected .google.protobuf.Timestamp, the .proto declares int64 at',
    )
    const enums = setup({ e: "Enum8('a' = 1)" }).schema
    expect(() => createProtoRowEncoder({ ...enums, options: { timestamps: 'timestamp', enums: 'string' } })).toThrow(
      'column "e": expected string, the .proto declares tailhouse.shop.orders.v1.Row.E e',
    )
  })

  it('refuses columns without a field and fields without a column', () => {
    const { schema } = setup({ id: 'UInt64', name: 'String' })
    expect(() => createProtoRowEncoder({ ...schema, fieldNumbers: { id: 1 } })).toThrow(
      'column "name" has no field number',
    )
    expect(() => createProtoRowEncoder({ ...schema, columns: schema.columns.slice(0, 1) })).toThrow(
      'no column maps to Row field name = 2',
    )
    const other = toCapturedColumn('shop.orders', 'name', 'Array(String)')
    expect(() =>
      createProtoRowEncoder({ ...schema, columns: [schema.columns[0], other] as RowSchema['columns'] }),
    ).toThrow('column "name": a array value cannot be the field bytes name')
  })

  it('exposes the Row type and the plain message it encodes', () => {
    const { encoder } = setup({ id: 'UInt64', note: 'Nullable(String)' })
    const type: protobuf.Type = encoder.type
    expect(type.name).toBe('Row')
    expect(encoder.format).toBe('protobuf')
    expect(encoder.toMessage({ id: 2n ** 64n - 1n, note: null })).toEqual({ id: { low: -1, high: -1 } })
  })
})
