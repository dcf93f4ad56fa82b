/**
 * One tailhouse end-to-end run in its own process: embedded ClickHouse (chDB) with the source table captured by
 * `migrate`, the engine service started as `tailhouse start` starts it, and an inserter. Either as fast as
 * possible (`rows` rows), or at a fixed rate (`rate` rows/s for `seconds`). Reports when every row is committed.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createClickHouse } from '../../engine/clickhouse/client-factory.js'
import type { TailhouseConfig } from '../../engine/config/config.js'
import { type LogLevel, stderrLogger } from '../../engine/log.js'
import { migrate } from '../../engine/migrate.js'
import { startEngine } from '../../engine/start-engine.js'
import { benchConfig, benchDatabase } from '../lib/bench-config.js'
import { type CpuTime, cpuTime, cpuTimeSince } from '../lib/cpu-time.js'
import { workerMain } from '../lib/worker-main.js'
import { createSourceTable, workloads } from '../lib/workloads.js'

export interface EndToEndInput {
  bootstrap: string
  run: string
  runDir: string
  workload: keyof typeof workloads
  delivery: 'exactly-once' | 'at-least-once'
  /** max: insert `rows` as fast as ClickHouse takes them; rate: `rate` rows/s for `seconds`. */
  mode: { kind: 'max'; rows: number; rowsPerInsert: number } | { kind: 'rate'; rate: number; seconds: number }
  engine?: Partial<TailhouseConfig['engine']>
  /** How the source is captured: view (capture view and changelog) or stream (the table read with STREAM). */
  captureMode?: 'view' | 'stream'
}

export interface EndToEndOutput {
  rows: number
  /** From the first INSERT until the engine reported every row committed. */
  seconds: number
  insertSeconds: number
  /** CPU over the same span: the main thread (the engine; the inserter only waits on ClickHouse) and the process. */
  cpu: CpuTime
}

workerMain<EndToEndInput, EndToEndOutput>(async (input, report) => {
  const workload = workloads[input.workload]
  mkdirSync(input.runDir, { recursive: true })
  const client = await createClickHouse({ dataDir: join(input.runDir, 'clickhouse') })
  const config = benchConfig({ ...input, workload })
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${benchDatabase}` })
  await client.command({ query: createSourceTable(workload, `${benchDatabase}.${workload.name}`) })
  const migrated = await migrate({ client, config, configDir: input.runDir })
  if (!migrated.ok) throw new Error('tailhouse migrate failed')
  const engine = await startEngine({
    config,
    client,
    configDir: input.runDir,
    logger: stderrLogger((process.env.BENCH_ENGINE_LOG as LogLevel | undefined) ?? 'warn'),
  })
  const failed = engine.done.then((exit) => {
    throw new Error(`the engine ended early (${exit.reason}): ${exit.error?.message ?? ''}`)
  })
  const insert = (first: number, count: number) =>
    client.command({ query: `INSERT INTO ${benchDatabase}.${workload.name} ${workload.select(first, count)}` })

  report.event('inserting')
  const cpuBefore = cpuTime()
  const started = performance.now()
  let inserted = 0
  const progress = setInterval(() => {
    const s = engine.status()
    const elapsed = (performance.now() - started) / 1000
    report.progress(
      `${elapsed.toFixed(0)} s: inserted ${inserted}, committed ${s.rowsPublished}, lag ${s.lagRows ?? '?'} rows / ${s.lagMs} ms`,
    )
  }, 2000)
  try {
    const { mode } = input
    if (mode.kind === 'max') {
      while (inserted < mode.rows) {
        const count = Math.min(mode.rowsPerInsert, mode.rows - inserted)
        await Promise.race([insert(inserted + 1, count), failed])
        inserted += count
      }
    } else {
      // 20 INSERTs a second, each due at its time on a fixed schedule (no drift when one is late).
      const perInsert = Math.max(1, Math.round(mode.rate / 20))
      const total = Math.round(mode.rate * mode.seconds)
      while (inserted < total) {
        const due = started + (inserted / mode.rate) * 1000
        const wait = due - performance.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        const count = Math.min(perInsert, total - inserted)
        await Promise.race([insert(inserted + 1, count), failed])
        inserted += count
      }
    }
    const insertSeconds = (performance.now() - started) / 1000
    while (engine.status().rowsPublished < BigInt(inserted)) {
      await Promise.race([new Promise((r) => setTimeout(r, 5)), failed])
    }
    const seconds = (performance.now() - started) / 1000
    return { rows: inserted, seconds, insertSeconds, cpu: cpuTimeSince(cpuBefore) }
  } finally {
    clearInterval(progress)
    await engine.stop()
    await client.close()
  }
})
