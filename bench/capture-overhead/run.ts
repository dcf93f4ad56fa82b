/**
 * What capture costs the captured table's own INSERTs: the same rows into a table without capture, one captured
 * by tailhouse in view mode, one in stream mode, and one feeding ClickHouse's Kafka engine, interleaved, INSERT time
 * plus the merges each INSERT caused. See README.md.
 *
 *   KAFKA_BOOTSTRAP=127.0.0.1:9092 npx tsx bench/capture-overhead/run.ts --workload narrow --rows 1000000
 */
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Admin, ListOffsetTimestamps } from '@platformatic/kafka'
import { ensureTopics } from '../../engine/kafka/topics.js'
import { runWorker, siblingScript } from '../lib/child.js'
import { deleteTopics } from '../lib/delete-topics.js'
import { type Workload, workloads } from '../lib/workloads.js'
import type { CaptureOverheadInput, CaptureOverheadOutput, Variant } from './worker.js'

export interface CaptureOverheadOptions {
  bootstrap: string
  workload: Workload
  /** Rows per variant (the issue asks for at least 1M). */
  rows: number
  /** Rows per INSERT (100k in the bench). */
  rowsPerInsert: number
  /** Partitions of the Kafka engine's topic. */
  partitions: number
  progress: (line: string) => void
}

type PerVariant = Record<Variant, number>

export interface CaptureOverheadResult {
  workload: string
  rows: number
  rowsPerInsert: number
  /** Per variant: INSERT wall time plus the time until the merges they caused had finished, seconds. */
  baselineSeconds: number
  tailhouseSeconds: number
  /** Stream mode: no view, the table's block columns on. */
  tailhouseStreamSeconds: number
  kafkaEngineSeconds: number
  /** tailhouseSeconds / baselineSeconds. */
  tailhouseRatio: number
  tailhouseStreamRatio: number
  kafkaEngineRatio: number
  /** Process CPU (all of ClickHouse's threads) per variant over the same spans, the polling subtracted. */
  cpuSeconds: PerVariant
  /** The two parts of each variant's seconds. */
  insertSeconds: PerVariant
  mergeSeconds: PerVariant
  /** Estimated CPU of one system.merges poll, subtracted per poll from cpuSeconds. */
  pollCpuMicros: number
}

export async function measureCaptureOverhead(options: CaptureOverheadOptions): Promise<CaptureOverheadResult> {
  const { bootstrap, workload, rows, rowsPerInsert } = options
  for (const [name, value] of Object.entries({ rows, rowsPerInsert }))
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not ${value}`)
  const run = `bench-overhead-${workload.name}-${Date.now().toString(36)}`
  const runDir = join(tmpdir(), run)
  const topic = `${run}.kafka-engine`
  await ensureTopics({ clientId: 'tailhouse-bench', bootstrapBrokers: [bootstrap] }, [
    { name: topic, partitions: options.partitions, replicationFactor: 1 },
  ])
  try {
    const input: CaptureOverheadInput = { bootstrap, topic, runDir, workload: workload.name, rows, rowsPerInsert }
    const { result } = await runWorker<CaptureOverheadOutput>({
      script: siblingScript(import.meta.url, 'worker'),
      input,
      progress: options.progress,
    })
    // Every INSERT into the Kafka engine's source flushed its producer before returning: all messages are there.
    const messages = await messagesIn(bootstrap, topic, options.partitions)
    const expected = rows + result.warmUpRows
    if (messages < expected) throw new Error(`the Kafka engine's topic holds ${messages} messages, not ${expected}`)
    const { costs } = result
    const seconds = (v: Variant) => costs[v].insertSeconds + costs[v].mergeSeconds
    const perVariant = (pick: (v: Variant) => number, digits: number): PerVariant => ({
      baseline: round(pick('baseline'), digits),
      tailhouse: round(pick('tailhouse'), digits),
      tailhouseStream: round(pick('tailhouseStream'), digits),
      kafkaEngine: round(pick('kafkaEngine'), digits),
    })
    return {
      workload: workload.name,
      rows,
      rowsPerInsert,
      baselineSeconds: round(seconds('baseline'), 3),
      tailhouseSeconds: round(seconds('tailhouse'), 3),
      tailhouseStreamSeconds: round(seconds('tailhouseStream'), 3),
      kafkaEngineSeconds: round(seconds('kafkaEngine'), 3),
      tailhouseRatio: round(seconds('tailhouse') / seconds('baseline'), 2),
      tailhouseStreamRatio: round(seconds('tailhouseStream') / seconds('baseline'), 2),
      kafkaEngineRatio: round(seconds('kafkaEngine') / seconds('baseline'), 2),
      cpuSeconds: perVariant((v) => costs[v].cpuSeconds, 3),
      insertSeconds: perVariant((v) => costs[v].insertSeconds, 3),
      mergeSeconds: perVariant((v) => costs[v].mergeSeconds, 3),
      pollCpuMicros: Math.round(result.pollCpuMicros),
    }
  } finally {
    await deleteTopics([bootstrap], [topic])
    rmSync(runDir, { recursive: true, force: true })
  }
}

/** The topic's end offsets, summed. */
async function messagesIn(bootstrap: string, topic: string, partitions: number): Promise<number> {
  const admin = new Admin({ clientId: 'tailhouse-bench', bootstrapBrokers: [bootstrap] })
  try {
    const listed = await admin.listOffsets({
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({
            partitionIndex,
            timestamp: ListOffsetTimestamps.LATEST,
          })),
        },
      ],
    })
    return listed.flatMap((t) => t.partitions).reduce((sum, p) => sum + Number(p.offset), 0)
  } finally {
    await admin.close().catch(() => {})
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
      'rows-per-insert': { type: 'string', default: '100000' },
      partitions: { type: 'string', default: '6' },
    },
  })
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (!bootstrap) throw new Error('set KAFKA_BOOTSTRAP (npm run stack prints it)')
  const workload = workloads[values.workload as keyof typeof workloads]
  if (!workload) throw new Error(`--workload must be narrow or wide, not ${values.workload}`)
  const result = await measureCaptureOverhead({
    bootstrap,
    workload,
    rows: Number(values.rows),
    rowsPerInsert: Number(values['rows-per-insert']),
    partitions: Number(values.partitions),
    progress: (line) => process.stderr.write(`  ${line}\n`),
  })
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  process.exit(0)
}
