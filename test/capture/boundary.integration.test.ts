import { describe, expect, it } from 'vitest'
import { viewName } from '../../engine/capture/capture-view.js'
import { captureFixture } from '../helpers/capture.js'
import { rows } from '../helpers/clickhouse.js'

/**
 * The capture boundary (ARCHITECTURE.md, "Capture"): a view is not atomic with its source, so an INSERT cut off
 * between the source's write and the view's leaves rows capture never saw. Here the cut is made by detaching the view
 * for one INSERT. The contract — the source deduplicates, INSERTs carry their own insert_deduplication_token, an
 * unacknowledged INSERT is retried with it — brings those rows to the changelog exactly once.
 */
describe('the capture boundary', () => {
  it('a retried INSERT reaches the changelog exactly once, however many INSERTs came in between', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    const table = `${f.sourceDb}.t`
    await f.client.command({
      query: `CREATE TABLE ${table} (id UInt64, v String) ENGINE = MergeTree ORDER BY id
              SETTINGS non_replicated_deduplication_window = 1000`,
    })
    const migrated = await f.migrate()
    expect(migrated.deduplication).toEqual([expect.objectContaining({ source: table, deduplicates: true })])
    const insert = (ids: number[], token?: string) =>
      f.client.insert({
        table,
        values: ids.map((id) => ({ id, v: `v${id}` })),
        format: 'JSONEachRow',
        clickhouse_settings: token ? { insert_deduplication_token: token } : {},
      })

    // An INSERT that fully succeeded, retried (the app never saw the acknowledgement): nothing twice.
    await insert([1, 2, 3], 'app-insert-1')
    await insert([1, 2, 3], 'app-insert-1')
    // An INSERT cut off after the source's write, before the view's: the source has the rows, capture does not.
    const view = `${f.database}.${viewName({ database: f.sourceDb, table: 't' })}`
    await f.client.command({ query: `DETACH TABLE ${view}` })
    await insert([4, 5], 'app-insert-2')
    await f.client.command({ query: `ATTACH TABLE ${view}` })
    expect((await f.changelog()).map((r) => r.row.id)).toEqual([1n, 2n, 3n])
    // Other INSERTs meanwhile (a retry may come much later; the changelog has no partition it could miss).
    for (let i = 0; i < 20; i++) await insert([100 + i], `other-${i}`)
    // The retry after the application restarted: the source skips its rows, the view writes the missing ones.
    await insert([4, 5], 'app-insert-2')
    await insert([4, 5], 'app-insert-2')

    const captured = (await f.changelog()).map((r) => Number(r.row.id)).sort((a, b) => a - b)
    expect(captured).toEqual([1, 2, 3, 4, 5, ...Array.from({ length: 20 }, (_, i) => 100 + i)])
    const [source] = await rows<{ n: string }>(f.client, `SELECT count() AS n FROM ${table}`)
    expect(Number(source?.n)).toBe(25)
    const [changelog] = await rows<{ partition_key: string }>(
      f.client,
      `SELECT partition_key FROM system.tables WHERE database = '${f.database}' AND name = 'changelog_${f.sourceDb}__t'`,
    )
    expect(changelog?.partition_key).toBe('')
  })

  it('reports a source that does not deduplicate, and gives it a window when asked', async () => {
    const f = await captureFixture((db) => [
      { table: `${db}.plain`, exclude: [] },
      { table: `${db}.mem`, exclude: [] },
    ])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.plain (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.mem (id UInt64) ENGINE = Memory` })
    const lines: string[] = []
    const first = await f.migrate({ log: (line) => lines.push(line) })
    expect(first.deduplication.map((d) => [d.source, d.deduplicates])).toEqual([
      [`${f.sourceDb}.plain`, false],
      [`${f.sourceDb}.mem`, false],
    ])
    expect(lines).toContain(
      `warning: ${f.sourceDb}.plain does not deduplicate retried INSERTs (MergeTree with non_replicated_deduplication_window = 0): ` +
        `ALTER TABLE \`${f.sourceDb}\`.\`plain\` MODIFY SETTING non_replicated_deduplication_window = 1000 (or tailhouse migrate ` +
        '--set-dedup-window), so that a retried INSERT with the same insert_deduplication_token is written to the table once, as capture records it once',
    )
    expect(
      lines.some((l) => l.startsWith(`warning: ${f.sourceDb}.mem does not deduplicate retried INSERTs (Memory cannot`)),
    ).toBe(true)

    const second = await f.migrate({ setDedupWindow: 500 })
    expect(second.deduplication.map((d) => [d.source, d.deduplicates, d.detail])).toEqual([
      [`${f.sourceDb}.plain`, true, 'MergeTree with non_replicated_deduplication_window = 500'],
      [`${f.sourceDb}.mem`, false, 'Memory cannot deduplicate INSERTs'],
    ])
  })
})
