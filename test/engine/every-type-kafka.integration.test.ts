import { describe, expect, it } from 'vitest'
import { startEngine } from '../../engine/start-engine.js'
import { rows } from '../helpers/clickhouse.js'
import { engineFixture, protoTypes, readTopic, testLogger, waitFor } from '../helpers/engine.js'

/**
 * The Protobuf mapping end to end through the real engine and broker: a table with a column of every type (the
 * columns, rows and expected proto values of test/encoding/proto-every-type.integration.test.ts, copied so that the
 * two tests stay independent), captured by `migrate`, rows INSERTed, published by the engine to Kafka, then read
 * back read_committed and decoded as a consumer in another language would: with the `.proto` files `migrate` wrote
 * to disk, loaded by a fresh protobufjs root.
 */

const columns: Array<[name: string, sql: string]> = [
  ['i8', 'Int8'],
  ['i16', 'Int16'],
  ['i32', 'Int32'],
  ['i64', 'Int64'],
  ['i128', 'Int128'],
  ['i256', 'Int256'],
  ['u8', 'UInt8'],
  ['u16', 'UInt16'],
  ['u32', 'UInt32'],
  ['u64', 'UInt64'],
  ['u128', 'UInt128'],
  ['u256', 'UInt256'],
  ['f32', 'Float32'],
  ['f64', 'Float64'],
  ['d32', 'Decimal32(4)'],
  ['d64', 'Decimal64(6)'],
  ['d128', 'Decimal128(10)'],
  ['d256', 'Decimal256(20)'],
  ['d92', 'Decimal(9, 2)'],
  ['b', 'Bool'],
  ['s', 'String'],
  ['fs', 'FixedString(4)'],
  ['dt', 'Date'],
  ['dt32', 'Date32'],
  ['dtm', "DateTime('UTC')"],
  ['dt64', "DateTime64(6, 'UTC')"],
  ['t', 'Time'],
  ['t64', 'Time64(3)'],
  ['uuid', 'UUID'],
  ['ip4', 'IPv4'],
  ['ip6', 'IPv6'],
  ['e8', "Enum8('neg' = -1, 'two' = 2)"],
  ['e16', "Enum16('k' = 1000, 'm' = -1000)"],
  ['lc', 'LowCardinality(String)'],
  ['lcn', 'LowCardinality(Nullable(String))'],
  ['n', 'Nullable(Int32)'],
  ['arr', 'Array(Nullable(String))'],
  ['m', 'Map(String, UInt64)'],
  ['tu', 'Tuple(UInt8, String)'],
  ['tn', 'Tuple(a Int16, b Array(UInt8))'],
  ['nest', 'Nested(sku String, qty UInt32)'],
  ['j', 'JSON'],
  ['dyn', 'Dynamic'],
  ['v', 'Variant(UInt8, String)'],
  // Beyond the decoder's table: shapes only the encoder has (map key text, wrappers, DateTime64(9)).
  ['ns', 'DateTime64(9)'],
  ['dm', 'Map(Date, Nullable(Float64))'],
  ['em', "Map(Enum8('neg' = -1, 'two' = 2), Array(UInt8))"],
  ['am', 'Map(Array(UInt8), String)'],
]

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
 '{"a":1,"b":{"c":"s"}}', 42, 'str',
 '2023-11-14 22:13:20.123456789', {'2000-01-01': NULL, '1970-01-01': 0}, {'two': [1], 'neg': []}, {[1, 2]: 'x', []: ''}),
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
 '{}', NULL, NULL,
 '1969-12-31 23:59:59.999999999', {}, {}, {})`

const buf = (text: string) => Buffer.from(text)
/** A google.protobuf.Timestamp or Duration as protobufjs's toObject prints it with defaults and String longs. */
const wkt = (seconds: number | string, nanos = 0) => ({ seconds: String(seconds), nanos })

/** The proto value of every column, by row id (toObject with defaults, longs as strings, enums as numbers). */
const expected: Record<number, Record<string, unknown>> = {
  1: {
    i8: 127,
    i16: 32767,
    i32: 2147483647,
    i64: '9223372036854775807',
    i128: '170141183460469231731687303715884105727',
    i256: '57896044618658097711785492504343953926634992332820282019728792003956564819967',
    u8: 255,
    u16: 65535,
    u32: 4294967295,
    u64: '18446744073709551615',
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
    dt: wkt(946684800),
    dt32: wkt(-2208988800),
    dtm: wkt(946684800),
    dt64: wkt(-1, 500_000_000),
    t: wkt(-3601),
    t64: wkt(45296, 789_000_000),
    uuid: '00112233-4455-6677-8899-aabbccddeeff',
    ip4: '1.2.3.4',
    ip6: '2001:db8::1',
    e8: -1,
    e16: -1000,
    lc: buf('lc-one'),
    lcn: buf('x'),
    n: -7,
    arr: [{ value: buf('a') }, {}, { value: buf('') }],
    m: { z: '1', a: '18446744073709551615' },
    tu: { _1: 1, _2: buf('x') },
    tn: { a: -5, b: [1, 2] },
    nest: [
      { sku: buf('A1'), qty: 3 },
      { sku: buf('B2'), qty: 0 },
    ],
    j: '{"a":1,"b":{"c":"s"}}',
    dyn: '42',
    v: '"str"',
    ns: wkt(1700000000, 123456789),
    dm: { '2000-01-01': {}, '1970-01-01': { value: 0 } },
    em: { two: { values: [1] }, neg: { values: [] } },
    am: [
      { key: [1, 2], value: buf('x') },
      { key: [], value: buf('') },
    ],
  },
  2: {
    i8: -128,
    i16: -32768,
    i32: -2147483648,
    i64: '-9223372036854775808',
    i128: '-170141183460469231731687303715884105728',
    i256: '-57896044618658097711785492504343953926634992332820282019728792003956564819968',
    u8: 0,
    u16: 0,
    u32: 0,
    u64: '0',
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
    dt: wkt(65535 * 86400), // 2149-06-06
    dt32: wkt(-86400),
    dtm: wkt(4294967295),
    dt64: wkt(-2208988800, 1000), // 1900-01-01 00:00:00.000001
    t: wkt(3599999),
    t64: wkt(-1, -500_000_000),
    uuid: 'ffffffff-0000-0000-0000-000000000001',
    ip4: '255.255.255.255',
    ip6: '::ffff:1.2.3.4',
    e8: 2,
    e16: 1000,
    lc: buf(''),
    arr: [],
    m: {},
    tu: { _1: 0, _2: buf('') },
    tn: { a: 0, b: [] },
    nest: [],
    j: '{}',
    dyn: 'null',
    v: 'null',
    ns: wkt(-1, 999_999_999),
    dm: {},
    em: {},
    am: [],
  },
  // Only id, ip6 and the json kinds inserted: every other column holds its type's default.
  3: {
    i8: 0,
    i16: 0,
    i32: 0,
    i64: '0',
    i128: '0',
    i256: '0',
    u8: 0,
    u16: 0,
    u32: 0,
    u64: '0',
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
    dt: wkt(0),
    dt32: wkt(-2208988800), // Date32's default is 1900-01-01
    dtm: wkt(0),
    dt64: wkt(0),
    t: wkt(0),
    t64: wkt(0),
    uuid: '00000000-0000-0000-0000-000000000000',
    ip4: '0.0.0.0',
    ip6: '::',
    e8: -1, // an Enum's default is its first value
    e16: -1000,
    lc: buf(''),
    arr: [],
    m: {},
    tu: { _1: 0, _2: buf('') },
    tn: { a: 0, b: [] },
    nest: [],
    j: '{"arr":[1,2],"s":"é"}',
    dyn: '"text"',
    v: '7',
    ns: wkt(0),
    dm: {},
    em: {},
    am: [],
  },
}

describe('engine: every type to Kafka', () => {
  it('every ClickHouse type of the mapping round-trips through Kafka, decoded with protobufjs from the .proto files', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.every`, exclude: [] }])
    const table = `${f.sourceDb}.every`
    await f.client.command({
      query: `CREATE TABLE ${table} (id UInt8, ${columns.map(([name, sql]) => `${name} ${sql}`).join(', ')})
              ENGINE = MergeTree ORDER BY id`,
      clickhouse_settings: { flatten_nested: 0 },
    })
    const result = await f.migrate()
    expect(result.sources[0]).toMatchObject({ action: 'captured', version: 1 })
    await f.client.command({ query: `INSERT INTO ${table} VALUES ${insert}` })
    await f.client.command({
      query: `INSERT INTO ${table} (id, ip6, j, dyn, v) VALUES (3, '::', '{"s":"é","arr":[1,2]}', 'text', 7)`,
    })
    const inserted = Object.keys(expected).length

    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor(`${inserted} rows published`, () => engine.status().rowsPublished === BigInt(inserted))
    expect((await engine.stop()).reason).toBe('stopped')

    // The changelog's cursor, ingest time and query id of each row, to check the envelopes and headers against.
    const changelog = await rows<{ cursor: string; micros: string; query_id: string }>(
      f.client,
      `SELECT concat(_partition_id, ':', toString(_block_number), ':', toString(_block_offset)) AS cursor,
              toString(toUnixTimestamp64Micro(ingest_ts)) AS micros, query_id
       FROM ${f.database}.changelog`,
    )
    const byCursor = new Map(changelog.map((r) => [r.cursor, r]))
    expect(changelog).toHaveLength(inserted)

    const messages = await readTopic(f.kafkaBootstrap, f.topic('every'))
    expect(messages).toHaveLength(inserted)
    // sourceDb is th_src_<hex>: already lower-case [a-z0-9_], so the generated path is the names as they are.
    const { envelope: Envelope, row: Row } = protoTypes(f.schemasDir, `${f.sourceDb}/every/v1.proto`)

    const seen: number[] = []
    for (const message of messages) {
      const { headers } = message
      expect(headers).toMatchObject({
        'tailhouse.source': table,
        'tailhouse.op': 'insert',
        'tailhouse.schema_version': '1',
      })
      expect(headers['tailhouse.cursor']).toMatch(/^\w+:\d+:\d+$/)
      const captured = byCursor.get(headers['tailhouse.cursor'] ?? '')
      if (!captured) throw new Error(`header tailhouse.cursor ${headers['tailhouse.cursor']} is no changelog row`)
      expect(headers['tailhouse.query_id']).toBe(captured.query_id)
      expect(captured.query_id).not.toBe('')

      const envelope = Envelope.toObject(Envelope.decode(message.value), { longs: String, enums: String })
      const [partitionId, blockNumber, blockOffset] = (headers['tailhouse.cursor'] ?? '').split(':')
      const micros = BigInt(captured.micros)
      expect(envelope).toEqual({
        source: table,
        op: 'OP_INSERT',
        schema_version: 1,
        cursor: {
          partition_id: partitionId,
          ...(blockNumber === '0' ? {} : { block_number: blockNumber }),
          ...(blockOffset === '0' ? {} : { block_offset: blockOffset }),
        },
        query_id: captured.query_id,
        ingest_time: { seconds: String(micros / 1_000_000n), nanos: Number(micros % 1_000_000n) * 1000 },
        row: expect.any(Uint8Array),
      })

      const row = Row.toObject(Row.decode(envelope.row as Uint8Array), {
        longs: String,
        enums: Number,
        defaults: true,
        arrays: true,
        objects: true,
      })
      const id = row.id as number
      seen.push(id)
      expect(Object.keys(row).sort(), `row ${id}: fields`).toEqual(Object.keys({ id, ...expected[id] }).sort())
      for (const [name, sql] of columns) {
        expect.soft(row[name], `row ${id}, column ${name} (${sql})`).toEqual(expected[id]?.[name])
      }
    }
    expect(seen.sort()).toEqual([1, 2, 3])
  })
})
