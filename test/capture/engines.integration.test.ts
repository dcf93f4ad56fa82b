import { describe, expect, it } from 'vitest'
import { CaptureError } from '../../engine/errors.js'
import { captureFixture } from '../helpers/capture.js'
import { rows } from '../helpers/clickhouse.js'

describe('capture by source engine', () => {
  it('maps MergeTree to insert, Replacing to upsert/delete, Collapsing and VersionedCollapsing to upsert/retract', async () => {
    const f = await captureFixture((db) => [
      { table: `${db}.plain`, exclude: [] },
      { table: `${db}.replacing`, exclude: [] },
      { table: `${db}.replacing_no_delete`, exclude: [] },
      { table: `${db}.collapsing`, exclude: [] },
      { table: `${db}.versioned`, exclude: [] },
    ])
    const db = f.sourceDb
    for (const ddl of [
      `CREATE TABLE ${db}.plain (id UInt64, name String) ENGINE = MergeTree ORDER BY id`,
      `CREATE TABLE ${db}.replacing (id UInt64, ver UInt32, is_deleted UInt8) ENGINE = ReplacingMergeTree(ver, is_deleted) ORDER BY id`,
      `CREATE TABLE ${db}.replacing_no_delete (id UInt64, ver UInt32) ENGINE = ReplacingMergeTree(ver) ORDER BY id`,
      `CREATE TABLE ${db}.collapsing (id UInt64, sign Int8) ENGINE = CollapsingMergeTree(sign) ORDER BY id`,
      `CREATE TABLE ${db}.versioned (id UInt64, sign Int8, ver UInt32) ENGINE = VersionedCollapsingMergeTree(sign, ver) ORDER BY id`,
    ]) {
      await f.client.command({ query: ddl })
    }
    const result = await f.migrate()
    expect(result.ok).toBe(true)
    expect(result.sources.map((s) => [s.source, s.action, s.version])).toEqual([
      [`${db}.plain`, 'captured', 1],
      [`${db}.replacing`, 'captured', 1],
      [`${db}.replacing_no_delete`, 'captured', 1],
      [`${db}.collapsing`, 'captured', 1],
      [`${db}.versioned`, 'captured', 1],
    ])

    for (const insert of [
      `INSERT INTO ${db}.plain VALUES (1, 'a'), (2, 'b')`,
      `INSERT INTO ${db}.replacing VALUES (1, 1, 0), (1, 2, 1)`,
      `INSERT INTO ${db}.replacing_no_delete VALUES (7, 1)`,
      `INSERT INTO ${db}.collapsing VALUES (1, 1), (1, -1)`,
      `INSERT INTO ${db}.versioned VALUES (1, 1, 1), (1, -1, 1)`,
    ]) {
      await f.client.command({ query: insert })
    }
    const changelog = await f.changelog()
    const ops = (table: string) => changelog.filter((r) => r.source === `${db}.${table}`).map((r) => r.op)
    expect(ops('plain')).toEqual(['insert', 'insert'])
    expect(ops('replacing')).toEqual(['upsert', 'delete'])
    expect(ops('replacing_no_delete')).toEqual(['upsert'])
    expect(ops('collapsing')).toEqual(['upsert', 'retract'])
    expect(ops('versioned')).toEqual(['upsert', 'retract'])
    expect(changelog.filter((r) => r.source === `${db}.plain`).map((r) => r.row)).toEqual([
      { id: 1n, name: Buffer.from('a') },
      { id: 2n, name: Buffer.from('b') },
    ])
    // The INSERT's query id travels with its rows: one INSERT, one id, the same as in system.query_log.
    const plainIds = new Set(changelog.filter((r) => r.source === `${db}.plain`).map((r) => r.queryId))
    expect(plainIds.size).toBe(1)
    expect([...plainIds][0]).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('captures Null, Memory, the Log family and SummingMergeTree as inserts, each without a message key', async () => {
    const engines = ['Null', 'Memory', 'Log', 'TinyLog', 'StripeLog', 'SummingMergeTree ORDER BY id']
    const name = (engine: string) => engine.split(' ')[0]?.toLowerCase() as string
    const f = await captureFixture((db) => engines.map((e) => ({ table: `${db}.${name(e)}`, exclude: [] })))
    const db = f.sourceDb
    for (const engine of engines)
      await f.client.command({ query: `CREATE TABLE ${db}.${name(engine)} (id UInt64, n UInt32) ENGINE = ${engine}` })
    const result = await f.migrate()
    expect(result.ok).toBe(true)
    // None of them gives a row an identity (source/key-choice.ts): migrate warns about each.
    expect(result.warnings.map((w) => w.slice(0, w.indexOf(' —')))).toEqual(
      engines.map((e) => `${db}.${name(e)}: no message key`),
    )
    for (const engine of engines) {
      await f.client.command({ query: `INSERT INTO ${db}.${name(engine)} VALUES (1, 10), (1, 5)` })
    }
    const changelog = await f.changelog()
    for (const engine of engines) {
      const captured = changelog.filter((r) => r.source === `${db}.${name(engine)}`)
      expect(
        captured.map((r) => [r.op, r.row]),
        engine,
      ).toEqual([
        ['insert', { id: 1n, n: 10 }],
        ['insert', { id: 1n, n: 5 }],
      ])
    }
    // The Null table keeps nothing; the changelog has every row it was given.
    expect(await rows(f.client, `SELECT toUInt8(count()) AS n FROM ${db}.null`)).toEqual([{ n: 0 }])
  })

  it.each([
    ['a view', (db: string) => `CREATE VIEW ${db}.t AS SELECT 1 AS id`, /is a View, not a table/],
    [
      'an AggregatingMergeTree',
      (db: string) => `CREATE TABLE ${db}.t (id UInt64) ENGINE = AggregatingMergeTree ORDER BY id`,
      /AggregatingMergeTree: its rows are partial aggregation states/,
    ],
    [
      'a URL engine table',
      (db: string) => `CREATE TABLE ${db}.t (id UInt64) ENGINE = URL('http://127.0.0.1:9/x', CSV)`,
      /has engine URL, which tailhouse cannot capture/,
    ],
  ])('refuses %s with a reason, before installing anything', async (_, ddl, message) => {
    const f = await captureFixture((db) => [
      { table: `${db}.good`, exclude: [] },
      { table: `${db}.t`, exclude: [] },
    ])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.good (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.client.command({ query: ddl(f.sourceDb) })
    const run = f.migrate()
    await expect(run).rejects.toBeInstanceOf(CaptureError)
    await expect(run).rejects.toThrow(message)
    const views = await rows(
      f.client,
      `SELECT name FROM system.tables WHERE database = '${f.database}' AND engine = 'MaterializedView'`,
    )
    expect(views).toEqual([])
  })
})
