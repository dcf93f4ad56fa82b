/**
 * Engine only: tailhouse's own cost per row, with the changelog captured beforehand (no ClickHouse while timed).
 * See README.md.
 *
 *   npx tsx bench/engine-only/run.ts --workload narrow --rows 1000000
 */
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { engineDefaults } from '../../engine/config/config.js'
import { ensureTopics } from '../../engine/kafka/topics.js'
import { benchTopic } from '../lib/bench-config.js'
import { runWorker, siblingScript } from '../lib/child.js'
import { cpuPerRow } from '../lib/cpu-time.js'
import { deleteTopics } from '../lib/delete-topics.js'
import type { ProcessSample } from '../lib/process-sampler.js'
import { verifyTopic } from '../lib/verify-topic.js'
import { type Workload, workloads } from '../lib/workloads.js'
import type { CapturedChangelog, CaptureInput } from './capture-changelog.js'
import type { EngineOnlyInput, EngineOnlyOutput } from './worker.js'

export interface EngineOnlyOptions {
  bootstrap: string
  workload: Workload
  delivery: 'exactly-once' | 'at-least-once'
  rows: number
  partitions: number
  progress: (line: string) => void
  nodeFlags?: string[]
}

export interface EngineOnlyResult {
  workload: string
  delivery: string
  rows: number
  seconds: number
  rowsPerSecond: number
  mbPerSecond: number
  avgRecordBytes: number
  batches: number
  /** CPU µs per row of the main thread (the engine loop) and of the whole process (no ClickHouse in it here). */
  cpuMicrosPerRow: number | undefined
  processCpuMicrosPerRow: number
  /** The engine process alone: peak RSS and CPU. */
  process: ProcessSample
  verified: { records: number; missing: number; duplicated: number }
}

export async function measureEngineOnly(options: EngineOnlyOptions): Promise<EngineOnlyResult> {
  const run = `bench-engine-${options.workload.name}-${Date.now().toString(36)}`
  const runDir = join(tmpdir(), run)
  try {
    options.progress(`capturing ${options.rows} ${options.workload.name} rows into a changelog (untimed)`)
    const captureInput: CaptureInput = {
      runDir,
      workload: options.workload.name,
      rows: options.rows,
      batchRows: engineDefaults.batchMaxRows,
      partitions: options.partitions,
    }
    const captured = await runWorker<CapturedChangelog>({
      script: siblingScript(import.meta.url, 'capture-changelog'),
      input: captureInput,
      progress: options.progress,
    })
    const topic = benchTopic(run, options.workload)
    // What the engine creates at start: the source's topic and the compacted checkpoint topic.
    await ensureTopics({ bootstrapBrokers: [options.bootstrap], clientId: 'tailhouse-bench' }, [
      { name: topic, partitions: options.partitions, replicationFactor: 1 },
      { name: `${run}.checkpoints`, partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } },
    ])
    const input: EngineOnlyInput = {
      ...captured.result,
      bootstrap: options.bootstrap,
      run,
      runDir,
      workload: options.workload.name,
      delivery: options.delivery,
      rows: options.rows,
    }
    const { result, usage } = await runWorker<EngineOnlyOutput>({
      script: siblingScript(import.meta.url, 'worker'),
      input,
      progress: options.progress,
      nodeFlags: options.nodeFlags,
    })
    const verified = await verifyTopic(options.bootstrap, topic, options.rows)
    return {
      workload: options.workload.name,
      delivery: options.delivery,
      rows: result.rows,
      seconds: Math.round(result.seconds * 100) / 100,
      rowsPerSecond: Math.round(result.rows / result.seconds),
      mbPerSecond: Math.round((verified.bytes / result.seconds / 2 ** 20) * 10) / 10,
      avgRecordBytes: Math.round(verified.bytes / Math.max(1, verified.records)),
      batches: result.batches,
      ...cpuPerRow(result.cpu, result.rows),
      process: usage,
      verified: { records: verified.records, missing: verified.missing, duplicated: verified.duplicated },
    }
  } finally {
    await deleteTopics([options.bootstrap], [benchTopic(run, options.workload), `${run}.checkpoints`])
    rmSync(runDir, { recursive: true, force: true })
  }
}

if (process.argv[1] === import.meta.filename) {
  const { values } = parseArgs({
    options: {
      workload: { type: 'string', default: 'narrow' },
      delivery: { type: 'string', default: 'exactly-once' },
      rows: { type: 'string', default: '1000000' },
      profile: { type: 'boolean', default: false },
    },
  })
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (!bootstrap) throw new Error('set KAFKA_BOOTSTRAP (npm run stack prints it)')
  const result = await measureEngineOnly({
    bootstrap,
    workload: workloads[values.workload as keyof typeof workloads],
    delivery: values.delivery as EngineOnlyOptions['delivery'],
    rows: Number(values.rows),
    partitions: 6,
    progress: (line) => process.stderr.write(`  ${line}\n`),
    nodeFlags: [
      ...(values.profile ? ['--cpu-prof', '--cpu-prof-dir=.cache/profiles'] : []),
      ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
    ],
  })
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  process.exit(0)
}
