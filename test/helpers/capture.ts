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
import { changelogQuery } from '../../engine/source/changelog-query.js'
import { parseRowBinaryRows } from '../../engine/source/changelog-wire.js'
import { streamQuery } from '../../engine/source/stream-query.js'
import { rows, testClickHouse, testDatabase } from './clickhouse.js'
import { uniqueName } from './names.js'

export interface CapturedRow {
  source: string
  op: string
  schemaVersion: number
  blockNumber: number
  blockOffset: number
  queryId: string
  ingestMicros: bigint
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

/**
 * Every changelog row, per source (in registry order) in cursor order, read with the engine's own rowbinary query
 * (changelog-query.ts) and decoded with the registered version it names (or, for a drifted row, whose fingerprint
 * it carries). For a source in stream mode: every row of the table itself, read with the engine's STREAM query
 * (stream-query.ts).
 */
export async function readChangelog(client: ClickHouseClient, database: string): Promise<CapturedRow[]> {
  const registry = await readRegistry(client, database)
  const out: CapturedRow[] = []
  for (const source of [...new Set(registry.map((v) => v.source))]) {
    const versions = registry.filter((v) => v.source === source)
    const decoders = new Map<string, { version: number; decode: (payload: Uint8Array) => Record<string, unknown> }>()
    const columns = (v: (typeof versions)[number]) =>
      v.columns.map((c) => ({ ...toCapturedColumn(v.source, c.name, c.type), column: c.column }))
    for (const v of versions) {
      const decoder = { version: v.version, decode: createRowDecoder(columns(v)) }
      decoders.set(`v${v.version}`, decoder)
      decoders.set(`f${v.fingerprint}`, decoder)
    }
    const latest = versions.at(-1) as (typeof versions)[number]
    const protobuf = { timestamps: 'timestamp', enums: 'enum' } as const
    // Stream mode: the rows of the table itself, read as the engine reads them, with the newest version's columns.
    const streamed = latest.mode === 'stream'
    const query = streamed
      ? streamQuery({
          source,
          version: { ...latest, columns: columns(latest), keyColumns: [] },
          encoding: 'rowbinary',
          protobuf,
          readTimeoutMs: 10_000,
        })
      : changelogQuery({
          database,
          source,
          versions: versions.map((v) => ({
            version: v.version,
            columns: columns(v),
            fieldNumbers: v.fieldNumbers,
            keyColumns: [],
          })),
          encoding: 'rowbinary',
          protobuf,
        })
    const [count] = streamed ? await rows<{ n: string }>(client, `SELECT toString(count()) AS n FROM ${source}`) : []
    const result = await client.exec({
      query: query.sql.replace('{watermark}', '').replace('{stream_cursor}', ''),
      query_params: {
        p: [],
        b: [],
        o: [],
        limit: streamed ? Number(count?.n ?? 0) : 4_000_000_000,
        bb: '18446744073709551615',
        bo: '18446744073709551615',
      },
    })
    const chunks: Buffer[] = []
    for await (const chunk of result.stream) chunks.push(chunk as Buffer)
    for (const r of parseRowBinaryRows(Buffer.concat(chunks), source, false)) {
      const decoder = decoders.get(r.fingerprint === undefined ? `v${r.schemaVersion}` : `f${r.fingerprint}`)
      if (!decoder) throw new Error(`no registered version of ${source} for row ${r.blockNumber}/${r.blockOffset}`)
      out.push({
        source,
        op: r.op,
        schemaVersion: decoder.version,
        blockNumber: Number(r.blockNumber),
        blockOffset: Number(r.blockOffset),
        queryId: r.queryId,
        ingestMicros: r.ingestMicros,
        row: decoder.decode(r.payload as Buffer),
      })
    }
  }
  return out
}
