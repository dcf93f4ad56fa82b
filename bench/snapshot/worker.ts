/**
 * One initial-snapshot run in its own process: embedded ClickHouse (chDB) with `rows` rows in the source table
 * before capture, `migrate`, then the engine started as `tailhouse start` starts it (snapshot: initial, the
 * default). Reports when every row is committed, and when the snapshot's copy (build) was done.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createClickHouse } from '../../engine/clickhouse/client-factory.js'
import type { TailhouseConfig } from '../../engine/config/config.js'
import { type LogLevel, stderrLogger } from '../../engine/log.js'
import { migrate } from '../../engine/migrate.js'
import { readSnapshots } from '../../engine/snapshot/snapshot-registry.js'
import { startEngine } from '../../engine/start-engine.js'
import { benchConfig, benchDatabase } from '../lib/bench-config.js'
import { type CpuTime, cpuTime, cpuTimeSince } from '../lib/cpu-time.js'
import { workerMain } from '../lib/worker-main.js'
import { createSourceTable, workloads } from '../lib/workloads.js'

export interface SnapshotInput {
  bootstrap: string
  run: string
  runDir: string
  workload: keyof typeof workloads
  rows: number
  rowsPerInsert: number
  engine?: Partial<TailhouseConfig['engine']>
}

export interface SnapshotOutput {
  rows: number
  /** From the engine's start until every row was committed. */
  seconds: number
  /** From the engine's start until the snapshot's rows were copied and settled (publishing began). */
  buildSeconds: number
  cpu: CpuTime
}

workerMain<SnapshotInput, SnapshotOutput>(async (input, report) => {
  const workload = workloads[input.workload]
  mkdirSync(input.runDir, { recursive: true })
  const client = await createClickHouse({ dataDir: join(input.runDir, 'clickhouse') })
  const config = benchConfig({ ...input, workload, delivery: 'exactly-once', snapshot: 'initial' })
  const table = `${benchDatabase}.${workload.name}`
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${benchDatabase}` })
  await client.command({ query: createSourceTable(workload, table) })
  report.event('filling the table before capture')
  for (let inserted = 0; inserted < input.rows; inserted += input.rowsPerInsert) {
    const count = Math.min(input.rowsPerInsert, input.rows - inserted)
    await client.command({ query: `INSERT INTO ${table} ${workload.select(inserted + 1, count)}` })
  }
  const migrated = await migrate({ client, config, configDir: input.runDir })
  if (!migrated.ok) throw new Error('tailhouse migrate failed')

  report.event('snapshot')
  const cpuBefore = cpuTime()
  const started = performance.now()
  const engine = await startEngine({
    config,
    client,
    configDir: input.runDir,
    logger: stderrLogger((process.env.BENCH_ENGINE_LOG as LogLevel | undefined) ?? 'warn'),
  })
  const failed = engine.done.then((exit) => {
    throw new Error(`the engine ended early (${exit.reason}): ${exit.error?.message ?? ''}`)
  })
  let buildSeconds = 0
  const progress = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000
    report.progress(`${elapsed.toFixed(0)} s: committed ${engine.status().rowsPublished} of ${input.rows}`)
  }, 2000)
  try {
    while (engine.status().rowsPublished < BigInt(input.rows)) {
      if (buildSeconds === 0) {
        const [snapshot] = await readSnapshots(client, config.capture.database, config.engine.id)
        if (snapshot && snapshot.status !== 'building') buildSeconds = (performance.now() - started) / 1000
      }
      await Promise.race([new Promise((r) => setTimeout(r, 20)), failed])
    }
    const seconds = (performance.now() - started) / 1000
    return { rows: input.rows, seconds, buildSeconds, cpu: cpuTimeSince(cpuBefore) }
  } finally {
    clearInterval(progress)
    await engine.stop()
    await client.close()
  }
})
