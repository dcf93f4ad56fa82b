import { describe, expect, it } from 'vitest'
import { CaptureError } from '../../engine/errors.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import type { ChangelogRow } from '../../engine/source/changelog-wire.js'
import type { Cursor } from '../../engine/source/cursor.js'
import { afterCursorSql, readHorizon, streamCursorClause, streamQuery } from '../../engine/source/stream-query.js'
import { checkRows } from '../../engine/source/stream-read.js'

const at = (blockNumber: bigint, blockOffset: bigint) => ({ blockNumber, blockOffset })

describe('stream-mode reads', () => {
  it("names the cursor's partitions of the source, and nothing for a source it has not read", () => {
    const cursor: Cursor = new Map([
      ['shop.orders/202401', at(12n, 3n)],
      ["shop.orders/it's", at(1n, 0n)],
      ['shop.other/all', at(9n, 9n)],
    ])
    expect(streamCursorClause(cursor, 'shop.orders')).toBe(
      "CURSOR {'202401': {'block_number': 12, 'block_offset': 3}, 'it\\'s': {'block_number': 1, 'block_offset': 0}}",
    )
    expect(streamCursorClause(cursor, 'shop.new')).toBe('')
  })

  it('writes the cursor condition as literals: past the position in known partitions, all rows of others', () => {
    const cursor: Cursor = new Map([
      ['shop.orders/202401', at(12n, 3n)],
      ['shop.orders/202402', at(15n, 0n)],
      ['shop.other/all', at(9n, 9n)],
    ])
    expect(afterCursorSql(cursor, 'shop.orders')).toBe(
      "((_partition_id = '202401' AND (_block_number, _block_offset) > (12, 3)) OR " +
        "(_partition_id = '202402' AND (_block_number, _block_offset) > (15, 0)) OR " +
        "_partition_id NOT IN ('202401', '202402'))",
    )
    expect(afterCursorSql(cursor, 'shop.new')).toBe('1')
  })

  it('counts only as far as the first parts after the cursor reach enough rows', () => {
    const parts = [
      { partition_id: 'a', max_block: '10', rows: '1000' }, // wholly before the cursor in a
      { partition_id: 'a', max_block: '20', rows: '600' }, // the cursor is inside it
      { partition_id: 'b', max_block: '25', rows: '300' }, // a partition the cursor has not seen
      { partition_id: 'a', max_block: '40', rows: '5000' },
      { partition_id: 'b', max_block: '41', rows: '10' },
    ]
    const cursor: Cursor = new Map([['s.t/a', at(20n, 100n)]])
    expect(readHorizon(parts, cursor, 's.t', 500)).toEqual({ horizon: 20n, all: false })
    expect(readHorizon(parts, cursor, 's.t', 900)).toEqual({ horizon: 25n, all: false })
    expect(readHorizon(parts, cursor, 's.t', 1000)).toEqual({ horizon: 40n, all: false })
    expect(readHorizon(parts, cursor, 's.t', 10_000)).toEqual({ horizon: 41n, all: true })
    expect(readHorizon([], cursor, 's.t', 10)).toEqual({ horizon: 0n, all: true })
  })

  it('reads the table with STREAM, bounded by LIMIT, the bound position and a breaking timeout, the types guarded', () => {
    const columns = [
      { ...toCapturedColumn('shop.orders', 'id', 'UInt64'), column: 'id' },
      { ...toCapturedColumn('shop.orders', 'attrs', 'JSON'), column: 'attrs' },
    ]
    const query = streamQuery({
      source: 'shop.orders',
      version: {
        version: 3,
        columns,
        fieldNumbers: { id: 1, attrs: 2 },
        keyColumns: ['id'],
        opExpression: "if(is_deleted = 1, 'delete', 'upsert')",
        fingerprint: '42',
      },
      encoding: 'rowbinary',
      protobuf: { timestamps: 'timestamp', enums: 'enum' },
      readTimeoutMs: 2000,
    })
    expect(query.versions).toEqual(new Set([3]))
    expect(query.keyed).toBe(true)
    expect(query.sql).toContain('FROM `shop`.`orders` AS __source STREAM {stream_cursor}')
    expect(query.sql).toContain('(_block_number, _block_offset) <= ({bb:UInt64}, {bo:UInt64})')
    expect(query.sql).toMatch(
      /throwIf\(cityHash64\(toTypeName\(__source.`id`\), toTypeName\(__source.`attrs`\)\) != 42, /,
    )
    expect(query.sql).toContain("CAST(if(is_deleted = 1, 'delete', 'upsert'), 'Enum8(")
    expect(query.sql).toContain("ifNull(toJSONString(__source.`attrs`), 'null') AS `attrs`")
    expect(query.sql).toMatch(
      /enable_streaming_queries = 1, max_execution_time = 2\.000, timeout_overflow_mode = 'break', enable_parallel_replicas = 0$/,
    )
    // The outer query sorts; the inner one takes LIMIT rows. No changelog table, no watermark.
    expect(query.sql).not.toContain('changelog_')
    expect(query.sql).not.toContain('{watermark}')
    expect(query.sql.match(/LIMIT \{limit:UInt32\}/g)).toHaveLength(2)
  })
})

describe('checkRows: what the engine relies on in a STREAM read', () => {
  const row = (partitionId: string, blockNumber: bigint, blockOffset: bigint) =>
    ({ stream: `shop.orders/${partitionId}`, partitionId, blockNumber, blockOffset }) as ChangelogRow
  const cursor: Cursor = new Map([['shop.orders/all', at(5n, 2n)]])

  it('accepts rows after the cursor and up to the bound, each once; a partition the cursor lacks from its start', () => {
    expect(() =>
      checkRows('shop.orders', cursor, at(9n, 0n), [row('all', 5n, 3n), row('all', 9n, 0n), row('p2', 0n, 0n)]),
    ).not.toThrow()
  })

  it.each([
    [
      'at the cursor',
      [row('all', 5n, 2n)],
      /returned row shop.orders\/all:5:2 not after the cursor shop.orders\/all:5:2/,
    ],
    ['before the cursor', [row('all', 4n, 9n)], /not after the cursor/],
    ['past the bound', [row('all', 9n, 1n)], /row shop.orders\/all:9:1 after the read's bound 9:0/],
    ['twice', [row('all', 6n, 0n), row('all', 6n, 0n)], /returned row shop.orders\/all:6:0 twice/],
  ])('refuses a row %s: nothing of the read is published', (_, rows, message) => {
    const check = () => checkRows('shop.orders', cursor, at(9n, 0n), rows)
    expect(check).toThrow(CaptureError)
    expect(check).toThrow(message)
    expect(check).toThrow(/capture this source with mode: view/)
  })
})
