import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type CaptureSpec, createViewSql, dropViewSql, modifyViewSql } from '../../engine/capture/capture-view.js'
import {
  addChangelogColumnsSql,
  type ChangelogTableSpec,
  createChangelogSql,
  dropChangelogSql,
  wireType,
} from '../../engine/capture/changelog-table.js'
import { enableBlockColumnsSql } from '../../engine/capture/stream-capture.js'
import { quoteString } from '../../engine/clickhouse/sql.js'
import { bootstrapStatements } from '../../engine/migrations/migrate-engine.js'
import { readMigrationFiles } from '../../engine/migrations/migration-files.js'
import { renderTemplate, splitStatements } from '../../engine/migrations/render.js'
import { packageRoot } from '../../engine/package-root.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { rows, testClickHouse } from '../helpers/clickhouse.js'

/**
 * The cluster variant of every statement migrate sends, generated from the same templates and builders as the
 * single-server one, parsed by the real ClickHouse parser (formatQuery) and compared with reviewed golden files.
 * Set UPDATE_GOLDEN=1 to rewrite them after a deliberate change, then review the diff.
 */
const goldenDir = join(packageRoot, 'test/capture/golden/cluster')
const context = { database: 'tailhouse', cluster: 'prod' }
const source = {
  database: 'shop',
  table: 'orders_local',
  source: 'shop.orders_local',
  engine: 'ReplicatedReplacingMergeTree',
  engineArgs: ["'/clickhouse/tables/{shard}/shop/orders'", "'{replica}'", 'ver', 'is_deleted'],
  sortingKey: 'id',
  columns: [],
}
const spec: CaptureSpec = {
  source,
  database: 'tailhouse',
  cluster: 'prod',
  version: 3,
  opExpression: "if(is_deleted = 1, 'delete', 'upsert')",
  columns: [
    { ...toCapturedColumn('shop.orders_local', 'id', 'UInt64'), column: 'id' },
    { ...toCapturedColumn('shop.orders_local', 'ver', 'UInt32'), column: 'ver' },
    { ...toCapturedColumn('shop.orders_local', 'is_deleted', 'UInt8'), column: 'is_deleted' },
    { ...toCapturedColumn('shop.orders_local', 'attrs', 'JSON'), column: 'attrs__v3' },
  ],
  fingerprint: '1234567890',
}
const tableSpec: ChangelogTableSpec = {
  database: 'tailhouse',
  cluster: 'prod',
  source,
  retentionDays: 7,
  dedupWindow: 10_000,
}
const changelogColumns = spec.columns.map((c) => ({
  name: c.name,
  type: c.typeName,
  column: c.column,
  wireType: wireType(c),
}))

function statements(): Array<[string, string]> {
  const migrations = readMigrationFiles(join(packageRoot, 'migrations')).flatMap((file) =>
    splitStatements(renderTemplate(file.name, file.template, context)).map(
      (sql, i) => [`${file.name.replace('.sql', '')}-${i + 1}`, sql] as [string, string],
    ),
  )
  return [
    ...bootstrapStatements(context).map((sql, i) => [`bootstrap-${i + 1}`, sql] as [string, string]),
    ...migrations,
    ['changelog-create', createChangelogSql(tableSpec, changelogColumns)],
    ['changelog-add-columns', addChangelogColumnsSql(tableSpec, changelogColumns.slice(3))],
    ['changelog-drop', dropChangelogSql(tableSpec)],
    ['capture-view-create', createViewSql(spec)],
    ['capture-view-modify', modifyViewSql(spec)],
    ['capture-view-drop', dropViewSql(source, 'tailhouse', 'prod')],
    ['stream-block-columns', enableBlockColumnsSql(source, 'prod')],
  ]
}

describe('cluster DDL', () => {
  it.each(statements())('%s parses and matches its golden file', async (name, sql) => {
    const client = await testClickHouse()
    const [row] = await rows<{ f: string }>(client, `SELECT formatQuery(${quoteString(sql)}) AS f`)
    const formatted = `${row?.f}\n`
    // DDL runs on every host; a row inserted into a replicated table reaches the others by replication.
    if (!formatted.startsWith('INSERT')) expect(formatted).toContain('ON CLUSTER prod')
    const path = join(goldenDir, `${name}.sql`)
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
      if (process.env.CI) throw new Error(`golden file ${path} is missing; run UPDATE_GOLDEN=1 locally and review it`)
      mkdirSync(goldenDir, { recursive: true })
      writeFileSync(path, formatted)
    }
    expect(formatted).toBe(readFileSync(path, 'utf8'))
  })

  it('uses replicated engines with shard and replica macros, and one cluster-wide group for the registry', () => {
    const all = statements()
      .map(([, sql]) => sql)
      .join('\n')
    expect(all).toContain("ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')")
    expect(all).toContain(
      "ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', updated_at)",
    )
    expect(all).toContain('replicated_deduplication_window = 10000')
    expect(all).not.toMatch(/ENGINE = MergeTree\b/)
  })
})
