import { quoteIdentifier } from '../clickhouse/sql.js'
import { MigrationError } from '../errors.js'

/** What a migration template may refer to, as `{{name}}`. */
export interface TemplateContext {
  database: string
  cluster: string | undefined
}

/**
 * Renders a migration template for a single server or a cluster. The cluster variant is generated, never
 * hand-written: ON CLUSTER on every DDL, Replicated engines with the {shard}/{replica} macros for per-shard
 * tables, and one replication group across all hosts for tables that must be identical everywhere. (The per-source
 * changelog tables are not migrations: capture creates them, see capture/changelog-table.ts.)
 */
export function renderTemplate(name: string, template: string, context: TemplateContext): string {
  const cluster = context.cluster
  const variables: Record<string, string> = {
    database: quoteIdentifier(context.database),
    on_cluster: cluster ? `ON CLUSTER ${quoteIdentifier(cluster)}` : '',
    registry_engine: cluster ? globalReplicated('ReplacingMergeTree', 'updated_at') : 'ReplacingMergeTree(updated_at)',
    ledger_engine: cluster ? globalReplicated('ReplacingMergeTree', 'applied_at') : 'ReplacingMergeTree(applied_at)',
  }
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = variables[key]
    if (value === undefined) throw new MigrationError(name, `unknown template variable {{${key}}}`)
    return value
  })
}

/** One replication group across every host of the cluster: the same rows on all shards. */
function globalReplicated(engine: string, version: string): string {
  return `Replicated${engine}('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', ${version})`
}

/** Splits a rendered file into statements: each ends with `;` at the end of a line. Comment lines are dropped. */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
  return withoutComments
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}
