import { describe, expect, it } from 'vitest'
import { CaptureError, ConfigError } from '../../engine/errors.js'
import { startEngine } from '../../engine/start-engine.js'
import { captureFixture } from '../helpers/capture.js'
import { rows } from '../helpers/clickhouse.js'
import { type ConsumedMessage, engineFixture, readTopic, testLogger, waitFor } from '../helpers/engine.js'

/** The JSON envelope's row of a message (engine.format json). */
const rowOf = (m: ConsumedMessage) => (JSON.parse(m.value.toString('utf8')) as { row: Record<string, unknown> }).row

/** Keys in the order a partition holds them, per key: the row field `field` of each message. */
function perKey(
  messages: ConsumedMessage[],
  field: string,
): Map<string, { partitions: Set<number>; values: unknown[] }> {
  const out = new Map<string, { partitions: Set<number>; values: unknown[] }>()
  for (const m of [...messages].sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset))) {
    const entry = out.get(m.key ?? '') ?? { partitions: new Set(), values: [] }
    entry.partitions.add(m.partition)
    entry.values.push(rowOf(m)[field])
    out.set(m.key ?? '', entry)
  }
  return out
}

describe('message keys by source engine', () => {
  it('keys Replacing rows by their sorting key, sends MergeTree rows without a key to partition 0 with a warning, and honours a configured key', async () => {
    const f = await engineFixture(
      (db) => [
        { table: `${db}.events`, exclude: [] },
        { table: `${db}.users`, exclude: [] },
        { table: `${db}.clicks`, exclude: [], key: ['user_id'] },
      ],
      { format: 'json' },
      { partitions: 3 },
    )
    const db = f.sourceDb
    for (const ddl of [
      `CREATE TABLE ${db}.events (user_id UInt32, id UInt64) ENGINE = MergeTree ORDER BY (user_id, id)`,
      `CREATE TABLE ${db}.users (tenant String, id UInt64, ver UInt32) ENGINE = ReplacingMergeTree(ver) ORDER BY (tenant, id)`,
      `CREATE TABLE ${db}.clicks (user_id UInt32, id UInt64) ENGINE = MergeTree ORDER BY (user_id, id)`,
    ])
      await f.client.command({ query: ddl })
    const log: string[] = []
    const result = await f.migrate({ log: (line) => log.push(line) })
    expect(result.ok).toBe(true)
    const warning =
      `${db}.events: no message key — a MergeTree row has no identity tailhouse can key by, so its messages go ` +
      'without a key to partition 0, all in changelog order (one consumer per source; a compacted topic refuses ' +
      'them). To spread them over partitions, in order per key, set capture.sources[0].key to the column(s) that ' +
      'identify what a row is about, e.g. key: [customer_id]'
    expect(result.warnings).toEqual([warning])
    expect(log).toContain(`warning: ${warning}`)
    expect(log).toContain(`${db}.users: message key [tenant, id] (the sorting key of its ReplacingMergeTree)`)
    expect(log).toContain(`${db}.clicks: message key [user_id] (configured)`)

    // Rows of a few keys, interleaved over several INSERTs, so per-key order is something to check.
    for (let i = 0; i < 4; i++) {
      const ids = [0, 1, 2, 3, 4].map((u) => i * 5 + u)
      await f.client.command({ query: `INSERT INTO ${db}.events VALUES ${ids.map((id) => `(${id % 3}, ${id})`)}` })
      await f.client.command({ query: `INSERT INTO ${db}.clicks VALUES ${ids.map((id) => `(${id % 3}, ${id})`)}` })
      await f.client.command({
        query: `INSERT INTO ${db}.users VALUES ('t1', 1, ${i}), ('t1', 2, ${i}), ('t2', 1, ${i}), ('t"3', 1, ${i})`,
      })
    }
    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor('56 rows published', () => engine.status().rowsPublished === 56n)
    expect((await engine.stop()).reason).toBe('stopped')

    // MergeTree without a key: no key, every message in partition 0, in insert order.
    const events = await readTopic(f.kafkaBootstrap, f.topic('events'))
    expect(events.map((m) => [m.key, m.partition])).toEqual(Array.from({ length: 20 }, () => [undefined, 0]))
    expect(events.map((m) => Number(rowOf(m).id))).toEqual(Array.from({ length: 20 }, (_, i) => i))

    // ReplacingMergeTree: the sorting key (tenant, id) as a JSON array of texts; each key's versions in one
    // partition, in the order they were written.
    const users = perKey(await readTopic(f.kafkaBootstrap, f.topic('users')), 'ver')
    expect([...users.keys()].sort()).toEqual(['["t1","1"]', '["t1","2"]', '["t2","1"]', '["t\\"3","1"]'])
    for (const [key, { partitions, values }] of users) {
      expect(partitions.size, key).toBe(1)
      expect(values, key).toEqual([0, 1, 2, 3])
    }

    // A configured key wins over the sorting key: one key per user, its rows in insert order.
    const clicks = perKey(await readTopic(f.kafkaBootstrap, f.topic('clicks')), 'id')
    expect([...clicks.keys()].sort()).toEqual(['0', '1', '2'])
    for (const [key, { partitions, values }] of clicks) {
      expect(partitions.size, key).toBe(1)
      expect(values.map(Number), key).toEqual([...values.map(Number)].sort((a, b) => a - b))
    }
  })

  it('refuses, before installing anything, a configured key column the source lacks', async () => {
    const f = await captureFixture((db) => [
      { table: `${db}.ok`, exclude: [] },
      { table: `${db}.t`, exclude: [], key: ['id', 'account_id'] },
    ])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.ok (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    const error = await f.migrate().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).message).toBe(`capture.sources[1].key: ${f.sourceDb}.t: has no column "account_id"`)
    // Nothing installed: not even the registry, let alone a changelog of the good source.
    expect(await rows(f.client, `SELECT name FROM system.tables WHERE database = '${f.database}'`)).toEqual([])
  })

  it('refuses a Replacing source whose sorting key column is excluded: it is the row identity', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: ['tenant'] }])
    await f.client.command({
      query: `CREATE TABLE ${f.sourceDb}.t (tenant String, id UInt64) ENGINE = ReplacingMergeTree ORDER BY (tenant, id)`,
    })
    const error = await f.migrate().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CaptureError)
    expect((error as CaptureError).message).toBe(
      `${f.sourceDb}.t: key column "tenant" is not captured (excluded, ALIAS or EPHEMERAL); it is in the sorting key ` +
        "of this ReplacingMergeTree, the row's identity and so the message key: capture it, or set " +
        'capture.sources[0].key',
    )
  })
})
