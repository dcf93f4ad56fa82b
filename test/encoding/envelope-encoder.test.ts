import { describe, expect, it } from 'vitest'
import {
  createEnvelopeEncoder,
  createEnvelopeJson,
  encodeEnvelope,
  microsText,
} from '../../engine/encoding/envelope-encoder.js'
import { createMessageEncoder, type EnvelopeFields, type RowSchema } from '../../engine/encoding/row-encoder.js'
import { envelopeProto } from '../../engine/schema/envelope-proto.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { generateRowProto } from '../../engine/schema/proto-writer.js'
import { loadProto } from '../schema/load-proto.js'

const Envelope = loadProto(envelopeProto().text).root.lookupType('tailhouse.v1.Envelope')

const fields: EnvelopeFields = {
  source: 'shop.orders',
  op: 'upsert',
  schemaVersion: 3,
  partitionId: '2026070612',
  blockNumber: 12345n,
  blockOffset: 7n,
  queryId: 'b5e0c1f4-1f7e-4a59-9d0b-6a2cbb6a3c11',
  ingestTimeMicros: 1783339200123456n,
}

const decodeEnvelope = (bytes: Uint8Array) =>
  Envelope.toObject(Envelope.decode(bytes), { longs: String, enums: String, defaults: true })

/** What protobufjs's own encoder writes for the same fields: the reference the hand-written bytes must equal. */
function reference(f: EnvelopeFields, row: Uint8Array): Buffer {
  const micros = f.ingestTimeMicros
  const seconds = micros / 1_000_000n - (micros % 1_000_000n < 0n ? 1n : 0n)
  const nanos = Number(micros - seconds * 1_000_000n) * 1000
  const message = Envelope.fromObject({
    source: f.source,
    op: `OP_${f.op.toUpperCase()}`,
    schema_version: f.schemaVersion,
    cursor: { partition_id: f.partitionId, block_number: String(f.blockNumber), block_offset: String(f.blockOffset) },
    query_id: f.queryId,
    ingest_time: { seconds: String(seconds), nanos },
    row,
  })
  return Buffer.from(Envelope.encode(message).finish())
}

describe('envelope encoder', () => {
  it('writes tailhouse.v1.Envelope with the row bytes and the ingest time as a Timestamp', () => {
    const row = Buffer.from([0x08, 0x01])
    const bytes = encodeEnvelope(fields, row)
    expect(Buffer.isBuffer(bytes)).toBe(true)
    expect(decodeEnvelope(bytes)).toEqual({
      source: 'shop.orders',
      op: 'OP_UPSERT',
      schema_version: 3,
      cursor: { partition_id: '2026070612', block_number: '12345', block_offset: '7' },
      query_id: 'b5e0c1f4-1f7e-4a59-9d0b-6a2cbb6a3c11',
      ingest_time: { seconds: '1783339200', nanos: 123456000 },
      row,
    })
  })

  it('writes the same bytes as protobufjs for edge values', () => {
    const encode = createEnvelopeEncoder()
    const long = 'é'.repeat(200)
    const cases: Array<[Partial<EnvelopeFields>, Uint8Array]> = [
      [{}, Buffer.alloc(0)],
      [{ op: 'insert', blockNumber: 0n, blockOffset: 0n, schemaVersion: 0 }, Buffer.from([1])],
      [{ op: 'delete', blockNumber: 18446744073709551615n, blockOffset: 9007199254740993n }, Buffer.alloc(300, 7)],
      [{ op: 'retract', ingestTimeMicros: 0n, source: '', queryId: '', partitionId: '' }, Buffer.alloc(128, 1)],
      [{ ingestTimeMicros: -1n, schemaVersion: 4294967295 }, Buffer.alloc(16383, 2)],
      [{ ingestTimeMicros: -2208988800000000n, source: long, queryId: long }, Buffer.alloc(16384, 3)],
      [{ ingestTimeMicros: 1_000_000n, blockNumber: 127n, blockOffset: 128n }, Buffer.alloc(0)],
    ]
    for (const [change, row] of cases) {
      const f = { ...fields, ...change }
      expect(
        encode(f, row).toString('hex'),
        JSON.stringify(change, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)),
      ).toBe(reference(f, row).toString('hex'))
    }
    expect(decodeEnvelope(encode({ ...fields, ingestTimeMicros: -1n }, Buffer.alloc(0))).ingest_time).toEqual({
      seconds: '-1',
      nanos: 999999000,
    })
  })

  it('refuses an unknown op and out-of-range numbers', () => {
    const encode = createEnvelopeEncoder()
    const row = Buffer.alloc(0)
    expect(() => encode({ ...fields, op: 'update' as EnvelopeFields['op'] }, row)).toThrow('unknown op "update"')
    expect(() => encode({ ...fields, blockNumber: -1n }, row)).toThrow('block number -1 is not a uint64')
    expect(() => encode({ ...fields, blockOffset: 2n ** 64n }, row)).toThrow('is not a uint64')
    expect(() => encode({ ...fields, schemaVersion: 1.5 }, row)).toThrow('schema version 1.5 is not a uint32')
  })

  it('writes the json envelope with the row JSON as it is', () => {
    const json = createEnvelopeJson()
    expect(json(fields, '{"id":"1"}')).toBe(
      '{"source":"shop.orders","op":"upsert","schema_version":3,' +
        '"cursor":{"partition_id":"2026070612","block_number":"12345","block_offset":"7"},' +
        '"query_id":"b5e0c1f4-1f7e-4a59-9d0b-6a2cbb6a3c11","ingest_time":"2026-07-06T12:00:00.123456Z",' +
        '"row":{"id":"1"}}',
    )
    expect(JSON.parse(json({ ...fields, source: 'a"b', ingestTimeMicros: -1n }, '{}'))).toMatchObject({
      source: 'a"b',
      ingest_time: '1969-12-31T23:59:59.999999Z',
    })
  })

  it('prints microseconds as RFC 3339 with six fraction digits', () => {
    expect(microsText(0n)).toBe('1970-01-01T00:00:00.000000Z')
    expect(microsText(1n)).toBe('1970-01-01T00:00:00.000001Z')
    expect(microsText(-2208988800000000n)).toBe('1900-01-01T00:00:00.000000Z')
    expect(microsText(253402300799999999n)).toBe('9999-12-31T23:59:59.999999Z')
  })
})

