import { describe, expect, it } from 'vitest'
import { followSnapshot, requestSnapshot } from '../../engine/snapshot/request-snapshot.js'
import { startEngine } from '../../engine/start-engine.js'
import { type PublishedRow, readPublished } from '../consumers/librdkafka.js'
import { otherConnection, rows } from '../helpers/clickhouse.js'
import { insertContinuously } from '../helpers/concurrent-inserts.js'
import { engineFixture, testLogger, waitFor } from '../helpers/engine.js'
import { expectEveryRowOnce } from './checks.js'

/**
 * `tailhouse snapshot <db.table> --where …` while live capture goes on, INSERTs running on two connections of their
 * own throughout (each row numbered per connection, in that connection's order). Read back read_committed by
 * librdkafka and checked against the source table: live capture publishes every row once; the snapshot publishes,
 * as op read, exactly the rows the condition picks, each once; and per key, every row published before the snapshot
 * is in it, and every row after it that is not in it was inserted after every snapshot row of its connection.
 */
describe('on-demand snapshot', () => {
  it('re-publishes the rows --where picks, each once, before the later changes of their key, while INSERTs go on', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [], key: ['k'], snapshot: 'never' }], {
      batchMaxRows: 1_000,
    })
    const table = `${f.sourceDb}.t`
    await f.client.command({
      query: `CREATE TABLE ${table} (id UInt64, k UInt32, c UInt8, v String) ENGINE = MergeTree ORDER BY id`,
    })
    await f.migrate()
    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })

    // Connection c inserts ids c*10^9 + 1, 2, … in its own order; keys 0..19.
    const next = [1, 1]
    const inserts = insertContinuously([await otherConnection(), await otherConnection()], async (client, n) => {
      const c = n % 2
      const count = 1 + ((n * 7919) % 1500)
      const start = (next[c] as number) + c * 1_000_000_000
      next[c] = (next[c] as number) + count
      await client.command({
        query: `INSERT INTO ${table} SELECT number, number % 20, ${c}, concat('v', toString(number)) FROM numbers(${start}, ${count})
                SETTINGS max_block_size = 300, max_insert_block_size = 300, min_insert_block_size_rows = 300`,
      })
    })
    let snapshotRows = 0
    try {
      await waitFor('live rows published', () => engine.status().rowsPublished > 5_000n, 60_000)
      const record = await requestSnapshot(f.client, f.config, { source: table, where: 'k < 10' })
      const lines: string[] = []
      const done = await followSnapshot(f.client, f.database, record, (line) => lines.push(line), { pollMs: 200 })
      expect(done.status, lines.join('\n')).toBe('done')
      snapshotRows = done.rows
      expect(lines.some((l) => l.startsWith('publishing'))).toBe(true)
      await new Promise((r) => setTimeout(r, 300))
    } finally {
      await inserts.stop()
    }
    const [total] = await rows<{ n: string }>(f.client, `SELECT count() AS n FROM ${table}`)
    const sourceRows = Number(total?.n)
    await waitFor(
      'every row published',
      () => engine.status().rowsPublished === BigInt(sourceRows + snapshotRows),
      60_000,
    )
    expect((await engine.stop()).reason).toBe('stopped')

    const published = await readPublished(f.kafkaBootstrap, f.topic('t'), sourceRows + snapshotRows, f.schemasDir)
    const live = published.filter((m) => m.op === 'OP_INSERT')
    const read = published.filter((m) => m.op === 'OP_READ')
    const ids = await rows<{ id: string }>(f.client, `SELECT toString(id) AS id FROM ${table}`)
    expectEveryRowOnce(
      live.map((m) => String(m.row.id)),
      ids.map((r) => r.id),
    )
    expect(read).toHaveLength(snapshotRows)
    expect(new Set(read.map((m) => String(m.row.id))).size).toBe(snapshotRows)
    expect(read.every((m) => Number(m.row.k) < 10)).toBe(true)
    expect(snapshotRows).toBeGreaterThan(1_000)
    expectSnapshotBetweenChanges(published)
  })
})

/**
 * Per key, in partition order: the key's snapshot (op read) rows are contiguous; every row published before them is
 * among them; a row after them that is not among them came later on its connection than every snapshot row of it.
 */
function expectSnapshotBetweenChanges(published: readonly PublishedRow[]): void {
  const byKey = new Map<string, PublishedRow[]>()
  for (const m of published) byKey.set(m.key ?? '', [...(byKey.get(m.key ?? '') ?? []), m])
  const problems: string[] = []
  for (const [key, messages] of byKey) {
    const first = messages.findIndex((m) => m.op === 'OP_READ')
    if (first < 0) continue
    const last = messages.findLastIndex((m) => m.op === 'OP_READ')
    const snapshot = messages.slice(first, last + 1)
    if (snapshot.some((m) => m.op !== 'OP_READ')) problems.push(`key ${key}: a live row among its snapshot rows`)
    const inSnapshot = new Set(snapshot.map((m) => String(m.row.id)))
    for (const m of messages.slice(0, first))
      if (!inSnapshot.has(String(m.row.id)))
        problems.push(`key ${key}: ${m.row.id} published before, not in the snapshot`)
    const newest = new Map<string, bigint>()
    for (const m of snapshot) {
      const c = String(m.row.c)
      const id = BigInt(String(m.row.id))
      if (id > (newest.get(c) ?? -1n)) newest.set(c, id)
    }
    for (const m of messages.slice(last + 1)) {
      const id = BigInt(String(m.row.id))
      if (!inSnapshot.has(String(id)) && id < (newest.get(String(m.row.c)) ?? -1n))
        problems.push(`key ${key}: ${id} after the snapshot, older than its snapshot rows of connection ${m.row.c}`)
    }
  }
  expect(problems.slice(0, 5)).toEqual([])
}
