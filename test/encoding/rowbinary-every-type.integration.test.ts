import type { ClickHouseClient } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { createRowDecoder } from '../../engine/encoding/rowbinary-decoder.js'
import type { ClickHouseType } from '../../engine/schema/clickhouse-type.js'
import { parseClickHouseType } from '../../engine/schema/parse-clickhouse-type.js'
import { captureFixture } from '../helpers/capture.js'
import { rows, testClickHouse, testDatabase } from '../helpers/clickhouse.js'
import { uniqueName } from '../helpers/names.js'

/**
 * The decoder against RowBinary that real ClickHouse writes: a table with one column of every type in the model,
 * rows of known literals, `formatRow('RowBinary', …)` over them, and the decoded values compared with
 * values written out by hand. Where a column's text form is ours to match (UUID, IPv6, decimals, wide integers),
 * generated values are also checked against ClickHouse's own text.
 */

interface Column {
  name: string
  /** The type as the CREATE TABLE spells it. */
  sql: string
  /** The type as system.columns shows it, when that differs. */
  shown?: string
  type: ClickHouseType
}

const int = (signed: boolean, bits: 8 | 16 | 32 | 64 | 128 | 256): ClickHouseType => ({ kind: 'int', signed, bits })
const decimal = (precision: number, scale: number): ClickHouseType => ({ kind: 'decimal', precision, scale })
const string: ClickHouseType = { kind: 'string' }
const nullable = (inner: ClickHouseType): ClickHouseType => ({ kind: 'nullable', inner })
const json = (typeName: string): ClickHouseType => ({ kind: 'json', typeName })

const columns: Column[] = [
  { name: 'i8', sql: 'Int8', type: int(true, 8) },
  { name: 'i16', sql: 'Int16', type: int(true, 16) },
  { name: 'i32', sql: 'Int32', type: int(true, 32) },
  { name: 'i64', sql: 'Int64', type: int(true, 64) },
  { name: 'i128', sql: 'Int128', type: int(true, 128) },
  { name: 'i256', sql: 'Int256', type: int(true, 256) },
  { name: 'u8', sql: 'UInt8', type: int(false, 8) },
  { name: 'u16', sql: 'UInt16', type: int(false, 16) },
  { name: 'u32', sql: 'UInt32', type: int(false, 32) },
  { name: 'u64', sql: 'UInt64', type: int(false, 64) },
  { name: 'u128', sql: 'UInt128', type: int(false, 128) },
  { name: 'u256', sql: 'UInt256', type: int(false, 256) },
  { name: 'f32', sql: 'Float32', type: { kind: 'float', bits: 32 } },
  { name: 'f64', sql: 'Float64', type: { kind: 'float', bits: 64 } },
  { name: 'd32', sql: 'Decimal32(4)', shown: 'Decimal(9, 4)', type: decimal(9, 4) },
  { name: 'd64', sql: 'Decimal64(6)', shown: 'Decimal(18, 6)', type: decimal(18, 6) },
  { name: 'd128', sql: 'Decimal128(10)', shown: 'Decimal(38, 10)', type: decimal(38, 10) },
  { name: 'd256', sql: 'Decimal256(20)', shown: 'Decimal(76, 20)', type: decimal(76, 20) },
  { name: 'd92', sql: 'Decimal(9, 2)', type: decimal(9, 2) },
  { name: 'b', sql: 'Bool', type: { kind: 'bool' } },
  { name: 's', sql: 'String', type: string },
  { name: 'fs', sql: 'FixedString(4)', type: { kind: 'fixedString', length: 4 } },
  { name: 'dt', sql: 'Date', type: { kind: 'date' } },
  { name: 'dt32', sql: 'Date32', type: { kind: 'date32' } },
  { name: 'dtm', sql: "DateTime('UTC')", type: { kind: 'dateTime', timezone: 'UTC' } },
  { name: 'dt64', sql: "DateTime64(6, 'UTC')", type: { kind: 'dateTime64', precision: 6, timezone: 'UTC' } },
  { name: 't', sql: 'Time', type: { kind: 'time' } },
  { name: 't64', sql: 'Time64(3)', type: { kind: 'time64', precision: 3 } },
  { name: 'uuid', sql: 'UUID', type: { kind: 'uuid' } },
  { name: 'ip4', sql: 'IPv4', type: { kind: 'ipv4' } },
  { name: 'ip6', sql: 'IPv6', type: { kind: 'ipv6' } },
  {
    name: 'e8',
    sql: "Enum8('neg' = -1, 'two' = 2)",
    type: {
      kind: 'enum',
      bits: 8,
      values: [
        { name: 'neg', value: -1 },
        { name: 'two', value: 2 },
      ],
    },
  },
  {
    name: 'e16',
    sql: "Enum16('k' = 1000, 'm' = -1000)",
    shown: "Enum16('m' = -1000, 'k' = 1000)",
    type: {
      kind: 'enum',
      bits: 16,
      values: [
        { name: 'm', value: -1000 },
        { name: 'k', value: 1000 },
      ],
    },
  },
  { name: 'lc', sql: 'LowCardinality(String)', type: { kind: 'lowCardinality', inner: string } },
  {
    name: 'lcn',
    sql: 'LowCardinality(Nullable(String))',
    type: { kind: 'lowCardinality', inner: nullable(string) },
  },
  { name: 'n', sql: 'Nullable(Int32)', type: nullable(int(true, 32)) },
  { name: 'arr', sql: 'Array(Nullable(String))', type: { kind: 'array', element: nullable(string) } },
  { name: 'm', sql: 'Map(String, UInt64)', type: { kind: 'map', key: string, value: int(false, 64) } },
  {
    name: 'tu',
    sql: 'Tuple(UInt8, String)',
    type: { kind: 'tuple', elements: [{ type: int(false, 8) }, { type: string }] },
  },
  {
    name: 'tn',
    sql: 'Tuple(a Int16, b Array(UInt8))',
    type: {
      kind: 'tuple',
      elements: [
        { name: 'a', type: int(true, 16) },
        { name: 'b', type: { kind: 'array', element: int(false, 8) } },
      ],
    },
  },
  {
    name: 'nest',
    sql: 'Nested(sku String, qty UInt32)',
    type: {
      kind: 'nested',
      fields: [
        { name: 'sku', type: string },
        { name: 'qty', type: int(false, 32) },
      ],
    },
  },
  { name: 'j', sql: 'JSON', type: json('JSON') },
  { name: 'dyn', sql: 'Dynamic', type: json('Dynamic') },
  { name: 'v', sql: 'Variant(UInt8, String)', shown: 'Variant(String, UInt8)', type: json('Variant(String, UInt8)') },
]

