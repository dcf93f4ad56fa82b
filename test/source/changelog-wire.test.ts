import { describe, expect, it } from 'vitest'
import { RowBinaryFault } from '../../engine/encoding/rowbinary-reader.js'
import { parseChangelogRows } from '../../engine/source/changelog-wire.js'

/** One changelog row as ClickHouse writes it in RowBinary, in changelogWireColumns order. */
function wireRow(r: {
  partition: string
  block: bigint
  offset: bigint
  source: string
  op: number
  version: number
  fingerprint: bigint
  queryId: string
  ingestMicros: bigint
  payload: Buffer
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
  const u32 = Buffer.alloc(4)
  u32.writeUInt32LE(r.version)
  const i64 = Buffer.alloc(8)
  i64.writeBigInt64LE(r.ingestMicros)
  return Buffer.concat([
    string(r.partition),
    u64(r.block),
    u64(r.offset),
    string(r.source),
    Buffer.from([r.op]),
    u32,
    u64(r.fingerprint),
    string(r.queryId),
    i64,
    string(r.payload),
  ])
}

const base = {
  partition: '1763949600',
  block: 7n,
  offset: 0n,
  source: 'shop.orders',
  op: 1,
  version: 2,
  fingerprint: 18446744073709551615n,
  queryId: '2f9c8a0e-0000-4000-8000-000000000001',
  ingestMicros: 1763950000123456n,
  payload: Buffer.from([1, 2, 3]),
}

describe('parseChangelogRows', () => {
  it('reads every column, unsigned 64-bit values exactly, payloads as slices of the response', () => {
    const response = Buffer.concat([
      wireRow(base),
      wireRow({ ...base, offset: 1n, op: 3, payload: Buffer.from([9]) }),
      wireRow({ ...base, block: 8n, source: 'shop.refunds', queryId: 'q2', fingerprint: 5n }),
    ])
    const rows = parseChangelogRows(response)
    expect(rows).toHaveLength(3)
    expect(rows[0]).toEqual({
      partitionId: '1763949600',
      blockNumber: 7n,
      blockOffset: 0n,
      source: 'shop.orders',
      op: 'insert',
      schemaVersion: 2,
      fingerprint: '18446744073709551615',
      queryId: base.queryId,
      ingestMicros: 1763950000123456n,
      payload: Buffer.from([1, 2, 3]),
    })
    expect(rows[1]).toMatchObject({ blockOffset: 1n, op: 'delete', payload: Buffer.from([9]) })
    // Repeated strings are reused only while their bytes stay the same.
    expect(rows[2]).toMatchObject({ blockNumber: 8n, source: 'shop.refunds', queryId: 'q2', fingerprint: '5' })
    expect(rows[0]?.payload.buffer).toBe(response.buffer)
  })

  it('returns nothing for an empty response', () => {
    expect(parseChangelogRows(Buffer.alloc(0))).toEqual([])
  })

  it('fails on a truncated response or an unknown op instead of inventing rows', () => {
    const row = wireRow(base)
    expect(() => parseChangelogRows(row.subarray(0, row.length - 1))).toThrow(RowBinaryFault)
    expect(() => parseChangelogRows(wireRow({ ...base, op: 9 }))).toThrow(/unknown op 9/)
  })
})
