import { describe, expect, it } from 'vitest'
import { readRegistry } from '../../engine/capture/registry.js'
import { captureStatus } from '../../engine/capture/status.js'
import { CaptureError } from '../../engine/errors.js'
import { captureFixture } from '../helpers/capture.js'
import { rows } from '../helpers/clickhouse.js'

const S = "SETTINGS enable_streaming_queries = 1, max_execution_time = 0.5, timeout_overflow_mode = 'break'"

describe('migrate, mode stream', () => {
  it('turns the block columns on, saying what that means for merged parts, and installs no view and no changelog', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.orders`, exclude: [], mode: 'stream' }])
    const t = `${f.sourceDb}.orders`
    await f.client.command({
      query: `CREATE TABLE ${t} (id UInt64, amount Decimal(12, 2)) ENGINE = MergeTree ORDER BY id`,
    })
    // Three INSERTs merged into one part before capture, one INSERT after the merge.
    for (const values of ['(30, 1), (10, 2)', '(20, 3)', '(5, 4)'])
      await f.client.command({ query: `INSERT INTO ${t} VALUES ${values}` })
    await f.client.command({ query: `OPTIMIZE TABLE ${t} FINAL` })
    await f.client.command({ query: `INSERT INTO ${t} VALUES (7, 5)` })

    const log: string[] = []
    const statements: string[] = []
    const result = await f.migrate({ log: (line) => log.push(line), onStatement: (sql) => statements.push(sql) })
    expect(result.sources).toEqual([{ source: t, version: 1, action: 'captured', detail: 'mode stream' }])
    expect(
      statements.some((s) =>
        s.includes('MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1'),
      ),
    ).toBe(true)
    expect(log.join('\n')).toMatch(
      /turning on enable_block_number_column and enable_block_offset_column .* 1 of its 2 active parts \(4 of 5 rows\) were merged before this: .* sorting-key order rather than INSERT order/,
    )
    const [table] = await rows<{ engine_full: string }>(
      f.client,
      `SELECT engine_full FROM system.tables WHERE database = '${f.sourceDb}' AND name = 'orders'`,
    )
    expect(table?.engine_full).toMatch(/enable_block_number_column = 1, enable_block_offset_column = 1/)
    // Nothing in the capture database but the registry's own tables.
    const objects = await rows<{ name: string }>(
      f.client,
      `SELECT name FROM system.tables WHERE database = '${f.database}' ORDER BY name`,
    )
    expect(objects.map((o) => o.name)).toEqual(['identity', 'migrations', 'snapshots', 'sources'])
    const [registered] = await readRegistry(f.client, f.database)
    expect(registered).toMatchObject({ source: t, version: 1, mode: 'stream', opExpression: "'insert'" })
    expect(registered?.columns.map((c) => c.column)).toEqual(['id', 'amount'])

    // The merged part's rows: its first block number, offsets in sorting-key order; the later INSERT its own block.
    expect(
      await rows(f.client, `SELECT id, _block_number AS b, _block_offset AS o FROM ${t} STREAM LIMIT 5 ${S}`),
    ).toEqual([
      { id: 5, b: 1, o: 0 },
      { id: 10, b: 1, o: 1 },
      { id: 20, b: 1, o: 2 },
      { id: 30, b: 1, o: 3 },
      { id: 7, b: 4, o: 0 },
    ])

    // Re-running changes nothing; status says how it is captured.
    expect((await f.migrate()).sources[0]).toMatchObject({ action: 'unchanged', version: 1 })
    expect(await captureStatus(f.client, f.config.capture)).toEqual([
      {
        source: t,
        configured: true,
        captured: true,
        schemaVersion: 1,
        mode: 'stream',
        viewPresent: false,
        changelogRows: 5,
        drift: null,
      },
    ])
    // The changelog of every row is the table itself: its rows, in block order, each once.
    expect((await f.changelog()).map((r) => [r.row.id, r.blockNumber, r.blockOffset, r.op])).toEqual([
      [5n, 1, 0, 'insert'],
      [10n, 1, 1, 'insert'],
      [20n, 1, 2, 'insert'],
      [30n, 1, 3, 'insert'],
      [7n, 4, 0, 'insert'],
    ])
  })

  it.each([
    ['SummingMergeTree', 'SummingMergeTree ORDER BY id', /adds later rows into the first row of their key/],
    ['CollapsingMergeTree', 'CollapsingMergeTree(sign) ORDER BY id', /cancels a −1 row with its \+1 row/],
    ['Null', 'Null', /a Null table has none/],
  ])('refuses a %s source, saying why and what to do, before installing anything', async (_, engine, reason) => {
    const f = await captureFixture((db) => [
      { table: `${db}.good`, exclude: [], mode: 'stream' },
      { table: `${db}.t`, exclude: [], mode: 'stream' },
    ])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.good (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64, sign Int8) ENGINE = ${engine}` })
    const run = f.migrate()
    await expect(run).rejects.toBeInstanceOf(CaptureError)
    await expect(run).rejects.toThrow(reason)
    await expect(f.migrate()).rejects.toThrow(/Capture it with mode: view/)
    const [good] = await rows<{ engine_full: string }>(
      f.client,
      `SELECT engine_full FROM system.tables WHERE database = '${f.sourceDb}' AND name = 'good'`,
    )
    expect(good?.engine_full).not.toMatch(/enable_block_number_column/)
  })

  it('keeps a source in its mode: switching it is refused, naming what to do', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    expect((await f.migrate()).ok).toBe(true)
    f.config.capture.sources[0] = { table: `${f.sourceDb}.t`, exclude: [], mode: 'stream' }
    const result = await f.migrate()
    expect(result.ok).toBe(false)
    expect(result.sources[0]?.error?.message).toMatch(
      /is captured in mode view \(schema version 1\) and a source keeps its mode: .* Set mode: view again, or capture it in mode stream under another capture.database/,
    )
    expect((await captureStatus(f.client, f.config.capture))[0]?.drift).toBe('mode view -> stream')
    // Nothing changed: still the view, and no block columns.
    const [registered] = await readRegistry(f.client, f.database)
    expect(registered).toMatchObject({ version: 1, mode: 'view' })
  })
})
