import { describe, expect, it } from 'vitest'
import { MigrationError } from '../../engine/errors.js'
import { renderTemplate, splitStatements } from '../../engine/migrations/render.js'

const single = { database: 'tailhouse', cluster: undefined, retentionDays: 7, dedupWindow: 100 }
const cluster = { ...single, cluster: 'prod' }

describe('migration templates', () => {
  it('renders a single-server variant', () => {
    const sql = renderTemplate(
      't',
      'CREATE TABLE {{database}}.x {{on_cluster}} ENGINE = {{changelog_engine}} SETTINGS {{dedup_window_setting}}',
      single,
    )
    expect(sql).toBe(
      'CREATE TABLE `tailhouse`.x  ENGINE = MergeTree SETTINGS non_replicated_deduplication_window = 100',
    )
  })

  it('generates the cluster variant: ON CLUSTER, per-shard and cluster-wide replication', () => {
    const t = '{{on_cluster}}|{{changelog_engine}}|{{registry_engine}}|{{dedup_window_setting}}'
    expect(renderTemplate('t', t, cluster).split('|')).toEqual([
      'ON CLUSTER `prod`',
      "ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
      "ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{shard}-{replica}', updated_at)",
      'replicated_deduplication_window = 100',
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
