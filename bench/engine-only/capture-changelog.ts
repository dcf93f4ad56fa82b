/**
 * Untimed preparation for the engine-only benchmark, in its own process (embedded ClickHouse): captures a
 * workload's rows into the changelog exactly as `migrate` sets it up, then writes the changelog out as the
 * engine reads it — RowBinary responses of at most `batchRows` rows, in cursor order — plus the registry.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readRegistry } from '../../engine/capture/registry.js'
import { createClickHouse } from '../../engine/clickhouse/client-factory.js'
import { migrate } from '../../engine/migrate.js'
import { changelogWireColumns } from '../../engine/source/changelog-wire.js'
import { benchConfig, benchDatabase } from '../lib/bench-config.js'
import { workerMain } from '../lib/worker-main.js'
import { createSourceTable, workloads } from '../lib/workloads.js'

export interface CaptureInput {
  runDir: string
  workload: keyof typeof workloads
  rows: number
  batchRows: number
}

export interface CapturedChangelog {
  /** Files of one RowBinary response each, in order. */
  responses: string[]
  registryFile: string
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
    const responses: string[] = []
    for (let offset = 0; offset < input.rows; offset += input.batchRows) {
      const result = await client.exec({
        query: `SELECT ${changelogWireColumns} FROM tailhouse.changelog
                ORDER BY _block_number, _block_offset LIMIT ${input.batchRows} OFFSET ${offset} FORMAT RowBinary`,
      })
      const chunks: Buffer[] = []
      for await (const chunk of result.stream) chunks.push(chunk as Buffer)
      const file = join(input.runDir, `response-${responses.length}.bin`)
      writeFileSync(file, Buffer.concat(chunks))
      responses.push(file)
    }
    const registryFile = join(input.runDir, 'registry.json')
    writeFileSync(registryFile, JSON.stringify(await readRegistry(client, 'tailhouse')))
    return { responses, registryFile }
  } finally {
    await client.close()
  }
})
