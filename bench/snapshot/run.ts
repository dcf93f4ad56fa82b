/**
 * tailhouse initial snapshot: a table filled before capture → every row committed in Kafka with op read. See
 * README.md.
 *
 *   npx tsx bench/snapshot/run.ts --workload narrow --rows 1000000
 */
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { TailhouseConfig } from '../../engine/config/config.js'
import { ensureTopics } from '../../engine/kafka/topics.js'
import { benchTopic } from '../lib/bench-config.js'
import { runWorker, siblingScript } from '../lib/child.js'
import { cpuPerRow } from '../lib/cpu-time.js'
import { deleteTopics } from '../lib/delete-topics.js'
import type { ProcessSample } from '../lib/process-sampler.js'
import { verifyTopic } from '../lib/verify-topic.js'
import { type Workload, workloads } from '../lib/workloads.js'
import type { SnapshotInput, SnapshotOutput } from './worker.js'

export interface SnapshotOptions {
  bootstrap: string
  workload: Workload
  rows: number
  rowsPerInsert: number
  partitions: number
  progress: (line: string) => void
  engine?: Partial<TailhouseConfig['engine']>
}

export interface SnapshotResult {
  workload: string
  rows: number
  /** Engine start → every row committed: the snapshot's copy and settling, then its publishing. */
  seconds: number
  rowsPerSecond: number
  /** The copy and the diff against the changelog (inside ClickHouse), before the first row is published. */
  buildSeconds: number
  /** Publishing alone: rows / (seconds - buildSeconds). */
  publishRowsPerSecond: number
  cpuMicrosPerRow: number | undefined
  processCpuMicrosPerRow: number
  process: ProcessSample
  /** read_committed check: every row exactly once. */
  verified: { records: number; missing: number; duplicated: number }
}

export async function measureSnapshot(options: SnapshotOptions): Promise<SnapshotResult> {
  const run = `bench-snapshot-${options.workload.name}-${Date.now().toString(36)}`
  const runDir = join(tmpdir(), run)
  const topic = benchTopic(run, options.workload)
  await ensureTopics({ bootstrapBrokers: [options.bootstrap], clientId: 'tailhouse-bench' }, [
    { name: topic, partitions: options.partitions, replicationFactor: 1 },
  ])
  try {
    const input: SnapshotInput = {
      bootstrap: options.bootstrap,
      run,
      runDir,
      workload: options.workload.name,
      rows: options.rows,
      rowsPerInsert: options.rowsPerInsert,
      engine: { ...options.engine },
    }
    const { result, usage } = await runWorker<SnapshotOutput>({
      script: siblingScript(import.meta.url, 'worker'),
      input,
      progress: options.progress,
    })
    const verified = await verifyTopic(options.bootstrap, topic, result.rows)
    return {
      workload: options.workload.name,
      rows: result.rows,
      seconds: round(result.seconds, 2),
      rowsPerSecond: Math.round(result.rows / result.seconds),
      buildSeconds: round(result.buildSeconds, 2),
      publishRowsPerSecond: Math.round(result.rows / Math.max(0.001, result.seconds - result.buildSeconds)),
      ...cpuPerRow(result.cpu, result.rows),
      process: usage,
      verified: { records: verified.records, missing: verified.missing, duplicated: verified.duplicated },
    }
  } finally {
    await deleteTopics([options.bootstrap], [topic, `${run}.checkpoints`])
    rmSync(runDir, { recursive: true, force: true })
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

if (process.argv[1] === import.meta.filename) {
  const { values } = parseArgs({
    options: {
      workload: { type: 'string', default: 'narrow' },
      rows: { type: 'string', default: '1000000' },
      'batch-rows': { type: 'string' },
    },
  })
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (!bootstrap) throw new Error('set KAFKA_BOOTSTRAP (npm run stack prints it)')
  const result = await measureSnapshot({
    bootstrap,
    workload: workloads[values.workload as keyof typeof workloads],
    rows: Number(values.rows),
    rowsPerInsert: 100_000,
    partitions: 6,
    engine: values['batch-rows'] ? { batchMaxRows: Number(values['batch-rows']) } : {},
    progress: (line) => process.stderr.write(`  ${line}\n`),
  })
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  process.exit(0)
}
