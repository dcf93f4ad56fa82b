import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { captureStatus } from '../../engine/capture/status.js'
import { captureFixture } from '../helpers/capture.js'
import { rows } from '../helpers/clickhouse.js'

describe('schema evolution', () => {
  it('swaps the view on ADD COLUMN while inserts run: every row captured exactly once, old and new versions decodable', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.orders`, exclude: [] }])
    const table = `${f.sourceDb}.orders`
    await f.client.command({ query: `CREATE TABLE ${table} (id UInt64, amount UInt32) ENGINE = MergeTree ORDER BY id` })
    expect((await f.migrate()).sources[0]?.action).toBe('captured')

    // A writer inserts small batches continuously while the column is added and the view swapped.
    let next = 0
    let writing = true
    let withNote = false
    const writer = (async () => {
      while (writing) {
        const ids = [next++, next++, next++]
        const values = ids
          .map((id) => (withNote ? `(${id}, ${id % 100}, 'n${id}')` : `(${id}, ${id % 100})`))
          .join(', ')
        const columns = withNote ? '(id, amount, note)' : '(id, amount)'
        await f.client.command({ query: `INSERT INTO ${table} ${columns} VALUES ${values}` })
      }
    })()
    await new Promise((r) => setTimeout(r, 200))
    await f.client.command({ query: `ALTER TABLE ${table} ADD COLUMN note String DEFAULT 'none'` })
    await new Promise((r) => setTimeout(r, 100))
    withNote = true
    const drifted = await captureStatus(f.client, f.config.capture)
    expect(drifted[0]?.drift).toBe('+note String')
    const evolved = await f.migrate()
    expect(evolved.sources[0]).toMatchObject({ action: 'evolved', version: 2, detail: '+note String' })
    await new Promise((r) => setTimeout(r, 200))
    writing = false
    await writer

    const changelog = await f.changelog()
    const ids = changelog.map((r) => Number(r.row.id))
    expect(ids).toHaveLength(next) // none lost…
    expect(new Set(ids).size).toBe(next) // …none twice
    const versions = new Set(changelog.map((r) => r.schemaVersion))
    expect(versions).toEqual(new Set([1, 2]))
    // Version 1 rows carry no note; version 2 rows carry it, including rows inserted before the ALTER's default.
    for (const r of changelog) {
      if (r.schemaVersion === 1) expect(Object.keys(r.row)).toEqual(['id', 'amount'])
      else expect(Object.keys(r.row)).toEqual(['id', 'amount', 'note'])
    }
    // The swap is ordered: once a row of version 2 appears, no row of version 1 follows it.
    const firstV2 = changelog.findIndex((r) => r.schemaVersion === 2)
    expect(changelog.slice(firstV2).every((r) => r.schemaVersion === 2)).toBe(true)
    expect(existsSync(join(f.schemasDir, `${f.sourceDb}/orders/v1.proto`.toLowerCase()))).toBe(true)
    expect(existsSync(join(f.schemasDir, `${f.sourceDb}/orders/v2.proto`.toLowerCase()))).toBe(true)
    expect((await captureStatus(f.client, f.config.capture))[0]).toMatchObject({
      captured: true,
      schemaVersion: 2,
      drift: null,
    })
  })

  it('decodes rows written after MODIFY COLUMN but before migrate by the types they were written with', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    const table = `${f.sourceDb}.t`
    await f.client.command({ query: `CREATE TABLE ${table} (id UInt64, qty UInt16) ENGINE = MergeTree ORDER BY id` })
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${table} VALUES (1, 7)` })
    await f.client.command({ query: `ALTER TABLE ${table} MODIFY COLUMN qty UInt32` })
    // Not migrated yet: the view still writes version 1, whose changelog column is a UInt16; the row goes to the
    // drift column instead, in RowBinary of its actual types.
    await f.client.command({ query: `INSERT INTO ${table} VALUES (2, 70000)` })
    expect((await captureStatus(f.client, f.config.capture))[0]?.drift).toBe('~qty UInt16 -> UInt32')
    expect((await f.migrate()).sources[0]).toMatchObject({ action: 'evolved', version: 2 })
    await f.client.command({ query: `INSERT INTO ${table} VALUES (3, 80000)` })

    const changelog = await f.changelog()
    expect(changelog.map((r) => [r.schemaVersion, r.row.id, r.row.qty])).toEqual([
      [1, 1n, 7],
      [2, 2n, 70000], // decoded as UInt32 through its fingerprint, published as version 2: no wrap-around to 4464
      [2, 3n, 80000],
    ])
  })

  it('drops a column the safe way: exclude it, migrate, then DROP succeeds', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    const table = `${f.sourceDb}.t`
    await f.client.command({ query: `CREATE TABLE ${table} (id UInt64, legacy String) ENGINE = MergeTree ORDER BY id` })
    await f.migrate()
    // ClickHouse itself refuses to drop a column a view reads.
    await expect(f.client.command({ query: `ALTER TABLE ${table} DROP COLUMN legacy` })).rejects.toThrow(
      /referenced by materialized view/,
    )
    const source = f.config.capture.sources[0]
    if (source) source.exclude = ['legacy']
    expect((await f.migrate()).sources[0]).toMatchObject({ action: 'evolved', version: 2, detail: '-legacy' })
    await f.client.command({ query: `ALTER TABLE ${table} DROP COLUMN legacy` })
    await f.client.command({ query: `INSERT INTO ${table} VALUES (1)` })
    expect((await f.changelog()).map((r) => r.row)).toEqual([{ id: 1n }])
  })

  it('re-running migrate without changes is a no-op', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.migrate()
    const statements: string[] = []
    const again = await f.migrate({ onStatement: (sql) => statements.push(sql) })
    expect(again.sources[0]).toMatchObject({ action: 'unchanged', version: 1 })
    expect(
      statements.filter(
        (s) => !s.startsWith('CREATE DATABASE IF NOT EXISTS') && !s.startsWith('CREATE TABLE IF NOT EXISTS'),
      ),
    ).toEqual([])
    const views = await rows(
      f.client,
      `SELECT name FROM system.tables WHERE database = '${f.database}' AND engine = 'MaterializedView'`,
    )
    expect(views).toHaveLength(1)
  })
})
