import { describe, expect, it } from 'vitest'
import { MigrationError } from '../../engine/errors.js'
import { renderTemplate, splitStatements } from '../../engine/migrations/render.js'

const single = { database: 'tailhouse', cluster: undefined }
const cluster = { ...single, cluster: 'prod' }

describe('migration templates', () => {
  it('renders a single-server variant', () => {
    const sql = renderTemplate('t', 'CREATE TABLE {{database}}.x {{on_cluster}} ENGINE = {{registry_engine}}', single)
    expect(sql).toBe('CREATE TABLE `tailhouse`.x  ENGINE = ReplacingMergeTree(updated_at)')
  })

  it('generates the cluster variant: ON CLUSTER and cluster-wide replication', () => {
    const t = '{{on_cluster}}|{{registry_engine}}|{{ledger_engine}}'
    expect(renderTemplate('t', t, cluster).split('|')).toEqual([
      'ON CLUSTER `prod`',
      "ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', updated_at)",
      "ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', applied_at)",
    ])
  })

  it('refuses an unknown variable, naming the file', () => {
    expect(() => renderTemplate('0009_x.sql', 'SELECT {{nope}}', single)).toThrow(MigrationError)
    expect(() => renderTemplate('0009_x.sql', 'SELECT {{nope}}', single)).toThrow(
      '0009_x.sql: unknown template variable {{nope}}',
    )
  })

  it('splits statements at line-final semicolons and drops comment lines', () => {
    expect(
      splitStatements(
        "-- a comment; with a semicolon\nCREATE TABLE a (x String DEFAULT ';');\n\nCREATE TABLE b (y UInt8);\n",
      ),
    ).toEqual(["CREATE TABLE a (x String DEFAULT ';')", 'CREATE TABLE b (y UInt8)'])
  })
})
