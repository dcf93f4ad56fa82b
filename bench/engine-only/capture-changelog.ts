/**
 * Untimed preparation for the engine-only benchmark, in its own process (embedded ClickHouse): captures a
 * workload's rows into its changelog exactly as `migrate` sets it up, then writes the changelog out as the engine
 * receives it — the responses of the engine's own changelog query (ClickHouse-encoded messages), `batchRows` rows
 * each, in cursor order — plus the registry.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readChangelogIdentity } from '../../engine/capture/identity.js'
import { readRegistry } from '../../engine/capture/registry.js'
import { createClickHouse } from '../../engine/clickhouse/client-factory.js'
import { migrate } from '../../engine/migrate.js'
import { cursorParams } from '../../engine/source/changelog-query.js'
import { fetchChangelog, parseChangelog } from '../../engine/source/changelog-source.js'
import { type Cursor, cursorAfter } from '../../engine/source/cursor.js'
import { detectFormatSchemas } from '../../engine/source/format-schemas.js'
import { SourceSchemas } from '../../engine/source/source-schemas.js'
import { benchConfig, benchDatabase } from '../lib/bench-config.js'
import { workerMain } from '../lib/worker-main.js'
import { createSourceTable, workloads } from '../lib/workloads.js'

export interface CaptureInput {
  runDir: string
  workload: keyof typeof workloads
  rows: number
  batchRows: number
  /** Partitions of the topic: ClickHouse computes each key's partition in the query. */
  partitions: number
}

export interface CapturedChangelog {
  /** Files of one changelog query response each, in order. */
  responses: string[]
  registryFile: string
  /** How to parse them (changelog-source.ts parseChangelog). */
  query: { schema: string; keyed: boolean }
  source: string
  /** The capture database's identity, as the engine binds to it. */
  changelogId: string
}

workerMain<CaptureInput, CapturedChangelog>(async (input, report) => {
  const workload = workloads[input.workload]
  mkdirSync(input.runDir, { recursive: true })
  const client = await createClickHouse({ dataDir: join(input.runDir, 'clickhouse') })
  try {
    const config = benchConfig({
      bootstrap: '127.0.0.1:9',
      run: 'capture',
      runDir: input.runDir,
      workload,
      delivery: 'exactly-once',
    })
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${benchDatabase}` })
    await client.command({ query: createSourceTable(workload, `${benchDatabase}.${workload.name}`) })
    const migrated = await migrate({ client, config, configDir: input.runDir })
    if (!migrated.ok) throw new Error('tailhouse migrate failed')
    for (let first = 0; first < input.rows; first += 50_000) {
      const count = Math.min(50_000, input.rows - first)
      await client.command({
        query: `INSERT INTO ${benchDatabase}.${workload.name} ${workload.select(first + 1, count)}`,
      })
    }
    report.progress(`captured ${input.rows} ${workload.name} rows; writing the changelog out`)
    const schemas = new SourceSchemas({
      client,
      database: config.capture.database,
      format: config.engine.format,
      protobuf: config.protobuf,
      sources: config.capture.sources,
    })
    await schemas.load()
    const source = `${benchDatabase}.${workload.name}`
    const query = schemas.query(source)
    const formatSchemas = await detectFormatSchemas(client)
    const responses: string[] = []
    let cursor: Cursor = new Map()
    for (;;) {
      const params = { ...cursorParams(cursor, source), limit: input.batchRows, partitions: input.partitions }
      const response = await fetchChangelog(client, query, params, '', 'embedded ClickHouse', formatSchemas)
      const rows = parseChangelog(query, response, source)
      if (rows.length === 0) break
      const file = join(input.runDir, `response-${responses.length}.bin`)
      writeFileSync(file, response)
      responses.push(file)
      cursor = cursorAfter(cursor, rows)
    }
    const registryFile = join(input.runDir, 'registry.json')
    writeFileSync(registryFile, JSON.stringify(await readRegistry(client, 'tailhouse')))
    const changelogId = await readChangelogIdentity(client, 'tailhouse')
    return { responses, registryFile, query: { schema: query.schema, keyed: query.keyed }, source, changelogId }
  } finally {
    await client.close()
  }
})
