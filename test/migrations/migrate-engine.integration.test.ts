import { cpSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MigrationError } from '../../engine/errors.js'
import { migrateEngine } from '../../engine/migrations/migrate-engine.js'
import { packageRoot } from '../../engine/package-root.js'
import { rows, testClickHouse, testDatabase } from '../helpers/clickhouse.js'
import { uniqueName } from '../helpers/names.js'

function copyOfMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tailhouse-migrations-'))
  cpSync(join(packageRoot, 'migrations'), dir, { recursive: true })
  return dir
}

describe('engine migrations', () => {
  it('apply in order, record a ledger, and re-run as a no-op', async () => {
    const client = await testClickHouse()
    const database = uniqueName('th_migrate')
    await testDatabase(client, database)
    const options = {
      client,
      database,
      cluster: undefined,
      migrationsDir: copyOfMigrations(),
      dryRun: false,
    }

    const first = await migrateEngine(options)
    expect(first).toEqual([
      { name: '0001_sources.sql', status: 'applied' },
      { name: '0002_identity.sql', status: 'applied' },
      { name: '0003_snapshots.sql', status: 'applied' },
      { name: '0004_capture_mode.sql', status: 'applied' },
    ])
    const tables = await rows<{ name: string }>(
      client,
      `SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`,
    )
    // The changelog tables are per source, created by capture (test/capture).
    expect(tables.map((t) => t.name)).toEqual(['identity', 'migrations', 'snapshots', 'sources'])
    // One identity, made once: a second run keeps it.
    const identity = await rows<{ id: string }>(client, `SELECT toString(id) AS id FROM ${database}.identity FINAL`)
    expect(identity).toHaveLength(1)
    const ledger = await rows<{ name: string; checksum: string }>(
      client,
      `SELECT name, checksum FROM ${database}.migrations FINAL ORDER BY name`,
    )
    expect(ledger.map((l) => l.name)).toEqual([
      '0001_sources.sql',
      '0002_identity.sql',
      '0003_snapshots.sql',
      '0004_capture_mode.sql',
    ])
    expect(ledger.every((l) => /^[0-9a-f]{64}$/.test(l.checksum))).toBe(true)

    const second = await migrateEngine(options)
    expect(second.map((r) => r.status)).toEqual(Array(4).fill('already applied'))
    expect(await rows<{ id: string }>(client, `SELECT toString(id) AS id FROM ${database}.identity FINAL`)).toEqual(
      identity,
    )
  })

  it('refuses to continue when an applied file changed', async () => {
    const client = await testClickHouse()
    const database = uniqueName('th_migrate')
    await testDatabase(client, database)
    const migrationsDir = copyOfMigrations()
    const options = {
      client,
      database,
      cluster: undefined,
      migrationsDir,
      dryRun: false,
    }
    await migrateEngine(options)
    writeFileSync(join(migrationsDir, '0001_sources.sql'), '-- edited\nSELECT 1;\n')
    const run = migrateEngine(options)
    await expect(run).rejects.toBeInstanceOf(MigrationError)
    await expect(run).rejects.toThrow(/0001_sources\.sql: was applied with checksum .* but the file now has/)
  })

  it('in a dry run prints every statement and changes nothing', async () => {
    const client = await testClickHouse()
    const database = uniqueName('th_dry')
    const printed: string[] = []
    const results = await migrateEngine({
      client,
      database,
      cluster: undefined,
      migrationsDir: copyOfMigrations(),
      dryRun: true,
      onStatement: (sql) => printed.push(sql),
    })
    expect(results.map((r) => r.status)).toEqual(Array(4).fill('would apply'))
    expect(printed[0]).toBe(`CREATE DATABASE IF NOT EXISTS \`${database}\``)
    expect(printed.some((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS \`${database}\`.sources`))).toBe(true)
    expect(printed.filter((s) => s.startsWith('INSERT INTO'))).toHaveLength(5) // identity, 4 ledger rows
    const [count] = await rows<{ n: string }>(
      client,
      `SELECT count() AS n FROM system.databases WHERE name = '${database}'`,
    )
    expect(Number(count?.n)).toBe(0)
  })
})