// The view's expression per column. toJSONString of Dynamic and Variant is Nullable(String) (NULL for a NULL
// value), so json kinds go through ifNull(…, 'null') to stay a plain RowBinary String.
const wireExpression = (column: Column): string =>
  column.type.kind === 'json' ? `ifNull(toJSONString(${column.name}), 'null')` : column.name

const insert = `
(1, 127, 32767, 2147483647, 9223372036854775807, 170141183460469231731687303715884105727,
 57896044618658097711785492504343953926634992332820282019728792003956564819967,
 255, 65535, 4294967295, 18446744073709551615, 340282366920938463463374607431768211455,
 115792089237316195423570985008687907853269984665640564039457584007913129639935,
 1.5, -2.25,
 -12.34, -0.000001, -1234567890.0123456789, '-0.00000000000000000001', 0.05,
 true, 'héllo', 'ab',
 '2000-01-01', '1900-01-01', '2000-01-01 00:00:00', '1969-12-31 23:59:59.500000', '-01:00:01', '12:34:56.789',
 '00112233-4455-6677-8899-aabbccddeeff', '1.2.3.4', '2001:db8::1',
 'neg', 'm',
 'lc-one', 'x', -7,
 ['a', NULL, ''], {'z': 1, 'a': 18446744073709551615},
 (1, 'x'), (-5, [1, 2]),
 [('A1', 3), ('B2', 0)],
 '{"a":1,"b":{"c":"s"}}', 42, 'str'),
(2, -128, -32768, -2147483648, -9223372036854775808, -170141183460469231731687303715884105728,
 -57896044618658097711785492504343953926634992332820282019728792003956564819968,
 0, 0, 0, 0, 0, 0,
 -0.1, 1e308,
 -99999.9999, 999999999999.999999, -0.0000000001, '-123456789012345678901234567890.12345678901234567890', -9999999.99,
 false, '', 'abcd',
 '2149-06-06', '1969-12-31', '2106-02-07 06:28:15', '1900-01-01 00:00:00.000001', '999:59:59', '-00:00:01.500',
 'ffffffff-0000-0000-0000-000000000001', '255.255.255.255', '::ffff:1.2.3.4',
 'two', 'k',
 '', NULL, NULL,
 [], {},
 (0, ''), (0, []),
 [],
 '{}', NULL, NULL)`

