/**
 * tailhouse end to end: INSERT into a captured source table → committed in Kafka. See README.md.
 *
 *   npx tsx bench/end-to-end/run.ts --workload narrow --delivery exactly-once --rows 1000000
 *   npx tsx bench/end-to-end/run.ts --workload narrow --rate 10000 --seconds 20
 *   npx tsx bench/end-to-end/run.ts --workload narrow --rows 1000000 --capture stream
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
import { LatencyConsumer, percentile } from '../lib/latency-consumer.js'
import type { ProcessSample } from '../lib/process-sampler.js'
import { verifyTopic } from '../lib/verify-topic.js'
import { type Workload, workloads } from '../lib/workloads.js'
import type { EndToEndInput, EndToEndOutput } from './worker.js'

/** Fixed-rate runs: rows inserted in the first seconds are delivered but not counted in the latency figures. */
export const latencyWarmUpMs = 2_000

export interface EndToEndOptions {
  bootstrap: string
  workload: Workload
  delivery: 'exactly-once' | 'at-least-once'
  mode: EndToEndInput['mode']
  partitions: number
  progress: (line: string) => void
  engine?: Partial<TailhouseConfig['engine']>
  /** Node flags for the worker, e.g. ['--cpu-prof']. */
  nodeFlags?: string[]
  /** view (default) or stream: how the source is captured. */
  captureMode?: 'view' | 'stream'
}

export interface EndToEndResult {
  workload: string
  delivery: string
  mode: string
  /** How the source was captured: view or stream (absent in results from before stream mode: view). */
  capture?: 'view' | 'stream'
  rows: number
  seconds: number
  rowsPerSecond: number
  /** Kafka record bytes (key + value + headers) per second. */
  mbPerSecond: number
  avgRecordBytes: number
  avgValueBytes: number
  /** INSERT → visible to a read_committed consumer, ms (fixed-rate runs, after the warm-up). */
  latencySamples?: number
  latencyP50Ms?: number
  latencyP99Ms?: number
  latencyMaxMs?: number
  /**
   * CPU µs per committed row of the engine: the worker's main thread, where the engine runs (embedded ClickHouse
   * runs on threads of its own; the inserter only awaits it). Undefined off Linux.
   */
  cpuMicrosPerRow: number | undefined
  /** CPU µs per row of the whole worker process: the engine plus ClickHouse's INSERTs, capture view and reads. */
  processCpuMicrosPerRow: number
  /** The process running embedded ClickHouse, the inserter and the engine. */
  process: ProcessSample
  /** read_committed check: every row exactly once. */
  verified: { records: number; missing: number; duplicated: number }
}

export async function measureEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const run = `bench-${options.workload.name}-${Date.now().toString(36)}`
  const runDir = join(tmpdir(), run)
  const topic = benchTopic(run, options.workload)
  // The topic exists before the worker starts, so the latency consumer is subscribed before the first INSERT.
  await ensureTopics({ bootstrapBrokers: [options.bootstrap], clientId: 'tailhouse-bench' }, [
    { name: topic, partitions: options.partitions, replicationFactor: 1 },
  ])
  const latency =
    options.mode.kind === 'rate' ? await LatencyConsumer.start(options.bootstrap, topic, `${run}-latency`) : undefined
  try {
    const input: EndToEndInput = {
      bootstrap: options.bootstrap,
      run,
      runDir,
      workload: options.workload.name,
      delivery: options.delivery,
      mode: options.mode,
      // Latency runs time each message from its INSERT by the `tailhouse.ingest_time_us` header, which only the
      // full header set carries (the lean default keeps the time in the envelope); a few bytes at 1k–10k rows/s.
      engine: options.mode.kind === 'rate' ? { headers: 'full', ...options.engine } : { ...options.engine },
      captureMode: options.captureMode ?? 'view',
    }
    const { result, usage } = await runWorker<EndToEndOutput>({
      script: siblingScript(import.meta.url, 'worker'),
      input,
      progress: options.progress,
      nodeFlags: options.nodeFlags,
    })
    await latency?.close()
    const verified = await verifyTopic(options.bootstrap, topic, result.rows)
    const mb = verified.bytes / result.seconds / 2 ** 20
    const samples = latency?.latencies(latencyWarmUpMs) ?? []
    return {
      workload: options.workload.name,
      delivery: options.delivery,
      mode: options.mode.kind === 'max' ? 'max' : `${options.mode.rate} rows/s`,
      capture: options.captureMode ?? 'view',
      rows: result.rows,
      seconds: round(result.seconds, 2),
      rowsPerSecond: Math.round(result.rows / result.seconds),
      mbPerSecond: round(mb, 1),
      avgRecordBytes: Math.round(verified.bytes / Math.max(1, verified.records)),
      avgValueBytes: Math.round(verified.valueBytes / Math.max(1, verified.records)),
      ...cpuPerRow(result.cpu, result.rows),
      ...(latency
        ? {
            latencySamples: samples.length,
            latencyP50Ms: percentile(samples, 50),
            latencyP99Ms: percentile(samples, 99),
            latencyMaxMs: percentile(samples, 100),
          }
        : {}),
      process: usage,
      verified: { records: verified.records, missing: verified.missing, duplicated: verified.duplicated },
    }
  } finally {
    await latency?.close().catch(() => {})
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
      delivery: { type: 'string', default: 'exactly-once' },
      rows: { type: 'string', default: '1000000' },
      rate: { type: 'string' },
      seconds: { type: 'string', default: '20' },
      profile: { type: 'boolean', default: false },
      'batch-rows': { type: 'string' },
      capture: { type: 'string', default: 'view' },
      'rows-per-insert': { type: 'string', default: '10000' },
    },
  })
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (!bootstrap) throw new Error('set KAFKA_BOOTSTRAP (npm run stack prints it)')
  const result = await measureEndToEnd({
    bootstrap,
    workload: workloads[values.workload as keyof typeof workloads],
    delivery: values.delivery as EndToEndOptions['delivery'],
    mode: values.rate
      ? { kind: 'rate', rate: Number(values.rate), seconds: Number(values.seconds) }
      : { kind: 'max', rows: Number(values.rows), rowsPerInsert: Number(values['rows-per-insert']) },
    partitions: 6,
    engine: values['batch-rows'] ? { batchMaxRows: Number(values['batch-rows']) } : {},
    progress: (line) => process.stderr.write(`  ${line}\n`),
    nodeFlags: values.profile ? ['--cpu-prof', '--cpu-prof-dir=.cache/profiles'] : [],
    captureMode: values.capture === 'stream' ? 'stream' : 'view',
  })
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  process.exit(0)
}
