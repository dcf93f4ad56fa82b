import { describe, expect, it } from 'vitest'
import { createRowDecoder, RowDecodeError } from '../../engine/encoding/rowbinary-decoder.js'
import type { ClickHouseType } from '../../engine/schema/clickhouse-type.js'

// Hand-built RowBinary: parts are hex strings (spaces allowed), byte arrays or Buffers, concatenated.
function bytes(...parts: Array<string | number[] | Uint8Array>): Uint8Array {
  return new Uint8Array(
    Buffer.concat(
      parts.map((part) =>
        typeof part === 'string' ? Buffer.from(part.replace(/\s+/g, ''), 'hex') : Buffer.from(part),
      ),
    ),
  )
}

/** Little-endian two's complement of `value` in `size` bytes. */
function le(value: bigint, size: number): Buffer {
  const out = Buffer.alloc(size)
  let v = BigInt.asUintN(size * 8, value)
  for (let i = 0; i < size; i++) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

/** A LEB128 varint. */
function varint(value: number): Buffer {
  const out: number[] = []
  let v = value
  do {
    const byte = v % 128
    v = Math.floor(v / 128)
    out.push(v > 0 ? byte | 0x80 : byte)
  } while (v > 0)
  return Buffer.from(out)
}

function str(text: string): Buffer {
  const body = Buffer.from(text)
  return Buffer.concat([varint(body.length), body])
}

/** Decodes `payload` as a single column `c` of `type`. */
function one(type: ClickHouseType, payload: Uint8Array): unknown {
  return createRowDecoder([{ name: 'c', type }])(payload).c
}

function decodeError(columns: Array<{ name: string; type: ClickHouseType }>, payload: Uint8Array): RowDecodeError {
  try {
    createRowDecoder(columns)(payload)
  } catch (error) {
    expect(error).toBeInstanceOf(RowDecodeError)
    return error as RowDecodeError
  }
  throw new Error('decoded without an error')
}

const int = (signed: boolean, bits: 8 | 16 | 32 | 64 | 128 | 256): ClickHouseType => ({ kind: 'int', signed, bits })
const decimal = (precision: number, scale: number): ClickHouseType => ({ kind: 'decimal', precision, scale })
const string: ClickHouseType = { kind: 'string' }
const nullable = (inner: ClickHouseType): ClickHouseType => ({ kind: 'nullable', inner })
const array = (element: ClickHouseType): ClickHouseType => ({ kind: 'array', element })

describe('createRowDecoder: integers', () => {
  const cases: Array<[string, ClickHouseType, bigint, unknown]> = [
    ['Int8 min', int(true, 8), -128n, -128],
    ['Int8 max', int(true, 8), 127n, 127],
    ['Int8 -1', int(true, 8), -1n, -1],
    ['UInt8 max', int(false, 8), 255n, 255],
    ['Int16 min', int(true, 16), -32768n, -32768],
    ['Int16 max', int(true, 16), 32767n, 32767],
    ['UInt16 max', int(false, 16), 65535n, 65535],
    ['Int32 min', int(true, 32), -(2n ** 31n), -(2 ** 31)],
    ['Int32 max', int(true, 32), 2n ** 31n - 1n, 2 ** 31 - 1],
    ['UInt32 max', int(false, 32), 2n ** 32n - 1n, 2 ** 32 - 1],
    ['Int64 min', int(true, 64), -(2n ** 63n), -(2n ** 63n)],
    ['Int64 max', int(true, 64), 2n ** 63n - 1n, 2n ** 63n - 1n],
    ['UInt64 max', int(false, 64), 2n ** 64n - 1n, 2n ** 64n - 1n],
    ['Int128 min', int(true, 128), -(2n ** 127n), '-170141183460469231731687303715884105728'],
    ['Int128 max', int(true, 128), 2n ** 127n - 1n, '170141183460469231731687303715884105727'],
    ['Int128 -1', int(true, 128), -1n, '-1'],
    ['Int128 2^64', int(true, 128), 2n ** 64n, '18446744073709551616'],
    ['UInt128 max', int(false, 128), 2n ** 128n - 1n, '340282366920938463463374607431768211455'],
    ['Int256 min', int(true, 256), -(2n ** 255n), (-(2n ** 255n)).toString()],
    ['Int256 max', int(true, 256), 2n ** 255n - 1n, (2n ** 255n - 1n).toString()],
    ['Int256 -2^64', int(true, 256), -(2n ** 64n), '-18446744073709551616'],
    ['UInt256 max', int(false, 256), 2n ** 256n - 1n, (2n ** 256n - 1n).toString()],
    ['UInt256 0', int(false, 256), 0n, '0'],
  ]
  it.each(cases)('%s', (_, type, value, expected) => {
    const size = (type as { bits: number }).bits / 8
    expect(one(type, bytes(le(value, size)))).toEqual(expected)
  })

  it('reads Int128 -2 as ClickHouse writes it', () => {
    expect(one(int(true, 128), bytes('FEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF'))).toBe('-2')
  })
})

describe('createRowDecoder: floats, decimals, bool', () => {
  it('reads Float32 through getFloat32 and Float64 exactly', () => {
    const f32 = Buffer.alloc(4)
    f32.writeFloatLE(0.1)
    expect(one({ kind: 'float', bits: 32 }, bytes(f32))).toBe(Math.fround(0.1))
    const f64 = Buffer.alloc(8)
    f64.writeDoubleLE(-1e308)
    expect(one({ kind: 'float', bits: 64 }, bytes(f64))).toBe(-1e308)
    expect(one({ kind: 'float', bits: 64 }, bytes('000000000000F87F'))).toBeNaN()
    expect(one({ kind: 'float', bits: 32 }, bytes('0000807F'))).toBe(Number.POSITIVE_INFINITY)
    expect(Object.is(one({ kind: 'float', bits: 64 }, bytes('0000000000000080')), -0)).toBe(true)
  })

  const cases: Array<[string, ClickHouseType, Buffer, string]> = [
    ['Decimal32(4) -12.34 (bytes from ClickHouse)', decimal(9, 4), Buffer.from('F81DFEFF', 'hex'), '-12.3400'],
    ['Decimal(9,2) 0.05', decimal(9, 2), le(5n, 4), '0.05'],
    ['Decimal(9,2) -0.05', decimal(9, 2), le(-5n, 4), '-0.05'],
    ['Decimal(9,0) 7', decimal(9, 0), le(7n, 4), '7'],
    ['Decimal(9,9) min', decimal(9, 9), le(-999999999n, 4), '-0.999999999'],
    ['Decimal(9,3) 0', decimal(9, 3), le(0n, 4), '0.000'],
    ['Decimal64(6) -0.000001', decimal(18, 6), le(-1n, 8), '-0.000001'],
    ['Decimal(18,2) max', decimal(18, 2), le(999999999999999999n, 8), '9999999999999999.99'],
    ['Decimal128(10) -0.0000000001', decimal(38, 10), le(-1n, 16), '-0.0000000001'],
    ['Decimal(38,0) max', decimal(38, 0), le(10n ** 38n - 1n, 16), '99999999999999999999999999999999999999'],
    ['Decimal(20,4) -1234567890123456.7890', decimal(20, 4), le(-12345678901234567890n, 16), '-1234567890123456.7890'],
    ['Decimal256(20) -3.5', decimal(76, 20), le(-35n * 10n ** 19n, 32), '-3.50000000000000000000'],
    ['Decimal(76,76) min', decimal(76, 76), le(-(10n ** 76n - 1n), 32), `-0.${'9'.repeat(76)}`],
  ]
  it.each(cases)('%s', (_, type, wire, expected) => {
    expect(one(type, bytes(wire))).toBe(expected)
  })

  it('reads Bool 0 and 1', () => {
    const decode = createRowDecoder([
      { name: 'a', type: { kind: 'bool' } },
      { name: 'b', type: { kind: 'bool' } },
    ])
    expect(decode(bytes('0100'))).toEqual({ a: true, b: false })
  })
})

describe('createRowDecoder: strings', () => {
  it('reads String as a Buffer with a LEB128 length, of any size', () => {
    expect(one(string, bytes('00'))).toEqual(Buffer.alloc(0))
    expect(one(string, bytes(str('héllo')))).toEqual(Buffer.from('héllo'))
    const long = 'x'.repeat(200)
    expect(bytes(str(long)).subarray(0, 2)).toEqual(bytes('C801')) // as ClickHouse writes it
    expect(one(string, bytes(str(long)))).toEqual(Buffer.from(long))
    const huge = 'y'.repeat(70_000) // three-byte varint
    expect(one(string, bytes(str(huge)))).toEqual(Buffer.from(huge))
  })

  it('keeps String bytes that are not UTF-8 and copies them out of the payload', () => {
    const payload = bytes('03 FF 00 FE')
    const value = one(string, payload) as Buffer
    expect(value).toEqual(Buffer.from([0xff, 0x00, 0xfe]))
    payload.fill(0)
    expect(value).toEqual(Buffer.from([0xff, 0x00, 0xfe]))
  })

  it('reads FixedString(N) as N bytes, zero padding included', () => {
    expect(one({ kind: 'fixedString', length: 3 }, bytes('616200'))).toEqual(Buffer.from([0x61, 0x62, 0]))
  })

  it('reads json kinds (toJSONString text) as UTF-8 strings', () => {
    const json: ClickHouseType = { kind: 'json', typeName: 'JSON' }
    expect(one(json, bytes(str('{"a":1,"b":{"c":"é"}}')))).toBe('{"a":1,"b":{"c":"é"}}')
    // toJSONString passes invalid UTF-8 of a String through; it decodes to U+FFFD rather than failing the row.
    expect(one(json, bytes('09 7B2261223A22FF227D'))).toBe('{"a":"\uFFFD"}')
  })
})

describe('createRowDecoder: dates and times', () => {
  const cases: Array<[string, ClickHouseType, Buffer, unknown]> = [
    ['Date 2000-01-01', { kind: 'date' }, le(10957n, 2), 10957],
    ['Date max', { kind: 'date' }, le(65535n, 2), 65535],
    ['Date32 1900-01-01', { kind: 'date32' }, le(-25567n, 4), -25567],
    ['DateTime 2000-01-01', { kind: 'dateTime', timezone: 'UTC' }, le(946684800n, 4), 946684800],
    ['DateTime max', { kind: 'dateTime' }, le(4294967295n, 4), 4294967295],
    [
      'DateTime64(6) 1969-12-31 23:59:59.5 (bytes from ClickHouse)',
      { kind: 'dateTime64', precision: 6, timezone: 'UTC' },
      Buffer.from('E05EF8FFFFFFFFFF', 'hex'),
      -500000n,
    ],
    ['Time -01:00:01 (bytes from ClickHouse)', { kind: 'time' }, Buffer.from('EFF1FFFF', 'hex'), -3601],
    ['Time64(3) 12:34:56.789', { kind: 'time64', precision: 3 }, Buffer.from('952CB30200000000', 'hex'), 45296789n],
    ['Time64(3) -00:00:01.5', { kind: 'time64', precision: 3 }, le(-1500n, 8), -1500n],
  ]
  it.each(cases)('%s', (_, type, wire, expected) => {
    expect(one(type, bytes(wire))).toEqual(expected)
  })
})

describe('createRowDecoder: UUID and IP addresses', () => {
  it('reads UUID as two little-endian halves, high first (bytes from ClickHouse)', () => {
    expect(one({ kind: 'uuid' }, bytes('7766554433221100FFEEDDCCBBAA9988'))).toBe(
      '00112233-4455-6677-8899-aabbccddeeff',
    )
    expect(one({ kind: 'uuid' }, bytes('00'.repeat(16)))).toBe('00000000-0000-0000-0000-000000000000')
  })

  it('reads IPv4 as a little-endian UInt32', () => {
    expect(one({ kind: 'ipv4' }, bytes('04030201'))).toBe('1.2.3.4')
    expect(one({ kind: 'ipv4' }, bytes('FFFFFFFF'))).toBe('255.255.255.255')
  })

  // Input → toString(toIPv6(input)) in ClickHouse 26.7.
  const ipv6: Array<[string, string]> = [
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['0000000000000000000000000000FFFF', '::ffff'],
    ['00000000000000000000000000010000', '::0.1.0.0'],
    ['00000000000000000000000000000100', '::100'],
    ['00000000000000000000000001020304', '::1.2.3.4'],
    ['00000000000000000000FFFF00000000', '::ffff:0.0.0.0'],
    ['00000000000000000000FFFF01020304', '::ffff:1.2.3.4'],
    ['00000000000000000000FFFFFFFFFFFF', '::ffff:255.255.255.255'],
    ['00000000000000000000FFFE01020304', '::fffe:102:304'],
    ['0000000000000000FFFF000001020304', '::ffff:0:102:304'],
    ['0064FF9B000000000000000001020304', '64:ff9b::102:304'],
    ['20010DB8000000000000000000000001', '2001:db8::1'],
    ['20010DB8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['20010DB8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    ['20010000000000010000000000000001', '2001:0:0:1::1'],
    ['ABCDEF0123456789ABCDEF0123456789', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
    ['00010000000000000000000000000000', '1::'],
    ['00000000000000000000000100000000', '::1:0:0'],
    ['00010002000300040005000600070000', '1:2:3:4:5:6:7:0'],
    ['FE800000000000000001000000000000', 'fe80::1:0:0:0'],
    ['0000000000000000FFFF000000000000', '::ffff:0:0:0'],
    ['000000000000FFFF0000000000000000', '0:0:0:ffff::'], // the longer, later run is shortened
    ['00000000000000000001FFFF01020304', '::1:ffff:102:304'],
    ['00010000000100000000000100000000', '1:0:1::1:0:0'],
    ['00010000000000010000000000010001', '1::1:0:0:1:1'], // of equal runs, the first
    ['00000000000100000000000000000001', '0:0:1::1'],
  ]
  it.each(ipv6)('reads IPv6 %s as %s', (wire, text) => {
    expect(one({ kind: 'ipv6' }, bytes(wire))).toBe(text)
  })
})

describe('createRowDecoder: enums, wrappers and containers', () => {
  const enum8: ClickHouseType = {
    kind: 'enum',
    bits: 8,
    values: [
      { name: 'a', value: -1 },
      { name: 'b', value: 2 },
      { name: 'min', value: -128 },
      { name: 'max', value: 127 },
    ],
  }
  const enum16: ClickHouseType = {
    kind: 'enum',
    bits: 16,
    values: [
      { name: 'x', value: 1000 },
      { name: 'low', value: -32768 },
    ],
  }

  it('reads Enum8 and Enum16 values as their names', () => {
    expect(one(enum8, bytes('FF'))).toBe('a')
    expect(one(enum8, bytes('02'))).toBe('b')
    expect(one(enum8, bytes('80'))).toBe('min')
    expect(one(enum8, bytes('7F'))).toBe('max')
    expect(one(enum16, bytes('E803'))).toBe('x')
    expect(one(enum16, bytes('0080'))).toBe('low')
  })

  it('reads Nullable as null or the value, and LowCardinality as its inner type', () => {
    const type: ClickHouseType = { kind: 'lowCardinality', inner: nullable(string) }
    expect(one(type, bytes('00026162'))).toEqual(Buffer.from('ab')) // bytes from ClickHouse
    expect(one(type, bytes('01'))).toBeNull()
    expect(one(nullable(int(true, 32)), bytes('00 FEFFFFFF'))).toBe(-2)
    expect(one(nullable(int(true, 32)), bytes('01'))).toBeNull()
  })

  it('reads Array(Nullable(String))', () => {
    expect(one(array(nullable(string)), bytes('03', '00', str('a'), '01', '00', str('')))).toEqual([
      Buffer.from('a'),
      null,
      Buffer.alloc(0),
    ])
    expect(one(array(nullable(string)), bytes('00'))).toEqual([])
  })

  it('reads Map(String, Array(UInt8)) as [key, value] pairs in wire order', () => {
    const type: ClickHouseType = { kind: 'map', key: string, value: array(int(false, 8)) }
    expect(one(type, bytes('02', str('z'), '02 0102', str('a'), '00'))).toEqual([
      [Buffer.from('z'), [1, 2]],
      [Buffer.from('a'), []],
    ])
  })

  it('reads unnamed Tuple elements as _1, _2, … and named ones by name, Nested inside included', () => {
    const unnamed: ClickHouseType = { kind: 'tuple', elements: [{ type: int(false, 8) }, { type: string }] }
    expect(one(unnamed, bytes('05', str('q')))).toEqual({ _1: 5, _2: Buffer.from('q') })

    const named: ClickHouseType = {
      kind: 'tuple',
      elements: [
        { name: 'id', type: int(false, 16) },
        {
          name: 'items',
          type: {
            kind: 'nested',
            fields: [
              { name: 'sku', type: string },
              { name: 'qty', type: nullable(int(true, 32)) },
            ],
          },
        },
        { name: 'pair', type: { kind: 'tuple', elements: [{ type: { kind: 'bool' } }, { type: decimal(9, 2) }] } },
      ],
    }
    const payload = bytes('0700', '02', str('A1'), '00 03000000', str('B2'), '01', '01 39300000')
    expect(one(named, payload)).toEqual({
      id: 7,
      items: [
        { sku: Buffer.from('A1'), qty: 3 },
        { sku: Buffer.from('B2'), qty: null },
      ],
      pair: { _1: true, _2: '123.45' },
    })
  })

  it('reads Nested as an array of objects (wire: Array(Tuple), bytes from ClickHouse)', () => {
    const type: ClickHouseType = {
      kind: 'nested',
      fields: [
        { name: 'a', type: int(false, 8) },
        { name: 'b', type: string },
      ],
    }
    expect(one(type, bytes('02010178020179'))).toEqual([
      { a: 1, b: Buffer.from('x') },
      { a: 2, b: Buffer.from('y') },
    ])
  })
})

describe('createRowDecoder: rows', () => {
  const columns = [
    { name: 'id', type: int(false, 64) },
    { name: 'name', type: string },
    { name: 'tags', type: array(nullable(string)) },
    { name: 'ok', type: { kind: 'bool' } as ClickHouseType },
  ]
  const decode = createRowDecoder(columns)

  it('decodes every column in order into one object, keyed by column name', () => {
    const row = decode(bytes(le(42n, 8), str('alice'), '01 00', str('t'), '01'))
    expect(row).toEqual({ id: 42n, name: Buffer.from('alice'), tags: [Buffer.from('t')], ok: true })
    expect(Object.keys(row)).toEqual(['id', 'name', 'tags', 'ok'])
  })

  it('is reusable across payloads, including slices of one buffer at any offset', () => {
    const first = bytes(le(1n, 8), str('a'), '00', '00')
    const second = bytes(le(2n, 8), str('bb'), '01 01', '01')
    const shared = Buffer.concat([Buffer.from('junk'), first, second, Buffer.from('more')])
    const a = shared.subarray(4, 4 + first.length)
    const b = shared.subarray(4 + first.length, 4 + first.length + second.length)
    expect(decode(a)).toEqual({ id: 1n, name: Buffer.from('a'), tags: [], ok: false })
    expect(decode(b)).toEqual({ id: 2n, name: Buffer.from('bb'), tags: [null], ok: true })
    expect(decode(a)).toEqual({ id: 1n, name: Buffer.from('a'), tags: [], ok: false })
    // An error in one row leaves the decoder usable for the next.
    expect(() => decode(bytes(le(3n, 8)))).toThrow(RowDecodeError)
    expect(decode(b).id).toBe(2n)
  })

  it('decodes an empty schema from an empty payload', () => {
    expect(createRowDecoder([])(new Uint8Array(0))).toEqual({})
  })

  it('makes a column named __proto__ a field, not the prototype', () => {
    const row = createRowDecoder([
      { name: '__proto__', type: int(false, 8) },
      { name: 't', type: { kind: 'tuple', elements: [{ name: '__proto__', type: int(false, 8) }] } },
    ])(bytes('0102'))
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype)
    expect(Object.keys(row)).toEqual(['__proto__', 't'])
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe(1)
    expect(Object.getOwnPropertyDescriptor(row.t, '__proto__')?.value).toBe(2)
  })
})

describe('createRowDecoder: poison payloads', () => {
  const row = [
    { name: 'id', type: int(false, 32) },
    { name: 'name', type: string },
  ]

  it('names the column, its kind, the offset and the payload length when the payload is truncated', () => {
    const error = decodeError(row, bytes('01000000', '05 6162'))
    expect(error).toMatchObject({ column: 'name', kind: 'string', offset: 4, payloadLength: 7, canRetry: false })
    expect(error.message).toBe(
      'cannot decode column "name" (string) at offset 4 of a 7-byte payload: ' +
        'length 5 exceeds the 2 bytes left (truncated payload?)',
    )
    expect(decodeError(row, bytes('010000'))).toMatchObject({ column: 'id', kind: 'int', offset: 0 })
    expect(decodeError(row, bytes('01000000'))).toMatchObject({ column: 'name', offset: 4 })
    expect(decodeError(row, bytes('01000000')).message).toContain('truncated payload: needs 1 byte, 0 left')
  })

  it.each<[string, ClickHouseType, number]>([
    ['Int64', int(true, 64), 8],
    ['UInt256', int(false, 256), 32],
    ['Decimal128', decimal(38, 2), 16],
    ['UUID', { kind: 'uuid' }, 16],
    ['IPv6', { kind: 'ipv6' }, 16],
    ['DateTime64', { kind: 'dateTime64', precision: 3 }, 8],
    ['FixedString(5)', { kind: 'fixedString', length: 5 }, 5],
    ['Enum16', { kind: 'enum', bits: 16, values: [{ name: 'a', value: 0 }] }, 2],
  ])('rejects a truncated %s', (_, type, size) => {
    const error = decodeError([{ name: 'v', type }], new Uint8Array(size - 1))
    expect(error).toMatchObject({ column: 'v', kind: type.kind, offset: 0, payloadLength: size - 1 })
    expect(error.message).toContain(`truncated payload: needs ${size} bytes, ${size - 1} left`)
  })

  it('rejects every proper prefix of a row, so a payload cut short (formatRowNoNewline dropping a final 0x0A) never decodes', () => {
    const columns: Array<{ name: string; type: ClickHouseType }> = [
      { name: 'id', type: int(false, 64) },
      { name: 'tags', type: { kind: 'map', key: string, value: array(nullable(decimal(18, 2))) } },
      { name: 'ip', type: { kind: 'ipv6' } },
      {
        name: 'items',
        type: {
          kind: 'nested',
          fields: [
            { name: 'sku', type: { kind: 'lowCardinality', inner: string } },
            { name: 'at', type: { kind: 'dateTime64', precision: 3 } },
          ],
        },
      },
      { name: 'note', type: string },
    ]
    const payload = bytes(
      le(1n, 8),
      '01',
      str('k'),
      '02 00',
      le(-5n, 8),
      '01',
      '00'.repeat(15),
      '01',
      '01',
      str('s'),
      le(-1n, 8),
      str('line\n'),
    )
    const decode = createRowDecoder(columns)
    expect(decode(payload).note).toEqual(Buffer.from('line\n'))
    for (let length = 0; length < payload.length; length++) {
      expect(() => decode(payload.subarray(0, length)), `prefix of ${length} bytes`).toThrow(RowDecodeError)
    }
    expect(() => decode(bytes(payload, [0x0a]))).toThrow(/1 trailing byte/)
  })

  it('rejects trailing bytes after the last column', () => {
    const error = decodeError(row, bytes('01000000', str('ab'), 'EEFF'))
    expect(error).toMatchObject({ column: 'name', offset: 7, payloadLength: 9 })
    expect(error.message).toContain('2 trailing bytes after the last column')
    expect(decodeError([], bytes('00')).message).toContain('1 trailing byte after the last column')
  })

  it('rejects an invalid varint', () => {
    const tooLong = decodeError(row, bytes('01000000', '80'.repeat(10), '00'))
    expect(tooLong).toMatchObject({ column: 'name', offset: 4 })
    expect(tooLong.message).toContain('invalid varint')
    const cut = decodeError(row, bytes('01000000', '8080'))
    expect(cut).toMatchObject({ column: 'name', offset: 4 })
    expect(cut.message).toContain('truncated varint')
  })

  it('rejects a Bool byte other than 0 or 1, inside containers too', () => {
    const error = decodeError([{ name: 'flag', type: { kind: 'bool' } }], bytes('02'))
    expect(error).toMatchObject({ column: 'flag', kind: 'bool', offset: 0 })
    expect(error.message).toContain('invalid Bool byte 0x02')
    const nested = decodeError([{ name: 'flags', type: array({ kind: 'bool' }) }], bytes('03 01 00 FF'))
    expect(nested).toMatchObject({ column: 'flags', kind: 'array', offset: 3 })
    expect(nested.message).toContain('invalid Bool byte 0xff (expected 0 or 1) (reading bool)')
  })

  it('rejects an unknown enum value', () => {
    const type: ClickHouseType = { kind: 'enum', bits: 8, values: [{ name: 'a', value: 1 }] }
    const error = decodeError(
      [
        { name: 'id', type: int(false, 8) },
        { name: 'state', type },
      ],
      bytes('07 03'),
    )
    expect(error).toMatchObject({ column: 'state', kind: 'enum', offset: 1 })
    expect(error.message).toContain('unknown Enum8 value 3')
    const type16: ClickHouseType = { kind: 'enum', bits: 16, values: [{ name: 'a', value: 1 }] }
    expect(decodeError([{ name: 'e', type: type16 }], bytes('FFFF')).message).toContain('unknown Enum16 value -1')
  })

  it('rejects a Nullable marker other than 0 or 1', () => {
    const error = decodeError(
      [
        { name: 'id', type: int(false, 8) },
        { name: 'n', type: nullable(string) },
      ],
      bytes('0702'),
    )
    expect(error).toMatchObject({ column: 'n', kind: 'nullable', offset: 1 })
    expect(error.message).toContain('invalid Nullable marker 0x02')
  })

  it('rejects an element count that cannot fit in the payload before allocating', () => {
    const error = decodeError([{ name: 'xs', type: array(int(false, 64)) }], bytes(varint(2 ** 40), le(1n, 8)))
    expect(error).toMatchObject({ column: 'xs', kind: 'array', offset: 0 })
    expect(error.message).toContain('cannot fit')
    const map: ClickHouseType = { kind: 'map', key: string, value: string }
    expect(decodeError([{ name: 'm', type: map }], bytes('03', str('k'), str('v'))).message).toContain('cannot fit')
  })

  it('rejects schemas it cannot decode when compiling, naming the column', () => {
    expect(() => createRowDecoder([{ name: 'd', type: decimal(77, 2) }])).toThrow(/column "d": decimal precision 77/)
    expect(() => createRowDecoder([{ name: 'd', type: decimal(10, 11) }])).toThrow(/column "d": decimal scale 11/)
    expect(() =>
      createRowDecoder([{ name: 'e', type: { kind: 'enum', bits: 8, values: [{ name: 'big', value: 300 }] } }]),
    ).toThrow(/column "e": Enum8 value 300/)
    expect(() => createRowDecoder([{ name: 'f', type: { kind: 'fixedString', length: 0 } }])).toThrow(/column "f"/)
  })
})
