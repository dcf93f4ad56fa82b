import { describe, expect, it } from 'vitest'
import type { Logger } from '../../engine/log.js'
import { readSnapshots } from '../../engine/snapshot/snapshot-registry.js'
import { startEngine } from '../../engine/start-engine.js'
import { readPublished } from '../consumers/librdkafka.js'
import { rows } from '../helpers/clickhouse.js'
import { engineFixture, waitFor } from '../helpers/engine.js'
import { expectEveryRowOnce, expectReadBeforeInsertPerKey } from './checks.js'

/** A logger that keeps the lines, for the tests that wait for what the engine says. */
function keptLog(): Logger & { lines: string[] } {
  const lines: string[] = []
  return { lines, log: (level, message) => lines.push(`${level} ${message}`) }
}

/**
 * Schema changes during a snapshot. While it is published (throttled), a column is added and migrated: the snapshot's
 * rows keep the schema version they were copied with, rows inserted after carry the new one, every row once. Before
 * it is built, a column's type changes and migrate has not run: the engine says so and retries, and once migrate
 * ran the snapshot is built in the new version.
 */
describe('snapshot and schema changes', () => {
  it('a column added and migrated while the snapshot is published: its rows stay at their version, every row once', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [], key: ['k'] }], {
      snapshotRowsPerSecond: 10_000,
    })
    const table = `${f.sourceDb}.t`
    await f.client.command({
      query: `CREATE TABLE ${table} (id UInt64, k UInt32, v String) ENGINE = MergeTree ORDER BY id`,
    })
    const before = 20_000
    await f.client.command({
      query: `INSERT INTO ${table} SELECT number, number % 10, toString(number) FROM numbers(${before})`,
    })
    await f.migrate()
    const engine = await startEngine({ config: f.config, client: f.client, logger: keptLog() })
    await waitFor('snapshot rows published', () => engine.status().rowsPublished > 3_000n)

    await f.client.command({ query: `ALTER TABLE ${table} ADD COLUMN extra String DEFAULT 'old'` })
    const migrated = await f.migrate()
    expect(migrated.sources[0]).toMatchObject({ action: 'evolved', version: 2 })
    await f.client.command({
      query: `INSERT INTO ${table} (id, k, v, extra) SELECT number, number % 10, toString(number), 'new' FROM numbers(${before}, 1000)`,
    })
    const [snapshot] = await readSnapshots(f.client, f.database, f.config.engine.id)
    expect(snapshot?.status, 'the snapshot is still being published').toBe('publishing')
    await waitFor('every row published', () => engine.status().rowsPublished === BigInt(before + 1000), 30_000)
    expect((await engine.stop()).reason).toBe('stopped')

    const published = await readPublished(f.kafkaBootstrap, f.topic('t'), before + 1000, f.schemasDir)
    const ids = await rows<{ id: string }>(f.client, `SELECT toString(id) AS id FROM ${table}`)
    expectEveryRowOnce(
      published.map((m) => String(m.row.id)),
      ids.map((r) => r.id),
    )
    const read = published.filter((m) => m.op === 'OP_READ')
    expect(read).toHaveLength(before)
    expect(read.filter((m) => m.schemaVersion !== 1 || 'extra' in m.row).slice(0, 2)).toEqual([])
    const live = published.filter((m) => m.op === 'OP_INSERT')
    const text = (bytes: unknown) => Buffer.from(bytes as Uint8Array).toString('utf8')
    expect(live.filter((m) => m.schemaVersion !== 2 || text(m.row.extra) !== 'new').slice(0, 2)).toEqual([])
    expectReadBeforeInsertPerKey(published)
  })

  it('a column type changed before the snapshot is built: the engine waits for migrate, then builds it in the new version', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    const table = `${f.sourceDb}.t`
    await f.client.command({ query: `CREATE TABLE ${table} (id UInt64, n UInt16) ENGINE = MergeTree ORDER BY id` })
    await f.client.command({ query: `INSERT INTO ${table} SELECT number, number FROM numbers(1000)` })
    await f.migrate()
    await f.client.command({ query: `ALTER TABLE ${table} MODIFY COLUMN n UInt32` })
    await f.client.command({ query: `INSERT INTO ${table} VALUES (1000, 70000)` })
    const log = keptLog()
    const engine = await startEngine({ config: f.config, client: f.client, logger: log })
    await waitFor('the engine to say the source changed', () =>
      log.lines.some((l) => l.startsWith('warn') && l.includes('changed since it was captured')),
    )
    expect(engine.status().rowsPublished).toBe(0n)
    expect((await f.migrate()).sources[0]).toMatchObject({ action: 'evolved', version: 2 })
    await waitFor('every row published', () => engine.status().rowsPublished === 1001n, 30_000)
    expect((await engine.stop()).reason).toBe('stopped')

    const published = await readPublished(f.kafkaBootstrap, f.topic('t'), 1001, f.schemasDir)
    expect(published.map((m) => m.op).filter((op) => op !== 'OP_READ')).toEqual(['OP_INSERT'])
    const read = published.filter((m) => m.op === 'OP_READ')
    expect(read.filter((m) => m.schemaVersion !== 2).slice(0, 2)).toEqual([])
    expect(read.map((m) => Number(m.row.id)).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i))
    // The row inserted after the ALTER reached the changelog as a drifted row: published live, with its value intact.
    expect(published.find((m) => m.op === 'OP_INSERT')?.row).toMatchObject({ id: '1000', n: 70000 })
  })
})