describe('message encoder', () => {
  const captured = [
    toCapturedColumn('shop.orders', 'id', 'UInt64'),
    toCapturedColumn('shop.orders', 'note', 'Nullable(String)'),
    toCapturedColumn('shop.orders', 'at', "DateTime64(3, 'UTC')"),
  ]
  const proto = generateRowProto({ database: 'shop', table: 'orders', version: 3, columns: captured })
  const schema: RowSchema = {
    protoText: proto.text,
    columns: captured,
    fieldNumbers: proto.fieldNumbers,
    options: { timestamps: 'timestamp', enums: 'enum' },
  }
  const row = { id: 42n, note: null, at: 1700000000123n }

  it('protobuf: an Envelope whose row decodes as the version Row', () => {
    const value = createMessageEncoder('protobuf', schema).encode(fields, row)
    expect(Buffer.isBuffer(value)).toBe(true)
    const envelope = Envelope.decode(value) as unknown as { row: Uint8Array }
    expect(decodeEnvelope(value)).toMatchObject({ source: 'shop.orders', op: 'OP_UPSERT', schema_version: 3 })
    const Row = loadProto(proto.text).root.lookupType('tailhouse.shop.orders.v3.Row')
    expect(Row.toObject(Row.decode(envelope.row), { longs: String })).toEqual({
      id: '42',
      at: { seconds: '1700000000', nanos: 123000000 },
    })
  })

  it('json: the envelope object with the Row in the proto3 JSON mapping', () => {
    const value = createMessageEncoder('json', schema).encode(fields, row)
    expect(Buffer.isBuffer(value)).toBe(true)
    expect(JSON.parse(value.toString('utf8'))).toEqual({
      source: 'shop.orders',
      op: 'upsert',
      schema_version: 3,
      cursor: { partition_id: '2026070612', block_number: '12345', block_offset: '7' },
      query_id: 'b5e0c1f4-1f7e-4a59-9d0b-6a2cbb6a3c11',
      ingest_time: '2026-07-06T12:00:00.123456Z',
      row: { id: '42', at: '2023-11-14T22:13:20.123Z' },
    })
  })

  it('refuses an unknown format', () => {
    expect(() => createMessageEncoder('xml' as 'json', schema)).toThrow('unknown encoding format "xml"')
  })
})
