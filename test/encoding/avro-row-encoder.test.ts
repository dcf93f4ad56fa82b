import { describe, expect, it } from 'vitest'
import { avroType, createAvroMessageEncoder, unscaledBytes } from '../../engine/encoding/avro-row-encoder.js'
import { readConfluentFrame } from '../../engine/encoding/confluent-framing.js'
import { createMessageEncoder, type EnvelopeFields, type RowSchema } from '../../engine/encoding/row-encoder.js'
import { mapAvroRow } from '../../engine/schema/avro-mapping.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { decodedRow1 } from '../fixtures/every-type-decoded.js'
import { columns } from '../fixtures/every-type-proto.js'

const captured = [['id', 'UInt8'] as [string, string], ...columns].map(([name, type]) =>
  toCapturedColumn('db.every', name, type),
)
const schema: RowSchema = {
  protoText: '',
  columns: captured,
  fieldNumbers: {},
  options: { timestamps: 'timestamp', enums: 'enum' },
  source: 'db.every',
  version: 1,
}
const fields: EnvelopeFields = {
  source: 'db.every',
  op: 'retract',
  schemaVersion: 1,
  partitionId: '2026070612',
  blockNumber: 3n,
  blockOffset: 18446744073709551615n >> 1n,
  queryId: 'q1',
  ingestTimeMicros: 1783339200000001n,
}
const buf = (text: string) => Buffer.from(text)
/** Decimal bytes as avsc reads them back (plain bytes): the unscaled value. */
const dec = (unscaled: bigint) => unscaledBytes(unscaled)

