import { describe, expect, it } from 'vitest'
import { liveCapture } from '../../engine/diff/live-capture.js'
import { settle } from '../../engine/diff/settle.js'
import { copySource, createStageSql, sourceHashesSql, stageExtent } from '../../engine/diff/stage-table.js'
import { captureFixture } from '../helpers/capture.js'
import { otherConnection, rows } from '../helpers/clickhouse.js'
import { insertContinuously } from '../helpers/concurrent-inserts.js'

/**
 * The settled diff (engine/diff/settle.ts) while INSERTs run on two other connections, each INSERT several blocks
 * long (so its source and changelog parts commit at different moments), some of its rows identical to rows the
 * table held before capture. The stage must end up holding exactly the rows the changelog lacks, as a multiset.
 */
describe('the settled diff of a source and its changelog', () => {
  it('leaves exactly the uncaptured rows while multi-block INSERTs with duplicate rows run', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    const table = `${f.sourceDb}.t`
    await f.client.command({
      query: `CREATE TABLE ${table} (id UInt64, k UInt32, v String) ENGINE = MergeTree ORDER BY id`,
    })
    // Before capture: 20,000 rows, and rows 0..99 three times more (identical rows).
    await f.client.command({
      query: `INSERT INTO ${table} SELECT number, number % 7, concat('v', toString(number)) FROM numbers(20000)`,
    })
    for (let i = 0; i < 3; i++)
      await f.client.command({
        query: `INSERT INTO ${table} SELECT number, number % 7, concat('v', toString(number)) FROM numbers(100)`,
      })
    await f.migrate()

    const connections = [await otherConnection(), await otherConnection()]
    let nextId = 1_000_000
    const inserts = insertContinuously(connections, async (client, n) => {
      const count = 1 + ((n * 7919) % 3000)
      const start = nextId
      nextId += count
      // New rows, plus (every other INSERT) copies of rows the table held before capture, in blocks of 300.
      const copies =
        n % 2 === 0
          ? ` UNION ALL SELECT number, number % 7, concat('v', toString(number)) FROM numbers(${n % 100}, 5)`
          : ''
      await client.command({
        query: `INSERT INTO ${table} SELECT * FROM (SELECT number, number % 7, concat('v', toString(number)) FROM numbers(${start}, ${count})${copies})
                SETTINGS max_block_size = 300, max_insert_block_size = 300, min_insert_block_size_rows = 300`,
      })
    })
    try {
      await waitUntil(() => inserts.count() > 5)
      const capture = await liveCapture(f.client, f.database, f.config.capture.sources[0] as never)
      const stage = 'stage_test'
      for (const sql of createStageSql(f.database, stage, capture.changelog)) await f.client.command({ query: sql })
      const window = await copySource(f.client, f.database, stage, capture.spec)
      const notes: string[] = []
      const result = await settle({
        client: f.client,
        database: f.database,
        source: table,
        changelog: capture.changelog,
        stage,
        window,
        versions: capture.versions,
        latest: capture.latest,
        withDefault: capture.withDefault,
        sourceHashes: sourceHashesSql(capture.spec),
        note: (line) => notes.push(line),
        bucketRows: 5_000,
      })
      const during = inserts.count()
      await inserts.stop()
      process.stderr.write(`settle: ${JSON.stringify(result)}, ${during} INSERTs meanwhile; ${notes.join('; ')}\n`)
      expect(during).toBeGreaterThan(10)

      // Now that nothing runs: source = changelog + stage, row for row (as a multiset).
      const cl = `${f.database}.${capture.changelog}`
      const st = `${f.database}.${stage}`
      const [balance] = await rows<{ off: string; stage: string }>(
        f.client,
        `SELECT sum(abs(d)) AS off, (SELECT count() FROM ${st}) AS stage FROM (
           SELECT id, k, v, sum(s) AS d FROM (
             SELECT id, k, v, 1 AS s FROM ${table}
             UNION ALL SELECT id, k, v, -1 FROM ${cl}
             UNION ALL SELECT id, k, v, -1 FROM ${st})
           GROUP BY id, k, v)`,
      )
      expect(Number(balance?.off)).toBe(0)
      // Every row the table held before capture, and no other.
      expect(Number(balance?.stage)).toBe(20_300)
      expect((await stageExtent(f.client, f.database, stage)).rows).toBe(20_300)
      expect(result.captured).toBeGreaterThan(0)
    } finally {
      await inserts.stop().catch(() => {})
    }
  })
})

async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}
