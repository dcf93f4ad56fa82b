import { describe, expect, it } from 'vitest'
import { CaptureError, ClickHouseQueryError } from '../../engine/errors.js'
import { classifyFailure } from '../../engine/failure.js'
import type { ChangelogRow } from '../../engine/source/changelog-wire.js'
import { type Cursor, cursorAfter, cursorKey } from '../../engine/source/cursor.js'
import { detectFormatSchemas } from '../../engine/source/format-schemas.js'
import { SourceSchemas } from '../../engine/source/source-schemas.js'
import { StreamSource, type StreamSourceOptions } from '../../engine/source/stream-source.js'
import { captureFixture } from '../helpers/capture.js'
import { rows } from '../helpers/clickhouse.js'

type Fixture = Awaited<ReturnType<typeof captureFixture>>

async function streamOf(f: Fixture, format: 'protobuf' | 'json' = 'json', options: Partial<StreamSourceOptions> = {}) {
  const schemas = new SourceSchemas({
    client: f.client,
    database: f.database,
    format,
    protobuf: f.config.protobuf,
    sources: f.config.capture.sources,
  })
  await schemas.load()
  return new StreamSource({
    client: f.client,
    database: f.database,
    schemas,
    target: 'test',
    partitionsOf: async () => 6,
    formatSchemas: await detectFormatSchemas(f.client),
    ...options,
  })
}

async function readAll(source: StreamSource, from: Cursor = new Map(), limit = 1000) {
  const all: ChangelogRow[] = []
  let cursor = from
  for (;;) {
    const rows = await source.read(cursor, limit)
    if (rows.length === 0) return { rows: all, cursor }
    all.push(...rows)
    cursor = cursorAfter(cursor, rows)
  }
}

/** A fixture with one stream-mode source `t`, created by `ddl` (`{t}` stands for the table) and migrated. */
async function streamFixture(ddl: string, extra: Record<string, unknown> = {}) {
  const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: [], mode: 'stream', ...extra }])
  await f.client.command({ query: ddl.replace('{t}', `${f.sourceDb}.t`) })
  const result = await f.migrate()
  expect(result.ok, JSON.stringify(result.sources)).toBe(true)
  return f
}

const position = (r: ChangelogRow) => `${r.partitionId}:${r.blockNumber}:${r.blockOffset}`

