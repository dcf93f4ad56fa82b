import type { ClickHouseClient } from '@clickhouse/client'
import { quoteIdentifier, quoteString } from '../clickhouse/sql.js'
import { MigrationError } from '../errors.js'
import { version as tailhouseVersion } from '../version.js'
import { readMigrationFiles } from './migration-files.js'
import { renderTemplate, splitStatements, type TemplateContext } from './render.js'

export interface EngineMigrationOptions extends TemplateContext {
  client: ClickHouseClient
  /** The directory of NNNN_name.sql files (the package's migrations/). */
  migrationsDir: string
  /** Print what would run, run nothing. */
  dryRun: boolean
  /** Receives every statement before it runs (or instead, in a dry run). */
  onStatement?: (sql: string) => void
}

export interface EngineMigrationResult {
  name: string
  status: 'applied' | 'already applied' | 'would apply'
}

const ledgerTable = 'migrations'

/**
 * Applies the engine's own migrations in order, recording each in a ledger table with its checksum. Every
 * statement is idempotent (IF NOT EXISTS), so a run that stopped midway is completed by the next one; a file
 * whose checksum differs from the ledger's is refused, because what it created no longer matches it.
 */
export async function migrateEngine(options: EngineMigrationOptions): Promise<EngineMigrationResult[]> {
  const { client, database, dryRun } = options
  const files = readMigrationFiles(options.migrationsDir)
  const bootstrap = bootstrapStatements(options)
  const run = async (sql: string) => {
    options.onStatement?.(sql)
    if (!dryRun) await client.command({ query: sql })
  }
  for (const sql of bootstrap) await run(sql)

  const applied = await readLedger(client, database)
  const results: EngineMigrationResult[] = []
  for (const file of files) {
    const recorded = applied.get(file.name)
    if (recorded !== undefined) {
      if (recorded !== file.checksum) {
        throw new MigrationError(
          file.name,
          `was applied with checksum ${recorded.slice(0, 12)}… but the file now has ${file.checksum.slice(0, 12)}…; ` +
            'applied migrations must not change: restore the file and add a new migration instead',
        )
      }
      results.push({ name: file.name, status: 'already applied' })
      continue
    }
    for (const statement of splitStatements(renderTemplate(file.name, file.template, options))) {
      try {
        await run(statement)
      } catch (error) {
        throw new MigrationError(file.name, `failed: ${(error as Error).message}`, { cause: error })
      }
    }
    await run(
      `INSERT INTO ${quoteIdentifier(database)}.${ledgerTable} (name, checksum, tailhouse_version) VALUES ` +
        `(${quoteString(file.name)}, ${quoteString(file.checksum)}, ${quoteString(tailhouseVersion)})`,
    )
    results.push({ name: file.name, status: dryRun ? 'would apply' : 'applied' })
  }
  return results
}

/** The database and the ledger table, created before any migration runs. */
export function bootstrapStatements(context: TemplateContext): string[] {
  const onCluster = context.cluster ? ` ON CLUSTER ${quoteIdentifier(context.cluster)}` : ''
  return [
    `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(context.database)}${onCluster}`,
    renderTemplate(
      'ledger',
      `CREATE TABLE IF NOT EXISTS {{database}}.${ledgerTable} {{on_cluster}}
(
    name String,
    checksum String,
    applied_at DateTime64(3) DEFAULT now64(3),
    tailhouse_version String
)
ENGINE = {{ledger_engine}}
ORDER BY name`,
      context,
    ),
  ]
}

/** name → checksum of the applied migrations; empty when the ledger does not exist yet (a dry run on a new server). */
async function readLedger(client: ClickHouseClient, database: string): Promise<Map<string, string>> {
  const exists = await client.query({
    query: 'SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {table:String}',
    query_params: { db: database, table: ledgerTable },
    format: 'JSONEachRow',
  })
  const [row] = await exists.json<{ n: string | number }>()
  if (Number(row?.n ?? 0) === 0) return new Map()
  const result = await client.query({
    query: `SELECT name, checksum FROM ${quoteIdentifier(database)}.${ledgerTable} FINAL`,
    format: 'JSONEachRow',
  })
  return new Map((await result.json<{ name: string; checksum: string }>()).map((r) => [r.name, r.checksum]))
}