const buf = (text: string) => Buffer.from(text)

const expected: Record<number, Record<string, unknown>> = {
  1: {
    i8: 127,
    i16: 32767,
    i32: 2147483647,
    i64: 9223372036854775807n,
    i128: '170141183460469231731687303715884105727',
    i256: '57896044618658097711785492504343953926634992332820282019728792003956564819967',
    u8: 255,
    u16: 65535,
    u32: 4294967295,
    u64: 18446744073709551615n,
    u128: '340282366920938463463374607431768211455',
    u256: '115792089237316195423570985008687907853269984665640564039457584007913129639935',
    f32: 1.5,
    f64: -2.25,
    d32: '-12.3400',
    d64: '-0.000001',
    d128: '-1234567890.0123456789',
    d256: '-0.00000000000000000001',
    d92: '0.05',
    b: true,
    s: buf('héllo'),
    fs: Buffer.from([0x61, 0x62, 0, 0]),
    dt: 10957,
    dt32: -25567,
    dtm: 946684800,
    dt64: -500000n,
    t: -3601,
    t64: 45296789n,
    uuid: '00112233-4455-6677-8899-aabbccddeeff',
    ip4: '1.2.3.4',
    ip6: '2001:db8::1',
    e8: 'neg',
    e16: 'm',
    lc: buf('lc-one'),
    lcn: buf('x'),
    n: -7,
    arr: [buf('a'), null, buf('')],
    m: [
      [buf('z'), 1n],
      [buf('a'), 18446744073709551615n],
    ],
    tu: { _1: 1, _2: buf('x') },
    tn: { a: -5, b: [1, 2] },
    nest: [
      { sku: buf('A1'), qty: 3 },
      { sku: buf('B2'), qty: 0 },
    ],
    j: '{"a":1,"b":{"c":"s"}}',
    dyn: '42',
    v: '"str"',
  },
  2: {
    i8: -128,
    i16: -32768,
    i32: -2147483648,
    i64: -9223372036854775808n,
    i128: '-170141183460469231731687303715884105728',
    i256: '-57896044618658097711785492504343953926634992332820282019728792003956564819968',
    u8: 0,
    u16: 0,
    u32: 0,
    u64: 0n,
    u128: '0',
    u256: '0',
    f32: Math.fround(-0.1),
    f64: 1e308,
    d32: '-99999.9999',
    d64: '999999999999.999999',
    d128: '-0.0000000001',
    d256: '-123456789012345678901234567890.12345678901234567890',
    d92: '-9999999.99',
    b: false,
    s: buf(''),
    fs: buf('abcd'),
    dt: 65535,
    dt32: -1,
    dtm: 4294967295,
    dt64: -2208988799999999n,
    t: 3599999,
    t64: -1500n,
    uuid: 'ffffffff-0000-0000-0000-000000000001',
    ip4: '255.255.255.255',
    ip6: '::ffff:1.2.3.4',
    e8: 'two',
    e16: 'k',
    lc: buf(''),
    lcn: null,
    n: null,
    arr: [],
    m: [],
    tu: { _1: 0, _2: buf('') },
    tn: { a: 0, b: [] },
    nest: [],
    j: '{}',
    dyn: 'null',
    v: 'null',
  },
  // Only id, ip6 and the json kinds inserted: every other column holds its type's default.
  3: {
    i8: 0,
    i16: 0,
    i32: 0,
    i64: 0n,
    i128: '0',
    i256: '0',
    u8: 0,
    u16: 0,
    u32: 0,
    u64: 0n,
    u128: '0',
    u256: '0',
    f32: 0,
    f64: 0,
    d32: '0.0000',
    d64: '0.000000',
    d128: '0.0000000000',
    d256: '0.00000000000000000000',
    d92: '0.00',
    b: false,
    s: buf(''),
    fs: Buffer.alloc(4),
    dt: 0,
    dt32: -25567, // Date32's default is 1900-01-01, not the epoch
    dtm: 0,
    dt64: 0n,
    t: 0,
    t64: 0n,
    uuid: '00000000-0000-0000-0000-000000000000',
    ip4: '0.0.0.0',
    ip6: '::',
    e8: 'neg', // an Enum's default is its first value
    e16: 'm',
    lc: buf(''),
    lcn: null,
    n: null,
    arr: [],
    m: [],
    tu: { _1: 0, _2: buf('') },
    tn: { a: 0, b: [] },
    nest: [],
    j: '{"arr":[1,2],"s":"é"}', // JSON prints its paths sorted
    dyn: '"text"',
    v: '7',
  },
}

