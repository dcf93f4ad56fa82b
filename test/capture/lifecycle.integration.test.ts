import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { captureStatus } from '../../engine/capture/status.js'
import { uncapture } from '../../engine/capture/uncapture.js'
import { UnsupportedTypeError } from '../../engine/errors.js'
import { captureFixture } from '../helpers/capture.js'
import { rows } from '../helpers/clickhouse.js'

async function views(
  client: Awaited<ReturnType<typeof captureFixture>>['client'],
  database: string,
): Promise<string[]> {
  const result = await rows<{ name: string }>(
    client,
    `SELECT name FROM system.tables WHERE database = '${database}' AND engine = 'MaterializedView' ORDER BY name`,
  )
  return result.map((r) => r.name)
}

describe('capture lifecycle', () => {
  it('dry run prints the exact SQL and installs nothing', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    await f.client.command({
      query: `CREATE TABLE ${f.sourceDb}.t (id UInt64, name String) ENGINE = MergeTree ORDER BY id`,
    })
    const printed: string[] = []
    const result = await f.migrate({ dryRun: true, onStatement: (sql) => printed.push(sql) })
    expect(result.sources[0]).toMatchObject({ action: 'captured', version: 1 })
    const changelog = `\`${f.database}\`.\`changelog_${f.sourceDb}__t\``
    const table = printed.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${changelog}`))
    expect(table).toContain('`id` UInt64')
    expect(table).toContain('`name` String')
    expect(table).toContain('enable_block_number_column = 1, enable_block_offset_column = 1')
    expect(table).toContain('non_replicated_deduplication_window = 1000')
    expect(table).not.toContain('PARTITION BY') // deduplication works per partition: a retry may come any time
    const view = printed.find((s) => s.startsWith('CREATE MATERIALIZED VIEW'))
    expect(view).toContain(`TO ${changelog}`)
    const fingerprint = 'cityHash64(toTypeName(__source.`id`), toTypeName(__source.`name`))'
    expect(view).toContain(`if(${fingerprint} = `)
    expect(view).toContain("CAST(__source.`id`, 'UInt64'), defaultValueOfTypeName('UInt64')) AS `id`")
    expect(view).toContain("formatRow('RowBinary', __source.`id`, __source.`name`))) AS __drift")
    expect(printed.some((s) => s.startsWith(`INSERT INTO \`${f.database}\`.sources`))).toBe(true)
    expect(await views(f.client, f.database)).toEqual([])
    expect(readdirSync(f.schemasDir)).toEqual([])
    const tables = await rows(f.client, `SELECT name FROM system.tables WHERE database = '${f.database}'`)
    expect(tables).toEqual([])
  })

  it('status shows captured, version, view, rows and drift; uncapture removes the view and keeps rows decodable', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    const before = await captureStatus(f.client, f.config.capture)
    expect(before).toEqual([
      {
        source: `${f.sourceDb}.t`,
        configured: true,
        captured: false,
        schemaVersion: null,
        mode: 'view',
        viewPresent: false,
        changelogRows: 0,
        drift: 'not captured yet',
      },
    ])
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES (1), (2), (3)` })
    expect(await captureStatus(f.client, f.config.capture)).toEqual([
      {
        source: `${f.sourceDb}.t`,
        configured: true,
        captured: true,
        schemaVersion: 1,
        mode: 'view',
        viewPresent: true,
        changelogRows: 3,
        drift: null,
      },
    ])

    expect(await uncapture(f.client, { database: f.database, cluster: undefined, source: `${f.sourceDb}.t` })).toEqual({
      version: 1,
    })
    expect(await views(f.client, f.database)).toEqual([])
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES (4)` })
    const after = await captureStatus(f.client, f.config.capture)
    expect(after[0]).toMatchObject({
      captured: false,
      schemaVersion: 1,
      viewPresent: false,
      changelogRows: 3,
      drift: 'uncaptured; the next migrate captures it again',
    })
    expect((await f.changelog()).map((r) => r.row.id)).toEqual([1n, 2n, 3n]) // still decodable after uncapture

    // Capturing it again re-activates the same schema version.
    expect((await f.migrate()).sources[0]).toMatchObject({ action: 'repaired', version: 1 })
    expect((await captureStatus(f.client, f.config.capture))[0]).toMatchObject({ captured: true, drift: null })
  })

  it('names table, column and type of an unsupported column, and installs nothing for any source', async () => {
    const f = await captureFixture((db) => [
      { table: `${db}.good`, exclude: [] },
      { table: `${db}.agg`, exclude: [] },
    ])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.good (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.client.command({
      query: `CREATE TABLE ${f.sourceDb}.agg (id UInt64, total AggregateFunction(sum, UInt64)) ENGINE = MergeTree ORDER BY id`,
    })
    const run = f.migrate()
    await expect(run).rejects.toBeInstanceOf(UnsupportedTypeError)
    await expect(run).rejects.toThrow(`${f.sourceDb}.agg.total: type AggregateFunction(sum, UInt64) cannot be captured`)
    expect(await views(f.client, f.database)).toEqual([])
  })

  it('rolls back a source whose view cannot be created, keeps the others, and converges on re-run', async () => {
    const f = await captureFixture((db) => [
      { table: `${db}.a`, exclude: [] },
      { table: `${db}.b`, exclude: [] },
    ])
    for (const t of ['a', 'b']) {
      await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.${t} (id UInt64) ENGINE = MergeTree ORDER BY id` })
    }
    // Something already holds b's view name: its CREATE fails midway, after the registry row and .proto.
    await f.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${f.database}` })
    const blocker = `${f.database}.capture_${f.sourceDb}__b`
    await f.client.command({ query: `CREATE TABLE ${blocker} (x UInt8) ENGINE = Memory` })

    const first = await f.migrate()
    expect(first.ok).toBe(false)
    expect(first.sources.map((s) => [s.source, s.action])).toEqual([
      [`${f.sourceDb}.a`, 'captured'],
      [`${f.sourceDb}.b`, 'failed'],
    ])
    expect(first.sources[1]?.error?.message).toMatch(/capture failed and was rolled back/)
    const registry = await rows<{ source: string }>(
      f.client,
      `SELECT source FROM ${f.database}.sources FINAL ORDER BY source`,
    )
    expect(registry.map((r) => r.source)).toEqual([`${f.sourceDb}.a`]) // b's registry row was removed again
    expect(existsSync(join(f.schemasDir, `${f.sourceDb}/b/v1.proto`))).toBe(false)
    expect(existsSync(join(f.schemasDir, `${f.sourceDb}/a/v1.proto`))).toBe(true)

    await f.client.command({ query: `DROP TABLE ${blocker}` })
    const second = await f.migrate()
    expect(second.ok).toBe(true)
    expect(second.sources.map((s) => [s.action, s.version])).toEqual([
      ['unchanged', 1],
      ['captured', 1],
    ])
    expect(await views(f.client, f.database)).toEqual([`capture_${f.sourceDb}__a`, `capture_${f.sourceDb}__b`])
  })

  it('refuses unsafe server settings, saying which, where and why', async () => {
    const f = await captureFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    // The real server evaluates the check; a session-level setting on every query stands in for a bad profile.
    const unsafeClient = new Proxy(f.client, {
      get(target, property) {
        if (property === 'query') {
          return (params: Parameters<typeof target.query>[0]) =>
            target.query({
              ...params,
              clickhouse_settings: { ...params.clickhouse_settings, materialized_views_ignore_errors: 1 },
            })
        }
        const value = Reflect.get(target, property, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const run = f.migrate({ client: unsafeClient })
    await expect(run).rejects.toThrow(
      /materialized_views_ignore_errors = 1 for user .*, must be 0: with 1, an INSERT succeeds even when the capture view fails.*settings profile/s,
    )
    expect(await views(f.client, f.database)).toEqual([])
  })
})
