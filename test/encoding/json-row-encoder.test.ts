import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { createJsonPrinter, createJsonRowEncoder } from '../../engine/encoding/json-row-encoder.js'
import { RowEncodeError, type RowSchema } from '../../engine/encoding/row-encoder.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { generateRowProto } from '../../engine/schema/proto-writer.js'

type Options = RowSchema['options']
const defaults: Options = { timestamps: 'timestamp', enums: 'enum' }

function jsonEncoder(columns: Record<string, string>, options: Options = defaults) {
  const captured = Object.entries(columns).map(([name, typeName]) => toCapturedColumn('shop.orders', name, typeName))
  const proto = generateRowProto({ database: 'shop', table: 'orders', version: 1, columns: captured, options })
  return createJsonRowEncoder({ protoText: proto.text, columns: captured, fieldNumbers: proto.fieldNumbers, options })
}

const buf = (text: string) => Buffer.from(text)

const orders = {
  id: 'UInt64',
  note: 'Nullable(String)',
  price: 'Decimal(9, 2)',
  qty: 'Int32',
  ratio: 'Float32',
  score: 'Float64',
  paid: 'Bool',
  sku: 'FixedString(2)',
  day: 'Date',
  updated: "DateTime64(3, 'UTC')",
  latency: 'Time64(6)',
  status: "Enum8('new' = 1, 'paid' = 2)",
  tags: 'Array(String)',
  discounts: 'Array(Nullable(Decimal(9, 2)))',
  attrs: 'Map(String, UInt64)',
  address: 'Tuple(street String, `zip code` Nullable(String))',
  'order uuid': 'UUID',
  open_at: 'Time',
  big: 'Int128',
  orderDate: 'Nullable(Date32)',
}