async function everyTypeTable(ch: ClickHouseClient, database?: string): Promise<string> {
  const db = database ?? (await testDatabase(ch, uniqueName('rowbinary')))
  const table = `${db}.every`
  await ch.command({
    query: `CREATE TABLE ${table} (id UInt8, ${columns.map((c) => `${c.name} ${c.sql}`).join(', ')})
            ENGINE = MergeTree ORDER BY id`,
    // Keep Nested a Nested column (not flattened into nest.sku, nest.qty arrays), as tailhouse's model expects.
    clickhouse_settings: { flatten_nested: 0 },
  })
  if (!database) await insertRows(ch, table)
  return table
}

async function insertRows(ch: ClickHouseClient, table: string): Promise<void> {
  await ch.command({ query: `INSERT INTO ${table} VALUES ${insert}` })
  await ch.command({
    query: `INSERT INTO ${table} (id, ip6, j, dyn, v) VALUES (3, '::', '{"s":"é","arr":[1,2]}', 'text', 7)`,
  })
}

describe('RowBinary decoder against ClickHouse (embedded chDB, or CLICKHOUSE_URL)', () => {
  it('decodes a column of every type, rows of known values, as written by formatRow', async () => {
    const ch = await testClickHouse()
    const table = await everyTypeTable(ch)

    const shown = await rows<{ name: string; type: string }>(
      ch,
      `SELECT name, type FROM system.columns WHERE database = '${table.split('.')[0]}' AND table = 'every'
       AND name != 'id' ORDER BY position`,
    )
    expect(shown).toEqual(columns.map((c) => ({ name: c.name, type: c.shown ?? c.sql })))

    const payloads = await rows<{ id: number; h: string }>(
      ch,
      `SELECT id, hex(formatRow('RowBinary', ${columns.map(wireExpression).join(', ')})) AS h
       FROM ${table} ORDER BY id`,
    )
    expect(payloads.map((p) => p.id)).toEqual([1, 2, 3])
    const decode = createRowDecoder(columns)
    for (const { id, h } of payloads) {
      const row = decode(Buffer.from(h, 'hex'))
      expect(Object.keys(row)).toEqual(columns.map((c) => c.name))
      for (const column of columns) {
        expect
          .soft(row[column.name], `row ${id}, column ${column.name} (${column.sql})`)
          .toEqual(expected[id]?.[column.name])
      }
    }
  })

  it.each(['view', 'stream'] as const)(
    'round-trips every type through capture, mode %s: migrate, INSERT, read, decode',
    async (mode) => {
      const f = await captureFixture((db) => [{ table: `${db}.every`, exclude: [], mode }])
      const table = await everyTypeTable(f.client, f.sourceDb)
      const result = await f.migrate()
      expect(result.sources[0], result.sources[0]?.detail).toMatchObject({ action: 'captured', version: 1 })
      await insertRows(f.client, table)
      const changelog = await f.changelog()
      expect(changelog.map((r) => r.row.id)).toEqual([1, 2, 3])
      for (const { row } of changelog) {
        const id = row.id as number
        expect(Object.keys(row)).toEqual(['id', ...columns.map((c) => c.name)])
        for (const column of columns) {
          expect
            .soft(row[column.name], `row ${id}, column ${column.name} (${column.sql})`)
            .toEqual(expected[id]?.[column.name])
        }
      }
    },
  )

  it('writes UUID as two little-endian UInt64 halves, high first; IPv4 little-endian; IPv6 in network order', async () => {
    const ch = await testClickHouse()
    const [wire] = await rows<{ uuid: string; ip4: string; ip6: string }>(
      ch,
      `SELECT hex(formatRow('RowBinary', toUUID('00112233-4455-6677-8899-aabbccddeeff'))) AS uuid,
              hex(formatRow('RowBinary', toIPv4('1.2.3.4'))) AS ip4,
              hex(formatRow('RowBinary', toIPv6('2001:db8::ff'))) AS ip6`,
    )
    expect(wire).toEqual({
      uuid: '7766554433221100FFEEDDCCBBAA9988',
      ip4: '04030201',
      ip6: '20010DB80000000000000000000000FF',
    })
  })

  it('decodes the same rows with the types parseClickHouseType reads from system.columns', async () => {
    const ch = await testClickHouse()
    const table = await everyTypeTable(ch)
    const shown = await rows<{ name: string; type: string }>(
      ch,
      `SELECT name, type FROM system.columns WHERE database = '${table.split('.')[0]}' AND table = 'every'
       AND name != 'id' ORDER BY position`,
    )
    const parsed = shown.map((c) => ({ name: c.name, type: parseClickHouseType(c.type) }))
    expect(parsed).toEqual(columns.map((c) => ({ name: c.name, type: c.type })))
    const payloads = await rows<{ id: number; h: string }>(
      ch,
      `SELECT id, hex(formatRow('RowBinary', ${columns.map(wireExpression).join(', ')})) AS h
       FROM ${table} ORDER BY id`,
    )
    const decode = createRowDecoder(parsed)
    expect(payloads.map(({ id, h }) => [id, decode(Buffer.from(h, 'hex'))])).toEqual(
      payloads.map(({ id }) => [id, expected[id]]),
    )
  })

  // formatRowNoNewline blindly drops a last byte 0x0A ('\n') of every row (FunctionFormatRow<no_newline> in
  // src/Functions/formatRow.cpp), and a RowBinary row ends in 0x0A whenever its last value does: UInt8 10, a
  // string ending in '\n', an Int64 whose top byte is 0x0A, … formatRow('RowBinary') adds nothing (RowBinary has
  // no row delimiter), so the capture view must use formatRow. The decoder rejects the cut payloads.
  it('formatRowNoNewline cuts RowBinary rows ending in 0x0A, in a materialized view too; formatRow does not', async () => {
    const ch = await testClickHouse()
    const db = await testDatabase(ch, uniqueName('rowbinary_nl'))
    await ch.command({ query: `CREATE TABLE ${db}.src (id UInt8, s String) ENGINE = MergeTree ORDER BY id` })
    await ch.command({
      query: `CREATE TABLE ${db}.changelog (id UInt8, cut String, whole String) ENGINE = MergeTree ORDER BY id`,
    })
    await ch.command({
      query: `CREATE MATERIALIZED VIEW ${db}.capture TO ${db}.changelog AS
              SELECT id, formatRowNoNewline('RowBinary', id, s) AS cut, formatRow('RowBinary', id, s) AS whole
              FROM ${db}.src`,
    })
    await ch.command({ query: `INSERT INTO ${db}.src VALUES (1, 'line\\n'), (2, 'plain')` })
    const payloads = await rows<{ id: number; cut: string; whole: string }>(
      ch,
      `SELECT id, hex(cut) AS cut, hex(whole) AS whole FROM ${db}.changelog ORDER BY id`,
    )
    expect(payloads).toEqual([
      { id: 1, cut: '01056C696E65', whole: '01056C696E650A' },
      { id: 2, cut: '0205706C61696E', whole: '0205706C61696E' },
    ])
    const decode = createRowDecoder([
      { name: 'id', type: int(false, 8) },
      { name: 's', type: string },
    ])
    expect(decode(Buffer.from(payloads[0]?.whole ?? '', 'hex'))).toEqual({ id: 1, s: buf('line\n') })
    expect(() => decode(Buffer.from(payloads[0]?.cut ?? '', 'hex'))).toThrow(
      'cannot decode column "s" (string) at offset 1 of a 6-byte payload: length 5 exceeds the 4 bytes left',
    )
  })

  it('types toJSONString of Dynamic and Variant as Nullable(String), of JSON as String', async () => {
    const ch = await testClickHouse()
    const table = await everyTypeTable(ch)
    const [types] = await rows<Record<string, string>>(
      ch,
      `SELECT toTypeName(toJSONString(j)) AS j, toTypeName(toJSONString(dyn)) AS dyn,
              toTypeName(toJSONString(v)) AS v, toTypeName(ifNull(toJSONString(dyn), 'null')) AS wrapped
       FROM ${table} LIMIT 1`,
    )
    expect(types).toEqual({ j: 'String', dyn: 'Nullable(String)', v: 'Nullable(String)', wrapped: 'String' })
  })

  it("prints UUID and IPv6 as ClickHouse's toString does, for generated values", async () => {
    const ch = await testClickHouse()
    const random = seeded(20_260_706)
    // IPv6: groups zero with probability 1/2, so zero runs of every length and position occur, and ::ffff: /
    // ::a.b.c.d prefixes a quarter of the time each.
    const addresses = Array.from({ length: 400 }, (_, i) => {
      const groups = Array.from({ length: 8 }, () => (random() < 0.5 ? 0 : Math.floor(random() * 0x10000)))
      if (i % 4 === 1) groups.splice(0, 6, 0, 0, 0, 0, 0, 0xffff)
      if (i % 4 === 2) groups.splice(0, 6, 0, 0, 0, 0, 0, 0)
      return groups.map((g) => g.toString(16).padStart(4, '0')).join('')
    })
    const ips = await rows<{ h: string; text: string }>(
      ch,
      `SELECT hex(formatRow('RowBinary', ip)) AS h, toString(ip) AS text
       FROM (SELECT CAST(toFixedString(unhex(arrayJoin([${addresses.map((a) => `'${a}'`).join(',')}])), 16) AS IPv6) AS ip)`,
    )
    expect(ips).toHaveLength(400)
    const ipv6 = createRowDecoder([{ name: 'ip', type: { kind: 'ipv6' } }])
    expect(ips.map((r) => ipv6(Buffer.from(r.h, 'hex')).ip)).toEqual(ips.map((r) => r.text))

    const uuids = await rows<{ h: string; text: string }>(
      ch,
      `SELECT hex(formatRow('RowBinary', u)) AS h, toString(u) AS text
       FROM (SELECT generateUUIDv4(number) AS u FROM numbers(200))`,
    )
    const uuid = createRowDecoder([{ name: 'u', type: { kind: 'uuid' } }])
    expect(uuids.map((r) => uuid(Buffer.from(r.h, 'hex')).u)).toEqual(uuids.map((r) => r.text))
  })

  it('prints decimals with exactly S fractional digits and wide integers exactly, as ClickHouse does', async () => {
    const ch = await testClickHouse()
    const random = seeded(76)
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('')
    const types: Array<[string, ClickHouseType]> = [
      ['Decimal(9, 4)', decimal(9, 4)],
      ['Decimal(18, 18)', decimal(18, 18)],
      ['Decimal(38, 10)', decimal(38, 10)],
      ['Decimal(76, 20)', decimal(76, 20)],
      ['Decimal(76, 0)', decimal(76, 0)],
      ['Int128', int(true, 128)],
      ['UInt128', int(false, 128)],
      ['Int256', int(true, 256)],
      ['UInt256', int(false, 256)],
    ]
    for (const [sql, type] of types) {
      const precision = type.kind === 'decimal' ? type.precision : type.kind === 'int' && type.bits === 128 ? 38 : 76
      const scale = type.kind === 'decimal' ? type.scale : 0
      const signed = type.kind === 'decimal' || (type.kind === 'int' && type.signed)
      const literals = Array.from({ length: 100 }, (_, i) => {
        // Lengths from 1 to P digits, so leading zeros after the point and values below 1 occur.
        const text = digits(1 + (i % precision)).replace(/^0+(?=\d)/, '')
        const sign = signed && i % 2 ? '-' : ''
        const integer = scale === 0 ? text : text.padStart(scale + 1, '0')
        return scale === 0 ? `${sign}${integer}` : `${sign}${integer.slice(0, -scale)}.${integer.slice(-scale)}`
      })
      const result = await ch.query({
        query: `SELECT hex(formatRow('RowBinary', x)) AS h, x AS text
                FROM (SELECT CAST(arrayJoin([${literals.map((l) => `'${l}'`).join(',')}]) AS ${sql}) AS x)`,
        format: 'JSONEachRow',
        // Decimals and 128/256-bit integers as strings, decimals with all S digits (ClickHouse trims them otherwise).
        clickhouse_settings: {
          output_format_decimal_trailing_zeros: 1,
          output_format_json_quote_decimals: 1,
          output_format_json_quote_64bit_integers: 1,
        },
      })
      const values = await result.json<{ h: string; text: string }>()
      const decode = createRowDecoder([{ name: 'x', type }])
      expect(values).toHaveLength(100)
      expect(
        values.map((r) => decode(Buffer.from(r.h, 'hex')).x),
        sql,
      ).toEqual(values.map((r) => String(r.text)))
    }
  })
})

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
