import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { RowBinaryFault } from '../../engine/encoding/rowbinary-reader.js'
import { parseProtobufRows, parseRowBinaryRows } from '../../engine/source/changelog-wire.js'

/** One row of the rowbinary changelog query as ClickHouse writes it (changelog-query.ts, column order). */
function rowBinaryRow(r: {
  key?: string
  partition?: number
  partitionId: string
  block: bigint
  offset: bigint
  queryId: string
  ingestMicros: bigint
  op: number
  version: number
  payload: Buffer
  drifted: boolean
}): Buffer {
  const string = (s: string | Buffer) => {
    const bytes = typeof s === 'string' ? Buffer.from(s) : s
    return Buffer.concat([Buffer.from([bytes.length]), bytes]) // lengths < 128 are one varint byte
  }
  const u64 = (n: bigint) => {
    const b = Buffer.alloc(8)
    b.writeBigUInt64LE(n)
    return b
  }
  const u32 = (n: number) => {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(n)
    return b
  }
  const u16 = Buffer.alloc(2)
  u16.writeUInt16LE(r.version)
  const i64 = Buffer.alloc(8)
  i64.writeBigInt64LE(r.ingestMicros)
  return Buffer.concat([
    ...(r.key === undefined ? [] : [string(r.key), u32(r.partition ?? 0)]),
    string(r.partitionId),
    u64(r.block),
    u64(r.offset),
    string(r.queryId),
    i64,
    Buffer.from([r.op]),
    u16,
    string(r.payload),
    Buffer.from([r.drifted ? 1 : 0]),
  ])
}

const base = {
  key: '42',
  partition: 5,
  partitionId: 'all',
  block: 7n,
  offset: 0n,
  queryId: '2f9c8a0e-0000-4000-8000-000000000001',
  ingestMicros: 1763950000123456n,
  op: 1,
  version: 2,
  payload: Buffer.from([1, 2, 3]),
  drifted: false,
}

describe('parseRowBinaryRows', () => {
  it('reads every column, 64-bit values exactly, payloads and keys as slices of the response', () => {
    const drift = Buffer.concat([Buffer.from('ffffffffffffffff', 'hex'), Buffer.from([9])])
    const response = Buffer.concat([
      rowBinaryRow(base),
      rowBinaryRow({ ...base, offset: 1n, op: 3, payload: drift, drifted: true }),
      rowBinaryRow({ ...base, block: 18446744073709551615n, queryId: 'q2' }),
    ])
    const rows = parseRowBinaryRows(response, 'shop.orders', true)
    expect(rows).toHaveLength(3)
    expect(rows[0]).toEqual({
      source: 'shop.orders',
      stream: 'shop.orders/all',
      partitionId: 'all',
      blockNumber: 7n,
      blockOffset: 0n,
      op: 'insert',
      schemaVersion: 2,
      queryId: base.queryId,
      ingestMicros: 1763950000123456n,
      key: Buffer.from('42'),
      partition: 5,
      value: undefined,
      payload: Buffer.from([1, 2, 3]),
      fingerprint: undefined,
    })
    // A drifted row: fingerprint split off, no key or partition (the engine computes them from the decoded row).
    expect(rows[1]).toMatchObject({
      blockOffset: 1n,
      op: 'delete',
      payload: Buffer.from([9]),
      fingerprint: '18446744073709551615',
      key: undefined,
      partition: undefined,
    })
    expect(rows[2]).toMatchObject({ blockNumber: 18446744073709551615n, queryId: 'q2' })
    expect(rows[0]?.payload?.buffer).toBe(response.buffer)
  })

  it('reads rows of a source without key columns', () => {
    const { key: _, partition: __, ...keyless } = base
    const rows = parseRowBinaryRows(rowBinaryRow(keyless), 'shop.orders', false)
    expect(rows[0]).toMatchObject({ key: undefined, partition: undefined, blockNumber: 7n })
  })

  it('returns nothing for an empty response', () => {
    expect(parseRowBinaryRows(Buffer.alloc(0), 'shop.orders', true)).toEqual([])
  })

  it('fails on a truncated response or an unknown op instead of inventing rows', () => {
    const row = rowBinaryRow(base)
    expect(() => parseRowBinaryRows(row.subarray(0, row.length - 1), 'shop.orders', true)).toThrow(RowBinaryFault)
    expect(() => parseRowBinaryRows(rowBinaryRow({ ...base, op: 9 }), 'shop.orders', true)).toThrow(/unknown op 9/)
  })
})

/** TH_Out of changelog-query.ts, as protobufjs writes it (ClickHouse writes the same wire format). */
const Out = new protobuf.Type('Out')
  .add(new protobuf.Field('key', 1, 'bytes'))
  .add(new protobuf.Field('partition', 2, 'uint32'))
  .add(new protobuf.Field('partition_id', 3, 'string'))
  .add(new protobuf.Field('block', 4, 'uint64'))
  .add(new protobuf.Field('offset', 5, 'uint64'))
  .add(new protobuf.Field('query_id', 6, 'string'))
  .add(new protobuf.Field('ingest_us', 7, 'int64'))
  .add(new protobuf.Field('op', 8, 'int32'))
  .add(new protobuf.Field('version', 9, 'uint32'))
  .add(new protobuf.Field('drift', 10, 'bytes'))
  .add(new protobuf.Field('v1', 101, 'bytes'))
  .add(new protobuf.Field('v2', 102, 'bytes'))

function out(fields: Record<string, unknown>): Buffer {
  return Buffer.from(Out.encodeDelimited(Out.fromObject(fields)).finish())
}

describe('parseProtobufRows', () => {
  const row = {
    key: Buffer.from('42'),
    partition: 3,
    partition_id: 'all',
    block: '18446744073709551615',
    offset: 2,
    query_id: 'q1',
    ingest_us: '-1',
    op: 2,
    version: 2,
    v2: Buffer.from([0x0a, 0x01, 0x61]),
  }

  it('reads the metadata and passes the value field of the row version on as a slice', () => {
    const response = Buffer.concat([out(row), out({ ...row, key: Buffer.alloc(0), partition: 0, offset: 0 })])
    const rows = parseProtobufRows(response, 'shop.orders', true)
    expect(rows[0]).toEqual({
      source: 'shop.orders',
      stream: 'shop.orders/all',
      partitionId: 'all',
      blockNumber: 18446744073709551615n,
      blockOffset: 2n,
      op: 'upsert',
      schemaVersion: 2,
      queryId: 'q1',
      ingestMicros: -1n,
      key: Buffer.from('42'),
      partition: 3,
      value: Buffer.from([0x0a, 0x01, 0x61]),
      payload: undefined,
      fingerprint: undefined,
    })
    expect(rows[0]?.value?.buffer).toBe(response.buffer)
    // proto3 leaves empty and zero fields out: an empty key is still a key, partition and offset 0.
    expect(rows[1]).toMatchObject({ key: Buffer.alloc(0), partition: 0, blockOffset: 0n })
  })

  it('takes a drifted row apart: no value, its payload and fingerprint', () => {
    const drift = Buffer.concat([Buffer.from('0500000000000000', 'hex'), Buffer.from([7, 7])])
    const [parsed] = parseProtobufRows(out({ ...row, v2: undefined, drift }), 'shop.orders', true)
    expect(parsed).toMatchObject({ value: undefined, payload: Buffer.from([7, 7]), fingerprint: '5', key: undefined })
  })

  it('fails on a truncated response', () => {
    const bytes = out(row)
    expect(() => parseProtobufRows(bytes.subarray(0, bytes.length - 2), 'shop.orders', true)).toThrow(RowBinaryFault)
  })
})
