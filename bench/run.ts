/**
 * npm run bench: every benchmark in one go, on the local stack, with the same rows; writes
 * bench/results/<date>.json and <date>.md and prints the table. See bench/README.md.
 *
 *   npm run bench                 # the full run (about 10 minutes on 2 cores)
 *   npm run bench -- --quick      # fewer rows, for a smoke test
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startKafka } from '../test/stack/kafka-server.js'
import { repoRoot } from '../test/stack/paths.js'
import { measureBrokerLimit } from './broker-limit/run.js'
import { measureCaptureOverhead } from './capture-overhead/run.js'
import { measureEndToEnd } from './end-to-end/run.js'
import { measureEngineOnly } from './engine-only/run.js'
import { type BenchResults, renderMarkdown } from './lib/report.js'
import { narrow, wide } from './lib/workloads.js'
import { measureNativeKafkaEngine } from './native-kafka-engine/run.js'
import { measureSnapshot } from './snapshot/run.js'

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } })
const scale = values.quick ? 0.1 : 1
const rows = { narrow: Math.round(1_000_000 * scale), wide: Math.round(200_000 * scale) }
const rowsPerInsert = 10_000
const partitions = 6
const latencySeconds = values.quick ? 5 : 20
// What capture costs the source's INSERTs: at least 1M rows per workload in INSERTs of 100k (issue 10); a quick run
// keeps three rounds, so that each variant goes first once.
const overheadRowsPerInsert = 100_000
const overheadRows = Math.max(3 * overheadRowsPerInsert, Math.round(1_000_000 * scale))

const startedAt = new Date()
const results: BenchResults = {
  startedAt: startedAt.toISOString(),
  machine: machineFacts(),
  settings: {
    rows,
    rowsPerInsert,
    partitions,
    latencySeconds,
    captureOverhead: { rows: overheadRows, rowsPerInsert: overheadRowsPerInsert },
    quick: values.quick,
  },
  endToEnd: [],
  latency: [],
  engineOnly: [],
  brokerLimit: [],
  nativeKafkaEngine: [],
  captureOverhead: [],
}

const steps = 19
let step = 0
function stage(title: string) {
  step += 1
  process.stdout.write(`\n[${step}/${steps}] ${title}  (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s)\n`)
}
const progress = (line: string) => process.stdout.write(`    ${line}\n`)

const external = process.env.KAFKA_BOOTSTRAP
const stackDir = mkdtempSync(join(tmpdir(), 'tailhouse-bench-stack-'))
const kafka = external ? undefined : await startKafka(stackDir)
const bootstrap = external ?? (kafka?.bootstrap as string)
let exitCode = 1
try {
  for (const [workload, delivery, captureMode] of [
    [narrow, 'exactly-once', 'view'],
    [narrow, 'at-least-once', 'view'],
    [wide, 'exactly-once', 'view'],
    [wide, 'at-least-once', 'view'],
    // Stream mode (no view: the table read with SELECT … STREAM) next to view mode.
    [narrow, 'exactly-once', 'stream'],
    [wide, 'exactly-once', 'stream'],
  ] as const) {
    stage(
      `tailhouse end to end, ${workload.name} rows, ${delivery}, mode ${captureMode}, ${rows[workload.name]} rows at the maximum rate`,
    )
    results.endToEnd.push(
      await measureEndToEnd({
        bootstrap,
        workload,
        delivery,
        mode: { kind: 'max', rows: rows[workload.name], rowsPerInsert },
        partitions,
        progress,
        captureMode,
      }),
    )
  }
  for (const rate of [1_000, 10_000]) {
    stage(`tailhouse latency, narrow rows, exactly-once, ${rate} rows/s for ${latencySeconds} s`)
    results.latency.push(
      await measureEndToEnd({
        bootstrap,
        workload: narrow,
        delivery: 'exactly-once',
        mode: { kind: 'rate', rate, seconds: latencySeconds },
        partitions,
        progress,
      }),
    )
  }
  for (const [workload, delivery] of [
    [narrow, 'exactly-once'],
    [narrow, 'at-least-once'],
    [wide, 'exactly-once'],
  ] as const) {
    stage(`engine only, ${workload.name} rows, ${delivery}, ${rows[workload.name]} pre-captured changelog rows`)
    results.engineOnly.push(
      await measureEngineOnly({ bootstrap, workload, delivery, rows: rows[workload.name], partitions, progress }),
    )
  }
  // The broker's limit for tailhouse's narrow messages: same count (at least 2M, so the JVM is warm for most of
  // the run) and the same record size (key + value + headers).
  const narrowRun = results.endToEnd[0]
  stage(`broker limit: Kafka ProducerPerformance, ${narrowRun?.avgRecordBytes} B records (idempotent, transactional)`)
  results.brokerLimit.push(
    ...(await measureBrokerLimit({
      bootstrap,
      records: Math.max(2_000_000, rows.narrow),
      recordSize: narrowRun?.avgRecordBytes ?? 300,
      compression: 'lz4',
      partitions,
      transactionDurationMs: 100,
      progress,
    })),
  )
  for (const workload of [narrow, wide]) {
    stage(`peer: ClickHouse Kafka engine, ${workload.name} rows, ${rows[workload.name]} rows`)
    results.nativeKafkaEngine.push(
      await measureNativeKafkaEngine({
        bootstrap,
        workload,
        rows: rows[workload.name],
        rowsPerInsert,
        partitions,
        progress,
      }),
    )
  }
  stage(`initial snapshot, narrow rows, exactly-once, ${rows.narrow} rows in the table before capture`)
  results.snapshot = await measureSnapshot({
    bootstrap,
    workload: narrow,
    rows: rows.narrow,
    rowsPerInsert: 100_000,
    partitions,
    progress,
  })
  for (const workload of [narrow, wide]) {
    stage(
      `capture overhead, ${workload.name} rows: ${overheadRows} rows in INSERTs of ${overheadRowsPerInsert}, no capture / tailhouse view / tailhouse stream / Kafka engine interleaved`,
    )
    results.captureOverhead.push(
      await measureCaptureOverhead({
        bootstrap,
        workload,
        rows: overheadRows,
        rowsPerInsert: overheadRowsPerInsert,
        partitions,
        progress,
      }),
    )
  }
  step = steps - 1
  stage('writing results')
  const markdown = renderMarkdown(results)
  const dir = join(repoRoot, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  // Quick runs are smoke tests: written, but git-ignored.
  const name = `${startedAt.toISOString().slice(0, 16).replace(':', '')}${values.quick ? '-quick' : ''}`
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`)
  writeFileSync(join(dir, `${name}.md`), markdown)
  process.stdout.write(`\n${markdown}\nwritten: bench/results/${name}.json and .md\n`)
  exitCode = 0
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`)
} finally {
  await kafka?.stop()
  rmSync(stackDir, { recursive: true, force: true })
}
process.exit(exitCode)

function machineFacts() {
  return {
    node: process.versions.node,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
  }
}
