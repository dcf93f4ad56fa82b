import { describe, expect, it } from 'vitest'
import { engineArguments, type SourceTable } from '../../engine/capture/source-table.js'
import { enableBlockColumnsSql, serverHasStream, streamEngineProblem } from '../../engine/capture/stream-capture.js'

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

describe('stream mode: what a server and a source need', () => {
  it.each([
    ['26.7.2.1', true, true],
    ['26.6.1.1', true, true],
    ['27.1.1.1', true, true],
    ['26.5.3.1', true, false],
    ['25.12.1.1', true, false],
    // A build without the setting (an unofficial or cut-down one) cannot serve it whatever its version says.
    ['26.7.2.1', false, false],
  ])('ClickHouse %s (setting present: %s) serves SELECT … STREAM: %s', (version, hasSetting, expected) => {
    expect(serverHasStream(version, hasSetting)).toBe(expected)
  })

  it.each([
    ['MergeTree', 'MergeTree ORDER BY id'],
    ['ReplicatedMergeTree', "ReplicatedMergeTree('/t/{shard}', '{replica}') ORDER BY id"],
    ['ReplacingMergeTree', 'ReplacingMergeTree(ver, is_deleted) ORDER BY id'],
    ['ReplicatedReplacingMergeTree', "ReplicatedReplacingMergeTree('/t/{shard}', '{replica}', ver) ORDER BY id"],
  ])('accepts %s', (engine, full) => {
    expect(streamEngineProblem(table(engine, full))).toBeUndefined()
  })

  it.each([
    ['SummingMergeTree', /first row of their key/],
    ['ReplicatedSummingMergeTree', /first row of their key/],
    ['CollapsingMergeTree', /cancels a −1 row/],
    ['VersionedCollapsingMergeTree', /cancels a −1 row/],
    ['GraphiteMergeTree', /MergeTree and ReplacingMergeTree tables only/],
    ['Null', /a Null table has none/],
    ['Memory', /a Memory table has none/],
  ])('refuses %s, with the reason and mode: view as the way out', (engine, reason) => {
    const problem = streamEngineProblem(table(engine, `${engine} ORDER BY id`))
    expect(problem).toMatch(reason)
    expect(problem).toMatch(/Capture it with mode: view$/)
  })

  it('turns both block columns on in one ALTER, ON CLUSTER when asked', () => {
    expect(enableBlockColumnsSql(table('MergeTree', ''), undefined)).toBe(
      'ALTER TABLE `shop`.`orders` MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1',
    )
    expect(enableBlockColumnsSql(table('MergeTree', ''), 'prod')).toMatch(
      /^ALTER TABLE `shop`.`orders` ON CLUSTER `prod` MODIFY/,
    )
  })
})
