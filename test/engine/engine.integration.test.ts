import { describe, expect, it } from 'vitest'
import { startEngine } from '../../engine/start-engine.js'
import { engineFixture, protoTypes, readTopic, testLogger, waitFor } from '../helpers/engine.js'

/** Rows 0..n-1 of a table (id UInt64, account UInt32, amount Int64, note String), `perInsert` rows per INSERT. */
function insertStatements(table: string, from: number, count: number, perInsert: number): string[] {
  const statements: string[] = []
  for (let start = from; start < from + count; start += perInsert) {
    const ids = Array.from({ length: Math.min(perInsert, from + count - start) }, (_, i) => start + i)
    statements.push(
      `INSERT INTO ${table} VALUES ${ids.map((id) => `(${id}, ${id % 7}, ${id * 10 - 500}, 'n${id}')`).join(', ')}`,
    )
  }
  return statements
}

/**
 * The suites that hold for both capture modes run twice: view (a capture view and changelog) and stream (the table
 * read itself with SELECT … STREAM, ARCHITECTURE.md "Stream mode").
 */
describe.each(['view', 'stream'] as const)('engine: changelog to Kafka, mode %s', (mode) => {
  it('publishes every row once, in order per key, across many small batches, and resumes after a restart', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.payments`, exclude: [], key: ['account'], mode }], {
      batchMaxRows: 37,
    })
    const table = `${f.sourceDb}.payments`
    await f.client.command({
      query: `CREATE TABLE ${table} (id UInt64, account UInt32, amount Int64, note String) ENGINE = MergeTree ORDER BY id`,
    })
    await f.migrate()
    for (const sql of insertStatements(table, 0, 600, 25)) await f.client.command({ query: sql })

    const first = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor('600 rows published', () => first.status().rowsPublished === 600n)
    expect((await first.stop()).reason).toBe('stopped')
    expect(first.status().batches).toBeGreaterThanOrEqual(Math.ceil(600 / 37))

    // More rows while the engine is down; a new instance resumes from the committed checkpoint.
    for (const sql of insertStatements(table, 600, 300, 30)) await f.client.command({ query: sql })
    const second = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor('900 rows published', () => second.status().rowsPublished === 900n)
    await second.stop()

    const messages = await readTopic(f.kafkaBootstrap, f.topic('payments'))
    const { envelope, row } = protoTypes(f.schemasDir, `${f.sourceDb}/payments/v1.proto`)
    const decoded = messages.map((m) => {
      const env = envelope.toObject(envelope.decode(m.value), { longs: String, defaults: true }) as Record<
        string,
        unknown
      >
      const r = row.toObject(row.decode(env.row as Uint8Array), {
        longs: String,
        bytes: String,
        defaults: true,
      }) as Record<string, string>
      return { m, env, r }
    })
    const ids = decoded.map((d) => Number(d.r.id))
    expect(ids).toHaveLength(900)
    expect(new Set(ids).size).toBe(900) // every row exactly once
    // Per key (account), the partition holds its rows in insert order.
    for (let account = 0; account < 7; account++) {
      const ofAccount = decoded.filter((d) => Number(d.r.account) === account)
      expect(new Set(ofAccount.map((d) => d.m.partition)).size).toBe(1)
      const inOrder = ofAccount.sort((a, b) => Number(a.m.offset - b.m.offset)).map((d) => Number(d.r.id))
      expect(inOrder).toEqual([...inOrder].sort((a, b) => a - b))
      expect(ofAccount[0]?.m.key).toBe(String(account))
    }
    const sample = decoded.find((d) => Number(d.r.id) === 42)
    expect(sample?.r).toMatchObject({
      id: '42',
      account: 0,
      amount: '-80',
      note: Buffer.from('n42').toString('base64'),
    })
    expect(sample?.env).toMatchObject({ source: table, op: 1, schema_version: 1 })
    expect(sample?.env.cursor).toMatchObject({ partition_id: 'all' })
    // A view records the INSERT's query id; a table keeps none per row.
    expect(sample?.env.query_id).toMatch(mode === 'view' ? /^[0-9a-f-]{36}$/ : /^$/)
    // Lean messages: what the envelope holds is not sent again as headers; traceparent only when traced.
    expect(Object.keys(sample?.m.headers ?? {}).filter((name) => name !== 'traceparent')).toEqual([])
    // The checkpoint topic holds the end cursor, committed with the rows.
    const checkpoints = await readTopic(f.kafkaBootstrap, f.config.kafka.checkpointTopic)
    const last = JSON.parse(checkpoints.at(-1)?.value.toString() ?? '{}')
    expect(last).toMatchObject({ version: 1, engineId: f.config.engine.id, rowsTotal: '900' })
  })

  it('a second instance with the same engine id fences the first, which stops cleanly', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [], mode }])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES (1)` })
    const first = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor('first instance published', () => first.status().rowsPublished === 1n)
    const second = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES (2)` })
    const exit = await Promise.race([first.done, new Promise((r) => setTimeout(() => r('still running'), 20_000))])
    expect(exit).toMatchObject({ reason: 'fenced' })
    await waitFor('second instance published row 2', () => second.status().rowsPublished === 2n)
    await second.stop()
    const ids = (await readTopic(f.kafkaBootstrap, f.topic('t'))).length
    expect(ids).toBe(2)
  })

  it('stops, naming the partition, when the newest blocks it read vanish under its cursor', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [], mode }])
    // What the engine reads: the changelog (view), or the table itself (stream).
    const [readDb, readTable] = mode === 'view' ? [f.database, `changelog_${f.sourceDb}__t`] : [f.sourceDb, 't']
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES (1)` })
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES (2)` })
    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor('2 rows published', () => engine.status().rowsPublished === 2n)
    // The newest part goes: its block numbers would be issued again after a restart, below the cursor.
    const [newest] = await (
      await f.client.query({
        query: `SELECT name FROM system.parts WHERE database = '${readDb}' AND table = '${readTable}'
                AND active ORDER BY max_block_number DESC LIMIT 1`,
        format: 'JSONEachRow',
      })
    ).json<{ name: string }>()
    await f.client.command({ query: `ALTER TABLE ${readDb}.${readTable} DROP PART '${newest?.name}'` })
    const exit = await Promise.race([engine.done, new Promise((r) => setTimeout(() => r('still running'), 20_000))])
    expect(exit).toMatchObject({ reason: 'failed' })
    expect((exit as { error: Error }).error.message).toMatch(/--reset-partition/)
  })

  it('publishes a source captured while it runs, creating its topic', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.a`, exclude: [], mode }])
    for (const t of ['a', 'b']) {
      await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.${t} (id UInt64) ENGINE = MergeTree ORDER BY id` })
    }
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.a VALUES (1)` })
    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor('a published', () => engine.status().rowsPublished === 1n)
    f.config.capture.sources.push({ table: `${f.sourceDb}.b`, exclude: [], mode })
    expect((await f.migrate()).sources[1]).toMatchObject({ action: 'captured' })
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.b VALUES (2)` })
    await waitFor('b published', () => engine.status().rowsPublished === 2n)
    await engine.stop()
    expect(await readTopic(f.kafkaBootstrap, f.topic('b'))).toHaveLength(1)
  })

  it('at-least-once: publishes without transactions, SQLite holds the cursor, a restart resumes after it', async () => {
    const f = await engineFixture(
      (db) => [{ table: `${db}.t`, exclude: [], mode }],
      { headers: 'full' },
      { delivery: 'at-least-once' },
    )
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t SELECT number FROM numbers(50)` })
    const first = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor('50 rows', () => first.status().rowsPublished === 50n)
    await first.stop()
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t SELECT number + 50 FROM numbers(25)` })
    const second = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor('25 more rows', () => second.status().rowsPublished === 25n)
    await second.stop()
    const messages = await readTopic(f.kafkaBootstrap, f.topic('t'))
    expect(messages).toHaveLength(75)
    // engine.headers: full repeats the envelope's cursor (the dedup key) and the rest as headers.
    expect(new Set(messages.map((m) => m.headers['tailhouse.cursor'])).size).toBe(75)
    expect(messages[0]?.headers).toMatchObject({
      'tailhouse.source': `${f.sourceDb}.t`,
      'tailhouse.op': 'insert',
      'tailhouse.schema_version': '1',
      'tailhouse.cursor': expect.stringMatching(new RegExp(`^${f.sourceDb}\\.t/all:\\d+:\\d+$`)),
      'tailhouse.query_id': expect.stringMatching(mode === 'view' ? /^[0-9a-f-]{36}$/ : /^$/),
      'tailhouse.ingest_time_us': expect.stringMatching(/^\d{16}$/),
    })
    expect(await readTopic(f.kafkaBootstrap, f.config.kafka.checkpointTopic)).toHaveLength(0)
  })
})

/** A row the engine cannot decode: only a changelog can hold one (a drifted row's payload). */
describe('engine: changelog to Kafka, mode view', () => {
  it('stops on a row it cannot decode, naming it, and publishes nothing from that batch on', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    await f.client.command({
      query: `CREATE TABLE ${f.sourceDb}.t (id UInt64, s String) ENGINE = MergeTree ORDER BY id`,
    })
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES (1, 'ok')` })
    await corruptRow(f)
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES (3, 'after')` })
    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    const exit = await engine.done
    expect(exit.reason).toBe('failed')
    expect(exit.error?.message).toMatch(
      new RegExp(
        `changelog row ${f.sourceDb}\\.t/all:\\d+:\\d+ of ${f.sourceDb}\\.t \\(schema version 1\\) cannot be published: .*engine.onPoisonRow: dead-letter`,
      ),
    )
    expect(await readTopic(f.kafkaBootstrap, f.topic('t'))).toHaveLength(0)
  })

  it('with onPoisonRow: dead-letter, routes the bad row to the dead-letter topic and goes on', async () => {
    const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [] }], { onPoisonRow: 'dead-letter' })
    await f.client.command({
      query: `CREATE TABLE ${f.sourceDb}.t (id UInt64, s String) ENGINE = MergeTree ORDER BY id`,
    })
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES (1, 'ok')` })
    await corruptRow(f)
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES (3, 'after')` })
    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor('3 rows consumed', () => engine.status().rowsPublished === 3n)
    await engine.stop()
    expect(await readTopic(f.kafkaBootstrap, f.topic('t'))).toHaveLength(2)
    const dead = await readTopic(f.kafkaBootstrap, f.config.kafka.deadLetterTopic)
    expect(dead).toHaveLength(1)
    expect(dead[0]?.value.toString('hex')).toBe('ff')
    expect(dead[0]?.headers['tailhouse.error']).toMatch(/cannot decode column "id"/)
    expect(dead[0]?.headers['tailhouse.cursor']).toMatch(new RegExp(`^${f.sourceDb}\\.t/all:\\d+:0$`))
    expect(dead[0]?.key).toBe(`${f.sourceDb}.t`)
  })
})

/**
 * Writes a changelog row the engine decodes itself (as for a row captured while its source's types drifted) whose
 * payload is one byte: a real fingerprint, an impossible row.
 */
async function corruptRow(f: Awaited<ReturnType<typeof engineFixture>>): Promise<void> {
  await f.client.command({
    query: `INSERT INTO ${f.database}.changelog_${f.sourceDb}__t (__schema_version, __query_id, __op, __drift)
            SELECT 1, 'corrupt', 'insert', concat(toFixedString(reinterpretAsString(schema_fingerprint), 8), unhex('ff'))
            FROM ${f.database}.sources FINAL LIMIT 1`,
  })
}
