import { describe, expect, it } from 'vitest'
import { rows, testClickHouse, testDatabase } from '../helpers/clickhouse.js'
import { uniqueName } from '../helpers/names.js'

interface ChangelogRow {
  id: string
  block: string
  offset: string
  part: string
}

describe('ClickHouse (embedded chDB, or CLICKHOUSE_URL)', () => {
  it('keeps _block_number and _block_offset of materialized-view rows across a merge', async () => {
    const ch = await testClickHouse()
    const db = await testDatabase(ch, uniqueName('smoke_blocks'))
    await ch.command({ query: `CREATE TABLE ${db}.src (id UInt64, name String) ENGINE = MergeTree ORDER BY id` })
    await ch.command({
      query: `CREATE TABLE ${db}.changelog (id UInt64, payload String) ENGINE = MergeTree ORDER BY tuple()
              SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1`,
    })
    await ch.command({
      query: `CREATE MATERIALIZED VIEW ${db}.capture TO ${db}.changelog AS
              SELECT id, formatRow('RowBinary', id, name) AS payload FROM ${db}.src`,
    })
    // Three INSERTs: three blocks, the first with three rows.
    for (const batch of [[1, 2, 3], [4], [5, 6]]) {
      await ch.insert({
        table: `${db}.src`,
        values: batch.map((id) => ({ id, name: `n${id}` })),
        format: 'JSONEachRow',
      })
    }
    const query = `SELECT id, _block_number AS block, _block_offset AS offset, _part AS part
                   FROM ${db}.changelog ORDER BY block, offset`
    const before = await rows<ChangelogRow>(ch, query)
    expect(new Set(before.map((r) => r.part)).size).toBe(3)
    expect(before.map((r) => [Number(r.id), Number(r.block), Number(r.offset)])).toEqual([
      [1, 1, 0],
      [2, 1, 1],
      [3, 1, 2],
      [4, 2, 0],
      [5, 3, 0],
      [6, 3, 1],
    ])

    await ch.command({ query: `OPTIMIZE TABLE ${db}.changelog FINAL` })
    const after = await rows<ChangelogRow>(ch, query)
    expect(new Set(after.map((r) => r.part)).size).toBe(1) // merged into one part…
    expect(after.map(({ id, block, offset }) => ({ id, block, offset }))).toEqual(
      before.map(({ id, block, offset }) => ({ id, block, offset })), // …and every row kept its identity
    )
  })
})
