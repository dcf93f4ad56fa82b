import { describe, expect, it } from 'vitest'
import { readSnapshots } from '../../engine/snapshot/snapshot-registry.js'
import { startEngine } from '../../engine/start-engine.js'
import { readPublished } from '../consumers/librdkafka.js'
import { otherConnection, rows } from '../helpers/clickhouse.js'
import { insertContinuously } from '../helpers/concurrent-inserts.js'
import { engineFixture, testLogger, waitFor } from '../helpers/engine.js'
import { expectEveryRowOnce, expectReadBeforeInsertPerKey } from './checks.js'

/**
 * The initial snapshot (snapshot: initial, the default) with INSERTs running throughout — before the engine starts,
 * while the snapshot is copied, settled and published, and after — on two connections of their own, each INSERT
 * several blocks long. Read back read_committed by librdkafka and compared with the source table: every row exactly
 * once, the rows that predate capture as op read, and for a key its read rows before its inserted ones.
 */
describe('initial snapshot', () => {
  it('publishes every row of the table exactly once, snapshot rows before a key’s later changes, with INSERTs running', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [], key: ['k'] }], { batchMaxRows: 2_000 })
    const table = `${f.sourceDb}.t`
    await f.client.command({
      query: `CREATE TABLE ${table} (id UInt64, k UInt32, v String) ENGINE = MergeTree ORDER BY id`,
    })
    const before = 40_000
    await f.client.command({
      query: `INSERT INTO ${table} SELECT number, number % 50, concat('v', toString(number)) FROM numbers(${before})`,
    })
    await f.migrate()

    let nextId = 1_000_000
    const inserts = insertContinuously([await otherConnection(), await otherConnection()], async (client, n) => {
      const count = 1 + ((n * 7919) % 2000)
      const start = nextId
      nextId += count
      await client.command({
        query: `INSERT INTO ${table} SELECT number, number % 50, concat('v', toString(number)) FROM numbers(${start}, ${count})
                SETTINGS max_block_size = 300, max_insert_block_size = 300, min_insert_block_size_rows = 300`,
      })
    })
    try {
      await waitFor('INSERTs before the engine starts', () => inserts.count() > 5)
      const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
      await waitFor(
        'the initial snapshot published',
        async () => (await readSnapshots(f.client, f.database, f.config.engine.id)).some((s) => s.status === 'done'),
        60_000,
      )
      await new Promise((r) => setTimeout(r, 500))
      const during = await inserts.stop()
      const [total] = await rows<{ n: string }>(f.client, `SELECT count() AS n FROM ${table}`)
      const sourceRows = Number(total?.n)
      await waitFor(`${sourceRows} rows published`, () => engine.status().rowsPublished === BigInt(sourceRows), 60_000)
      expect((await engine.stop()).reason).toBe('stopped')
      const [snapshot] = await readSnapshots(f.client, f.database, f.config.engine.id)
      expect(snapshot).toMatchObject({ kind: 'initial', status: 'done', rows: before })
      expect(during).toBeGreaterThan(10)

      const published = await readPublished(f.kafkaBootstrap, f.topic('t'), sourceRows, f.schemasDir)
      const ids = await rows<{ id: string }>(f.client, `SELECT toString(id) AS id FROM ${table}`)
      expectEveryRowOnce(
        published.map((m) => String(m.row.id)),
        ids.map((r) => r.id),
      )
      expect(
        published
          .filter((m) => m.op === 'OP_READ')
          .map((m) => Number(m.row.id))
          .sort((a, b) => a - b),
      ).toEqual(Array.from({ length: before }, (_, i) => i))
      expectReadBeforeInsertPerKey(published)
    } finally {
      await inserts.stop().catch(() => {})
    }
  })
})
