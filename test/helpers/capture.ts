import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import { readRegistry } from '../../engine/capture/registry.js'
import {
  engineDefaults,
  kafkaDefaults,
  type SourceConfig,
  type TailhouseConfig,
  telemetryDefaults,
} from '../../engine/config/config.js'
import { createRowDecoder } from '../../engine/encoding/rowbinary-decoder.js'
import { type MigrateOptions, migrate } from '../../engine/migrate.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { rows, testClickHouse, testDatabase } from './clickhouse.js'
import { uniqueName } from './names.js'

export interface CapturedRow {
  source: string
  op: string
  schemaVersion: number
  blockNumber: number
  blockOffset: number
  queryId: string
  row: Record<string, unknown>
}

/**
 * A capture set-up for one test: its own changelog database, source database and schemas directory, all
 * dropped when the test ends.
 */
export async function captureFixture(
  sources: (sourceDb: string) => SourceConfig[],
  overrides: Partial<TailhouseConfig['capture']> = {},
) {
  const client = await testClickHouse()
  const database = await testDatabase(client, uniqueName('th_capture'))
  const sourceDb = await testDatabase(client, uniqueName('th_src'))
  const schemasDir = mkdtempSync(join(tmpdir(), 'tailhouse-schemas-'))
  const config: TailhouseConfig = {
    clickhouse: { url: undefined, username: undefined, password: undefined, database: undefined, dataDir: undefined },
    capture: {
      database,
      cluster: undefined,
      retentionDays: 7,
      dedupWindow: 1000,
      checkSettings: true,
      sources: sources(sourceDb),
      ...overrides,
    },
    protobuf: { schemasDir, timestamps: 'timestamp', enums: 'enum' },
    kafka: kafkaDefaults,
    engine: engineDefaults,
    // Tests run many engines at once: no fixed port.
    telemetry: { ...telemetryDefaults, httpPort: 0 },
  }
  return {
    client,
    database,
    sourceDb,
    schemasDir,
    config,
    migrate: (options: Partial<MigrateOptions> = {}) => migrate({ client, config, ...options }),
    changelog: () => readChangelog(client, database),
  }
}

/** Every changelog row in cursor order, its payload decoded with the registered version its fingerprint names. */
export async function readChangelog(client: ClickHouseClient, database: string): Promise<CapturedRow[]> {
  const registry = await readRegistry(client, database)
  const decoders = new Map<string, (payload: Uint8Array) => Record<string, unknown>>()
  for (const v of registry) {
    const columns = v.columns.map((c) => ({ name: c.name, type: toCapturedColumn(v.source, c.name, c.type).type }))
    decoders.set(`${v.source}/${v.fingerprint}`, createRowDecoder(columns))
  }
  const changelog = await rows<{
    source: string
    op: string
    schema_version: number
    fingerprint: string
    bn: string
    bo: string
    query_id: string
    payload: string
  }>(
    client,
    `SELECT source, op, schema_version, toString(schema_fingerprint) AS fingerprint, _block_number AS bn,
            _block_offset AS bo, query_id, hex(payload) AS payload
     FROM ${database}.changelog ORDER BY _partition_id, _block_number, _block_offset`,
  )
  return changelog.map((r) => {
    const decode = decoders.get(`${r.source}/${r.fingerprint}`)
    if (!decode) throw new Error(`no registered version of ${r.source} has fingerprint ${r.fingerprint}`)
    return {
      source: r.source,
      op: r.op,
      schemaVersion: Number(r.schema_version),
      blockNumber: Number(r.bn),
      blockOffset: Number(r.bo),
      queryId: r.query_id,
      row: decode(Buffer.from(r.payload, 'hex')),
    }
  })
}
