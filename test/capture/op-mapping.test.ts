import { describe, expect, it } from 'vitest'
import { opExpression } from '../../engine/capture/op-mapping.js'
import { engineArguments, type SourceTable } from '../../engine/capture/source-table.js'
import { CaptureError } from '../../engine/errors.js'

function table(engine: string, engineFull: string): SourceTable {
  return {
    database: 'shop',
    table: 'orders',
    source: 'shop.orders',
    engine,
    engineArgs: engineArguments(engineFull),
    sortingKey: 'id',
    columns: [],
  }
}

describe('op mapping by source engine', () => {
  it.each([
    ['MergeTree', 'MergeTree ORDER BY id SETTINGS index_granularity = 8192', "'insert'"],
    [
      'ReplicatedMergeTree',
      "ReplicatedMergeTree('/clickhouse/tables/{shard}/shop/orders', '{replica}') ORDER BY id",
      "'insert'",
    ],
    ['ReplacingMergeTree', 'ReplacingMergeTree(ver, is_deleted) ORDER BY id', "if(is_deleted = 1, 'delete', 'upsert')"],
    ['ReplacingMergeTree', 'ReplacingMergeTree(ver) ORDER BY id', "'upsert'"],
    ['ReplacingMergeTree', 'ReplacingMergeTree ORDER BY id', "'upsert'"],
    [
      'ReplicatedReplacingMergeTree',
      "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/shop/orders', '{replica}', ver, is_deleted) ORDER BY id",
      "if(is_deleted = 1, 'delete', 'upsert')",
    ],
    ['CollapsingMergeTree', 'CollapsingMergeTree(sign) ORDER BY id', "if(sign = 1, 'upsert', 'retract')"],
    [
      'VersionedCollapsingMergeTree',
      'VersionedCollapsingMergeTree(sign, ver) ORDER BY id',
      "if(sign = 1, 'upsert', 'retract')",
    ],
    [
      'ReplicatedVersionedCollapsingMergeTree',
      "ReplicatedVersionedCollapsingMergeTree('/p', '{replica}', s, v) ORDER BY id",
      "if(s = 1, 'upsert', 'retract')",
    ],
    ['Null', 'Null', "'insert'"],
  ])('%s (%s) → %s', (engine, engineFull, expected) => {
    expect(opExpression(table(engine, engineFull))).toBe(expected)
  })

  it('refuses a Distributed table and names the shard-local table to capture instead', () => {
    const distributed = table('Distributed', "Distributed('prod', 'shop', 'orders_local', rand())")
    expect(() => opExpression(distributed)).toThrow(CaptureError)
    expect(() => opExpression(distributed)).toThrow(
      /shop\.orders: is a Distributed table: .*Capture the shard-local table it reads \('shop'\.'orders_local'\) with --cluster/,
    )
  })

  it('parses engine arguments with nesting and quotes', () => {
    expect(engineArguments("ReplacingMergeTree(toUInt64(ver), 'a,b') ORDER BY (id, x)")).toEqual([
      'toUInt64(ver)',
      "'a,b'",
    ])
    expect(engineArguments('MergeTree ORDER BY tuple()')).toEqual([])
  })
})
