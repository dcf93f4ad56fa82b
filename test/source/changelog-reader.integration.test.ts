import { describe, expect, it } from 'vitest'
import { ChangelogReader } from '../../engine/source/changelog-reader.js'
import type { Cursor } from '../../engine/source/cursor.js'
import { captureFixture } from '../helpers/capture.js'

describe('ChangelogReader on embedded ClickHouse', () => {
  it('reads exactly the rows after the cursor, in block order, also from parts merged across the cursor', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    expect((await f.migrate()).ok).toBe(true)
    // Twelve INSERTs of 5 rows: twelve blocks. Merge them into one part, then add two more unmerged blocks.
    for (let i = 0; i < 12; i++)
      await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t SELECT number FROM numbers(${i * 5}, 5)` })
    await f.client.command({ query: `OPTIMIZE TABLE ${f.database}.changelog FINAL` })
    for (let i = 12; i < 14; i++)
      await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t SELECT number FROM numbers(${i * 5}, 5)` })

    const reader = new ChangelogReader(f.client, f.database, 'test')
    const all = await reader.read(new Map(), { limit: 1000 })
    expect(all).toHaveLength(70)
    const blocks = [...new Set(all.map((r) => r.blockNumber))]
    expect(blocks).toEqual([...blocks].sort((a, b) => Number(a - b)))
    expect(blocks).toHaveLength(14)

    // A cursor inside the merged part (block 6 of 12, offset 2) and one at the last merged block: the prune on
    // the part's block range must keep the merged part whenever any of its rows is after the cursor.
    const partition = all[0]?.partitionId as string
    for (const [blockIndex, offset, expected] of [
      [5, 2n, 70 - 5 * 5 - 3],
      [11, 4n, 10],
      [13, 4n, 0],
    ] as const) {
      const cursor: Cursor = new Map([[partition, { blockNumber: blocks[blockIndex] as bigint, blockOffset: offset }]])
      const after = await reader.read(cursor, { limit: 1000 })
      expect(after).toHaveLength(expected)
      expect(await reader.countAfter(cursor)).toBe(expected)
      const expectedIds = all.slice(70 - expected).map((r) => `${r.blockNumber}/${r.blockOffset}`)
      expect(after.map((r) => `${r.blockNumber}/${r.blockOffset}`)).toEqual(expectedIds)
    }
  })
})