describe('StreamSource: the source table read with SELECT … STREAM (embedded ClickHouse)', () => {
  it('reads exactly the rows after the cursor, in block order across partitions, in batches smaller than the backlog', async () => {
    const f = await streamFixture('CREATE TABLE {t} (id UInt64, p UInt8) ENGINE = MergeTree PARTITION BY p ORDER BY id')
    // 30 INSERTs alternating over 3 partitions, 7 rows each; block numbers are table-wide, so block order is the
    // order of the INSERTs across partitions.
    for (let i = 0; i < 30; i++)
      await f.client.command({
        query: `INSERT INTO ${f.sourceDb}.t SELECT ${i} * 100 + number, ${i % 3} FROM numbers(7)`,
      })
    for (const format of ['json', 'protobuf'] as const) {
      const source = await streamOf(f, format)
      // 13 rows per read: reads end inside blocks and span partitions.
      const { rows: all, cursor } = await readAll(source, new Map(), 13)
      expect(all).toHaveLength(210)
      expect(new Set(all.map(position)).size).toBe(210)
      const blocks = all.map((r) => Number(r.blockNumber))
      expect(blocks).toEqual([...blocks].sort((a, b) => a - b))
      expect(new Set(all.map((r) => r.partitionId))).toEqual(new Set(['0', '1', '2']))
      expect(all.every((r) => r.op === 'insert' && r.schemaVersion === 1 && r.queryId === '')).toBe(true)
      expect(await source.pendingRows(cursor)).toBe(0)

      // Resuming inside a block of one partition: exactly the rest, nothing of the rows before.
      const at = all[100] as ChangelogRow
      const from = cursorAfter(new Map(), all.slice(0, 101))
      const rest = await readAll(await streamOf(f, format), from, 50)
      expect(rest.rows.map(position)).toEqual(all.slice(101).map(position))
      expect(cursorKey(`${f.sourceDb}.t`, at.partitionId)).toBe(at.stream)
    }
  })

  it('reads rows merged across the cursor once, and new rows after a merge, from MergeTree and ReplacingMergeTree', async () => {
    const f = await streamFixture('CREATE TABLE {t} (id UInt64, v UInt32) ENGINE = ReplacingMergeTree(v) ORDER BY id')
    const t = `${f.sourceDb}.t`
    await f.client.command({ query: `INSERT INTO ${t} VALUES (1, 1), (2, 1)` })
    await f.client.command({ query: `INSERT INTO ${t} VALUES (3, 1)` })
    const source = await streamOf(f)
    const first = await readAll(source)
    expect(first.rows.map((r) => [r.op, Number(r.blockNumber)])).toEqual([
      ['upsert', 1],
      ['upsert', 1],
      ['upsert', 2],
    ])
    // A newer version of id 1 and of id 3, then a merge that drops the versions they replace (one read, one not).
    await f.client.command({ query: `INSERT INTO ${t} VALUES (1, 2)` })
    await f.client.command({ query: `INSERT INTO ${t} VALUES (3, 2), (4, 1)` })
    await f.client.command({ query: `INSERT INTO ${t} VALUES (4, 2)` })
    await f.client.command({ query: `OPTIMIZE TABLE ${t} FINAL` })
    const second = await readAll(source, first.cursor)
    // (4, 1) was replaced before it was read: stream mode never sees it; every surviving row comes once.
    expect(second.rows.map((r) => `${r.blockNumber}:${r.blockOffset}`)).toEqual(['3:0', '4:0', '5:0'])
    expect(await rows(f.client, `SELECT toString(count()) AS n FROM ${t}`)).toEqual([{ n: '4' }])
  })

  it('sees the table as it is when read: mutations, lightweight deletes and TTL act on rows not read yet', async () => {
    const f = await streamFixture(
      'CREATE TABLE {t} (id UInt64, s String, at DateTime) ENGINE = MergeTree ORDER BY id TTL at + INTERVAL 1 DAY',
    )
    const t = `${f.sourceDb}.t`
    await f.client.command({ query: `INSERT INTO ${t} VALUES (1, 'a', now()), (2, 'b', now())` })
    const source = await streamOf(f)
    const first = await readAll(source)
    expect(first.rows).toHaveLength(2)
    await f.client.command({ query: `INSERT INTO ${t} VALUES (3, 'c', now()), (4, 'd', now()), (5, 'e', now())` })
    // Expired on arrival: TTL drops it at INSERT, so not even the table has it (a view would have captured it).
    await f.client.command({ query: `INSERT INTO ${t} VALUES (6, 'old', now() - INTERVAL 2 DAY)` })
    await f.client.command({ query: `ALTER TABLE ${t} UPDATE s = 'X' WHERE id IN (1, 3) SETTINGS mutations_sync = 2` })
    await f.client.command({ query: `DELETE FROM ${t} WHERE id = 4` })
    const second = await readAll(source, first.cursor)
    const decode = await decodeOf(f)
    const decoded = second.rows.map((r) => decode(r.payload as Buffer) as { id: bigint; s: Buffer })
    // Row 1 was read before the UPDATE and is not read again; 3 is read with its new value; 4 is gone; 6 never was.
    expect(decoded.map((r) => [Number(r.id), r.s.toString()])).toEqual([
      [3, 'X'],
      [5, 'e'],
    ])
  })

  it('stops reading, naming migrate, when a column type changes; reads on with the new version after migrate', async () => {
    const f = await streamFixture('CREATE TABLE {t} (id UInt64, q UInt16) ENGINE = MergeTree ORDER BY id')
    const t = `${f.sourceDb}.t`
    await f.client.command({ query: `INSERT INTO ${t} VALUES (1, 5)` })
    const source = await streamOf(f)
    const first = await readAll(source)
    expect(first.rows).toHaveLength(1)
    await f.client.command({ query: `ALTER TABLE ${t} MODIFY COLUMN q UInt32 SETTINGS mutations_sync = 2` })
    await f.client.command({ query: `INSERT INTO ${t} VALUES (2, 70000)` })
    const failure = await source.read(first.cursor, 100).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(CaptureError)
    expect((failure as CaptureError).message).toMatch(/columns changed .*run tailhouse migrate/)
    expect(classifyFailure(failure)).toEqual({ action: 'retry', reason: 'schema' })

    expect((await f.migrate()).sources[0]).toMatchObject({ action: 'evolved', version: 2 })
    const after = await readAll(source, first.cursor)
    expect(after.rows.map((r) => r.schemaVersion)).toEqual([2])
    const decode = await decodeOf(f)
    expect(decode(after.rows[0]?.payload as Buffer)).toEqual({ id: 2n, q: 70000 })
  })

  it('abandons a read that does not end in time, and the next read resumes from the same cursor', async () => {
    const f = await streamFixture('CREATE TABLE {t} (id UInt64, s String) ENGINE = MergeTree ORDER BY id')
    const t = `${f.sourceDb}.t`
    for (let i = 0; i < 5; i++)
      await f.client.command({
        query: `INSERT INTO ${t} SELECT ${i} * 100000 + number, repeat('x', 200) FROM numbers(100000)`,
      })
    // A bound of 1 ms and 1 ms more before the read counts as stuck: the real read of 500,000 rows takes longer.
    const impatient = await streamOf(f, 'json', { readTimeoutMs: 1, stuckAfterMs: 1 })
    const failure = await impatient.read(new Map(), 500_000).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(ClickHouseQueryError)
    expect((failure as Error).message).toMatch(
      /STREAM read of .* did not end 1 ms after its own bound .* resumes from the committed cursor/,
    )
    expect(classifyFailure(failure)).toEqual({ action: 'retry', reason: 'clickhouse' })
    // The engine resumes from its cursor: nothing was skipped, nothing is read twice.
    const { rows: all } = await readAll(await streamOf(f), new Map(), 100_000)
    expect(all).toHaveLength(500_000)
    expect(new Set(all.map(position)).size).toBe(500_000)
  }, 60_000)

  it('forgets a dropped partition and reads rows written to it later from their start', async () => {
    const f = await streamFixture('CREATE TABLE {t} (id UInt64, p UInt8) ENGINE = MergeTree PARTITION BY p ORDER BY id')
    const t = `${f.sourceDb}.t`
    await f.client.command({ query: `INSERT INTO ${t} VALUES (1, 1), (2, 2)` })
    const source = await streamOf(f)
    const first = await readAll(source)
    expect(first.cursor.size).toBe(2)
    await f.client.command({ query: `ALTER TABLE ${t} DROP PARTITION 1` })
    // idle() checks at most every 5 s; a new source checks at once.
    const checked = await (await streamOf(f)).idle(first.cursor)
    expect([...checked.keys()]).toEqual([`${t}/2`])
    await f.client.command({ query: `INSERT INTO ${t} VALUES (3, 1)` })
    const after = await readAll(source, checked)
    expect(after.rows.map((r) => r.partitionId)).toEqual(['1'])
  })
})

/** The RowBinary decoder of the source's newest registered version. */
async function decodeOf(f: Fixture) {
  const schemas = new SourceSchemas({
    client: f.client,
    database: f.database,
    format: 'json',
    protobuf: f.config.protobuf,
    sources: f.config.capture.sources,
  })
  await schemas.load()
  const [source] = schemas.sources
  const schema = await schemas.version(source as string, await latestVersion(f))
  return (payload: Buffer) => schema.decode(payload)
}

async function latestVersion(f: Fixture): Promise<number> {
  const [row] = await rows<{ v: number }>(f.client, `SELECT max(schema_version) AS v FROM ${f.database}.sources FINAL`)
  return Number(row?.v ?? 0)
}