describe('json row encoder', () => {
  it('prints the Row in the proto3 JSON mapping, keys as json_name (the ClickHouse names)', () => {
    const encoder = jsonEncoder(orders)
    expect(encoder.format).toBe('json')
    const row = {
      id: 18446744073709551615n,
      note: null,
      price: '-12.30',
      qty: -7,
      ratio: Math.fround(0.1),
      score: 2.5,
      paid: true,
      sku: buf('hé'),
      day: 10957,
      updated: -500n,
      latency: -1500000n,
      status: 'paid',
      tags: [buf('a'), buf('')],
      discounts: [null, '0.05'],
      attrs: [
        [buf('x"y'), 9007199254740993n],
        [buf('z'), 0n],
      ],
      address: { street: buf('Main'), 'zip code': null },
      'order uuid': '00112233-4455-6677-8899-aabbccddeeff',
      open_at: 45296,
      big: '-170141183460469231731687303715884105728',
      orderDate: -25567,
    }
    const expected =
      '{"id":"18446744073709551615","price":"-12.30","qty":-7,"ratio":0.1,"score":2.5,"paid":true,' +
      '"sku":"aMOp","day":"2000-01-01T00:00:00Z","updated":"1969-12-31T23:59:59.500Z","latency":"-1.500s",' +
      '"status":"STATUS_PAID","tags":["YQ==",""],"discounts":[{},{"value":"0.05"}],' +
      '"attrs":{"x\\"y":"9007199254740993","z":"0"},"address":{"street":"TWFpbg=="},' +
      '"order uuid":"00112233-4455-6677-8899-aabbccddeeff","open_at":"45296s",' +
      '"big":"-170141183460469231731687303715884105728","orderDate":"1900-01-01T00:00:00Z"}'
    expect(encoder.text(row)).toBe(expected)
    expect(Buffer.from(encoder.encode(row)).toString('utf8')).toBe(expected)
  })

  it('prints zero values of fields without presence, and present zeros of optional fields', () => {
    const encoder = jsonEncoder(orders)
    const row = {
      id: 0n,
      note: buf(''),
      price: '0.00',
      qty: 0,
      ratio: 0,
      score: -0,
      paid: false,
      sku: Buffer.alloc(2),
      day: 0,
      updated: 0n,
      latency: 0n,
      status: 'new',
      tags: [],
      discounts: [],
      attrs: [],
      address: { street: buf(''), 'zip code': buf('') },
      'order uuid': '00000000-0000-0000-0000-000000000000',
      open_at: 0,
      big: '0',
      orderDate: 0,
    }
    expect(encoder.text(row)).toBe(
      '{"id":"0","note":"","price":"0.00","qty":0,"ratio":0,"score":-0,"paid":false,"sku":"AAA=",' +
        '"day":"1970-01-01T00:00:00Z","updated":"1970-01-01T00:00:00Z","latency":"0s","status":"STATUS_NEW",' +
        '"tags":[],"discounts":[],"attrs":{},"address":{"street":"","zip code":""},' +
        '"order uuid":"00000000-0000-0000-0000-000000000000","open_at":"0s","big":"0",' +
        '"orderDate":"1970-01-01T00:00:00Z"}',
    )
  })

  it('prints 0, 3, 6 or 9 fraction digits for Timestamps and Durations', () => {
    const encoder = jsonEncoder({ ts: 'DateTime64(9)', d: 'Time64(9)' })
    const cases: Array<[bigint, string, string]> = [
      [1_500_000_000n, '1970-01-01T00:00:01.500Z', '1.500s'],
      [1n, '1970-01-01T00:00:00.000000001Z', '0.000000001s'],
      [-1_000n, '1969-12-31T23:59:59.999999Z', '-0.000001s'],
      [1700000000123456789n, '2023-11-14T22:13:20.123456789Z', '1700000000.123456789s'],
      [-9223372036854775808n, '1677-09-21T00:12:43.145224192Z', '-9223372036.854775808s'],
    ]
    for (const [ticks, ts, d] of cases) {
      expect(encoder.text({ ts: ticks, d: ticks })).toBe(`{"ts":"${ts}","d":"${d}"}`)
    }
  })

  it('prints floats as their shortest text, Float32 as a float, non-finite ones as strings', () => {
    const encoder = jsonEncoder({ f: 'Float32', d: 'Float64', fs: 'Array(Float32)' })
    expect(
      encoder.text({
        f: Math.fround(3.4028234663852886e38),
        d: 1e-320,
        fs: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Math.fround(1e-45), Math.fround(16777217)],
      }),
    ).toBe('{"f":3.4028235e+38,"d":1e-320,"fs":["NaN","Infinity","-Infinity",1e-45,16777216]}')
    expect(encoder.text({ f: Number.NaN, d: Number.NEGATIVE_INFINITY, fs: [] })).toBe(
      '{"f":"NaN","d":"-Infinity","fs":[]}',
    )
  })

  it('prints integer and bool map keys as strings, nested wrappers and tuples as objects', () => {
    const encoder = jsonEncoder({
      byInt: 'Map(Int64, Array(Nullable(UInt8)))',
      byBool: 'Map(Bool, Map(String, Int8))',
      tu: 'Tuple(UInt8, Tuple(a Int64, `b-c` String))',
      lines: "Nested(sku String, unit Enum8('piece' = 0, 'kg' = 1))",
      items: 'Map(Array(UInt8), Nullable(String))',
    })
    expect(
      encoder.text({
        byInt: [
          [-5n, [1, null]],
          [7n, []],
        ],
        byBool: [[true, [[buf('k'), -1]]]],
        tu: { _1: 0, _2: { a: -9007199254740993n, 'b-c': buf('\n') } },
        lines: [
          { sku: buf('A'), unit: 'piece' },
          { sku: buf('B'), unit: 'kg' },
        ],
        items: [
          [[1], null],
          [[], buf('v')],
        ],
      }),
    ).toBe(
      '{"byInt":{"7":{"values":[]},"-5":{"values":[{"value":1},{}]}},"byBool":{"true":{"entries":{"k":-1}}},' +
        '"tu":{"_1":0,"_2":{"a":"-9007199254740993","b-c":"Cg=="}},' +
        '"lines":[{"sku":"QQ==","unit":"UNIT_PIECE"},{"sku":"Qg==","unit":"UNIT_KG"}],' +
        '"items":[{"key":[1]},{"key":[],"value":"dg=="}]}',
    )
  })

  it('prints the ClickHouse integers as strings in int64 mode and enum names in string mode', () => {
    const encoder = jsonEncoder(
      { day: 'Date', at: 'DateTime64(3)', t: 'Time', e: "Enum8('neg' = -1, 'two' = 2)" },
      { timestamps: 'int64', enums: 'string' },
    )
    expect(encoder.text({ day: 10957, at: -1n, t: -3601, e: 'neg' })).toBe(
      '{"day":"10957","at":"-1","t":"-3601","e":"neg"}',
    )
  })

  it('names the column when a value has no JSON form', () => {
    const encoder = jsonEncoder({ id: 'UInt8', at: 'DateTime64(0)' })
    const print = () => encoder.text({ id: 1, at: 253402300800n }) // 10000-01-01
    expect(print).toThrow(RowEncodeError)
    expect(print).toThrow(
      'cannot encode column "at": Timestamp seconds 253402300800 is outside 0001-01-01 to 9999-12-31',
    )
  })
})

describe('json printer', () => {
  it('prints the default of fields the message leaves out, unless they have presence', () => {
    const root = protobuf.parse(
      `syntax = "proto3"; package p;
       message M {
         int32 a = 1; int64 b = 2; string c = 3; bytes d = 4; bool e = 5; double f = 6; E g = 7;
         repeated int32 h = 8; map<string, int32> i = 9; optional int32 j = 10; N k = 11; uint64 l = 12 [json_name = "L!"];
         enum E { E_ZERO = 0; E_ONE = 1; }
         message N { int32 x = 1; }
       }`,
      { keepCase: true },
    ).root
    root.resolveAll()
    const print = createJsonPrinter(root.lookupType('p.M'))
    expect(print({})).toBe('{"a":0,"b":"0","c":"","d":"","e":false,"f":0,"g":"E_ZERO","h":[],"i":{},"L!":"0"}')
    expect(print({ g: 5, j: 0, k: {}, l: { low: -1, high: -1 }, b: { low: 0, high: -2147483648 } })).toBe(
      '{"a":0,"b":"-9223372036854775808","c":"","d":"","e":false,"f":0,"g":5,"h":[],"i":{},"j":0,"k":{"x":0},"L!":"18446744073709551615"}',
    )
  })
})