describe('Avro encoder', () => {
  it('encodes every type of the every-type row so that avsc reads back the mapped values', () => {
    const encoder = createAvroMessageEncoder(schema)
    const decoded = avroType(encoder.schema).fromBuffer(encoder.encode(fields, decodedRow1)) as Record<string, unknown>
    expect({ ...decoded, row: undefined }).toEqual({
      source: 'db.every',
      op: 'retract',
      schema_version: 1,
      cursor: { partition_id: '2026070612', block_number: 3, block_offset: 2n ** 63n - 1n },
      query_id: 'q1',
      ingest_time: 1783339200000001,
      row: undefined,
    })
    const row = JSON.parse(JSON.stringify(decoded.row, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)))
    const bytes = (b: Buffer) => JSON.parse(JSON.stringify(b))
    expect(row).toEqual({
      id: 1,
      i8: 127,
      i16: 32767,
      i32: 2147483647,
      i64: '9223372036854775807n',
      i128: bytes(dec(2n ** 127n - 1n)),
      i256: bytes(dec(2n ** 255n - 1n)),
      u8: 255,
      u16: 65535,
      u32: 4294967295,
      u64: bytes(dec(2n ** 64n - 1n)),
      u128: bytes(dec(2n ** 128n - 1n)),
      u256: bytes(dec(2n ** 256n - 1n)),
      f32: 1.5,
      f64: -2.25,
      d32: bytes(dec(-123400n)),
      d64: bytes(dec(-1n)),
      d128: bytes(dec(-12345678900123456789n)),
      d256: bytes(dec(-1n)),
      d92: bytes(dec(5n)),
      b: true,
      s: bytes(buf('héllo')),
      fs: bytes(Buffer.from([0x61, 0x62, 0, 0])),
      dt: 10957,
      dt32: -25567,
      dtm: 946684800000,
      dt64: -500000,
      t: -3601,
      t64: 45296789,
      uuid: '00112233-4455-6677-8899-aabbccddeeff',
      ip4: '1.2.3.4',
      ip6: '2001:db8::1',
      e8: 'neg',
      e16: 'm',
      lc: bytes(buf('lc-one')),
      lcn: bytes(buf('x')),
      n: -7,
      arr: [bytes(buf('a')), null, bytes(buf(''))],
      m: { z: bytes(dec(1n)), a: bytes(dec(2n ** 64n - 1n)) },
      tu: { _1: 1, _2: bytes(buf('x')) },
      tn: { a: -5, b: [1, 2] },
      nest: [
        { sku: bytes(buf('A1')), qty: 3 },
        { sku: bytes(buf('B2')), qty: 0 },
      ],
      j: '{"a":1,"b":{"c":"s"}}',
      dyn: '42',
      v: '"str"',
      ns: '1700000000123456789n',
      dm: { '2000-01-01': null, '1970-01-01': 0 },
      em: { two: [1], neg: [] },
      am: [
        { key: [1, 2], value: bytes(buf('x')) },
        { key: [], value: bytes(buf('')) },
      ],
    })
  })

  it('maps each type to the Avro type of the documented table', () => {
    const { schema: envelope } = mapAvroRow('db', 'every', 1, captured)
    const row = envelope.fields.find((f) => f.name === 'row')?.type as {
      fields: Array<{ name: string; type: unknown }>
    }
    const types = Object.fromEntries(row.fields.map((f) => [f.name, f.type]))
    expect(types).toMatchObject({
      i8: 'int',
      u16: 'int',
      u32: 'long',
      i64: 'long',
      u64: { type: 'bytes', logicalType: 'decimal', precision: 20, scale: 0 },
      i256: { type: 'bytes', logicalType: 'decimal', precision: 77, scale: 0 },
      d128: { type: 'bytes', logicalType: 'decimal', precision: 38, scale: 10 },
      s: 'bytes',
      dt: { type: 'int', logicalType: 'date' },
      dtm: { type: 'long', logicalType: 'timestamp-millis' },
      dt64: { type: 'long', logicalType: 'timestamp-micros' },
      ns: { type: 'long', logicalType: 'timestamp-nanos' },
      t: 'int',
      t64: 'long',
      uuid: { type: 'string', logicalType: 'uuid' },
      e8: { type: 'enum', symbols: ['neg', 'two'] },
      lcn: ['null', 'bytes'],
      arr: { type: 'array', items: ['null', 'bytes'] },
      m: { type: 'map', values: { type: 'bytes', logicalType: 'decimal', precision: 20, scale: 0 } },
      am: { type: 'array', items: { type: 'record', name: 'AmEntry' } },
      j: 'string',
    })
    expect(envelope.namespace).toBe('tailhouse.db.every')
    // Every field has a default, so adding or dropping a column stays compatible; avsc checks each default.
    expect(row.fields.every((f) => 'default' in f)).toBe(true)
    expect(() => avroType(envelope)).not.toThrow()
  })

  it('maps every type to plain int/long with timestamps: int64, and enums to strings with enums: string', () => {
    const { schema: envelope } = mapAvroRow('db', 'every', 1, captured, { timestamps: 'int64', enums: 'string' })
    const row = envelope.fields.find((f) => f.name === 'row')?.type as {
      fields: Array<{ name: string; type: unknown }>
    }
    const types = Object.fromEntries(row.fields.map((f) => [f.name, f.type]))
    expect(types).toMatchObject({ dt: 'int', dtm: 'long', ns: 'long', e8: 'string' })
    const encoder = createAvroMessageEncoder({ ...schema, options: { timestamps: 'int64', enums: 'string' } })
    const decoded = avroType(encoder.schema).fromBuffer(encoder.encode(fields, decodedRow1)) as {
      row: Record<string, unknown>
    }
    expect(decoded.row).toMatchObject({ dtm: 946684800, dt64: -500000, e8: 'neg' })
  })

  it('keeps names Avro accepts: sanitized field names, the ClickHouse name in the doc', () => {
    const odd = [toCapturedColumn('db.t', 'order id', 'UInt8'), toCapturedColumn('db.t', 'class', "Enum8('a-b' = 1)")]
    const { schema: envelope } = mapAvroRow('db', 't', 1, odd)
    const row = envelope.fields.find((f) => f.name === 'row')?.type as {
      fields: Array<{ name: string; doc: string; type: unknown }>
    }
    expect(row.fields.map((f) => f.name)).toEqual(['order_id', 'class_'])
    expect(row.fields[0]?.doc).toContain('"order id"')
    expect(row.fields[1]?.type).toBe('string') // 'a-b' is no Avro enum symbol
  })

  it('names the column of a value that does not fit', () => {
    const encoder = createAvroMessageEncoder(schema)
    expect(() => encoder.encode(fields, { ...decodedRow1, d32: 'x' })).toThrow(/column "d32"/)
  })

  it('frames values in the wire format when the registry id is given', () => {
    const value = createMessageEncoder('avro', { ...schema, registry: { schemaId: 42 } }).encode(fields, decodedRow1)
    const frame = readConfluentFrame(value)
    expect(frame.schemaId).toBe(42)
    expect(frame.payload).toEqual(createAvroMessageEncoder(schema).encode(fields, decodedRow1))
    expect(() => createMessageEncoder('debezium-json', { ...schema, registry: { schemaId: 1 } })).toThrow(
      /no registry schema/,
    )
  })

  it('writes decimal bytes in the fewest two-complement bytes', () => {
    expect([...unscaledBytes(0n)]).toEqual([0])
    expect([...unscaledBytes(127n)]).toEqual([0x7f])
    expect([...unscaledBytes(128n)]).toEqual([0, 0x80])
    expect([...unscaledBytes(-1n)]).toEqual([0xff])
    expect([...unscaledBytes(-128n)]).toEqual([0x80])
    expect([...unscaledBytes(-129n)]).toEqual([0xff, 0x7f])
  })
})
