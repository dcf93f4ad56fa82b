/**
 * The peer: what a ClickHouse user gets without tailhouse. ClickHouse's own `Kafka` table engine fed by a
 * materialized view from the source table, run in embedded ClickHouse (chDB) against our broker with the rows
 * tailhouse moves (bench/lib/workloads.ts), one Protobuf message per row. Measures the time from the first INSERT
 * until every row is a message in the topic. See README.md.
 *
 *   KAFKA_BOOTSTRAP=127.0.0.1:9092 npx tsx bench/native-kafka-engine/run.ts --workload narrow --rows 1000000
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Admin, Consumer, FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka'
import type { FetchedBatch } from '../../engine/kafka/committed-filter.js'
import { ensureTopics } from '../../engine/kafka/topics.js'
import { type Workload, workloads } from '../lib/workloads.js'
import type { WorkerMessage, WorkerStart } from './worker.js'

export interface NativeKafkaOptions {
  bootstrap: string
  workload: Workload
  rows: number
  /** Rows per INSERT into the source table (10_000 in the bench). */
  rowsPerInsert: number
  /** Partitions of the topic (6 in the bench). */
  partitions: number
  /** Short progress lines: rows in the topic so far, rows/s. */
  progress: (line: string) => void
}

export interface NativeKafkaResult {
  workload: string
  rows: number
  /** From just before the first INSERT until the topic's end offsets add up to `rows`. */
  seconds: number
  rowsPerSecond: number
  /** rows × avgMessageBytes / seconds, in MiB (1024²) per second. */
  mbPerSecond: number
  /** Mean key + value bytes of a message (the engine sends no headers), sampled from the topic. */
  avgMessageBytes: number
  format: string
  producerSettings: Record<string, string>
  /** Peak resident set of the ClickHouse process (chDB in Node), in MiB. */
  peakRssMb: number
  /** CPU time (user + system, all threads) of the ClickHouse process during the INSERTs. */
  cpuSeconds: number
}

const clientId = 'tailhouse-bench-native-kafka-engine'
/** Fail when the topic has not grown for this long while INSERTs are running (Kafka down: INSERTs stall). */
const stallMs = 120_000
/** Fail when the topic is still short this long after the last INSERT returned (messages lost). */
const afterLastInsertMs = 30_000
const pollMs = 10

export async function measureNativeKafkaEngine(options: NativeKafkaOptions): Promise<NativeKafkaResult> {
  try {
    return await measure(options)
  } catch (error) {
    throw new Error(`native Kafka engine: ${messageOf(error)}`)
  }
}

async function measure(options: NativeKafkaOptions): Promise<NativeKafkaResult> {
  const { workload, rows, rowsPerInsert, partitions, progress } = options
  for (const [name, value] of Object.entries({ rows, rowsPerInsert, partitions }))
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not ${value}`)
  const brokers = options.bootstrap
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '')
  if (brokers.length === 0) throw new Error('no Kafka bootstrap broker given')
  const topic = `tailhouse-bench-native-kafka-engine-${workload.name}-${Date.now()}`
  try {
    await ensureTopics({ bootstrapBrokers: brokers, clientId }, [{ name: topic, partitions, replicationFactor: 1 }])
  } catch (error) {
    throw new Error(`cannot create topic ${topic} on ${options.bootstrap}: ${messageOf(error)}`)
  }
  const admin = new Admin({ clientId, bootstrapBrokers: brokers })
  const worker = startWorker()
  try {
    worker.child.send({
      type: 'start',
      bootstrap: brokers.join(','),
      topic,
      workload: workload.name,
      rows,
      rowsPerInsert,
    } satisfies WorkerStart)
    const startedAt = await worker.until((s) => s.startedAt, 300_000, 'setting up ClickHouse')
    progress(`${workload.name}: tables ready, inserting ${rows.toLocaleString('en-US')} rows`)

    const inTopic = async () => {
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
      const ends: bigint[] = []
      for (const p of listed.flatMap((t) => t.partitions)) ends[p.partitionIndex] = p.offset
      return ends
    }
    let count = 0
    let ends: bigint[] = []
    let lastChange = now()
    let lastReport = now()
    let endedAt = 0
    for (;;) {
      ends = await inTopic()
      const total = ends.reduce((sum, end) => sum + Number(end ?? 0n), 0)
      const at = now()
      if (total >= rows) {
        count = total
        endedAt = at
        break
      }
      if (total !== count) lastChange = at
      count = total
      worker.throwIfFailed()
      const done = worker.state.done
      if (done && at - done.at > afterLastInsertMs)
        throw new Error(
          `every INSERT returned, but ${(afterLastInsertMs / 1000).toFixed(0)} s later only ${count} of ${rows} messages are in ${topic}`,
        )
      if (!done && at - lastChange > stallMs)
        throw new Error(
          `no message reached ${topic} for ${stallMs / 1000} s (${count} of ${rows}; is Kafka reachable from ClickHouse?)`,
        )
      if (at - lastReport >= 1000) {
        lastReport = at
        progress(`${workload.name}: ${rate(count, rows, at - startedAt)}`)
      }
      await sleep(pollMs)
    }
    const seconds = (endedAt - startedAt) / 1000
    progress(`${workload.name}: ${rate(count, rows, endedAt - startedAt)}, done`)
    if (count > rows) progress(`${workload.name}: ${count - rows} more messages than rows (duplicates)`)
    const done = await worker.until((s) => s.done, 60_000, 'the last INSERT to return')
    const avgMessageBytes = await sampleMessageBytes(brokers, topic, ends)
    return {
      workload: workload.name,
      rows,
      seconds,
      rowsPerSecond: rows / seconds,
      mbPerSecond: (rows * avgMessageBytes) / seconds / (1024 * 1024),
      avgMessageBytes,
      format: done.format,
      producerSettings: done.producerSettings,
      peakRssMb: done.peakRssMb,
      cpuSeconds: done.cpuSeconds,
    }
  } finally {
    await worker.stop()
    await admin.deleteTopics({ topics: [topic] }).catch(() => {})
    await admin.close().catch(() => {})
  }
}

interface WorkerState {
  startedAt?: number
  done?: Extract<WorkerMessage, { type: 'done' }>
  failure?: string
  exited: boolean
}

/** The measured process: chDB in a child Node process, so this process keeps no data directory of its own. */
function startWorker() {
  const ts = import.meta.url.endsWith('.ts')
  const script = fileURLToPath(new URL(ts ? './worker.ts' : './worker.js', import.meta.url))
  const child: ChildProcess = spawn(
    process.execPath,
    [...(ts ? ['--import', import.meta.resolve('tsx')] : []), script],
    {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  )
  const state: WorkerState = { exited: false }
  let stderr = ''
  child.stdout?.resume() // chDB prints where it logs; nothing there is ours
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000)
  })
  child.on('message', (message: WorkerMessage) => {
    if (message.type === 'started') state.startedAt = message.at
    else if (message.type === 'done') state.done = message
    else if (message.type === 'error') state.failure ??= message.message
  })
  const exited = new Promise<void>((resolveExit) => {
    child.on('exit', (code, signal) => {
      state.exited = true
      if (!state.done && !state.failure) {
        const tail = stderr.trim().split('\n').slice(-5).join('\n')
        state.failure = `the ClickHouse process exited (${signal ?? `code ${code}`}) before finishing${tail ? `:\n${tail}` : ''}`
      }
      resolveExit()
    })
  })
  child.on('error', (error) => {
    state.failure ??= `cannot start the ClickHouse process: ${error.message}`
  })
  const throwIfFailed = () => {
    if (state.failure) throw new Error(state.failure)
  }
  return {
    child,
    state,
    throwIfFailed,
    async until<T>(pick: (s: WorkerState) => T | undefined, timeoutMs: number, what: string): Promise<T> {
      const deadline = now() + timeoutMs
      for (;;) {
        const value = pick(state)
        if (value !== undefined) return value
        throwIfFailed()
        if (now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)
        await sleep(pollMs)
      }
    },
    async stop() {
      if (!state.exited) child.kill('SIGKILL')
      await exited
    },
  }
}

/**
 * Mean key + value size of the topic's messages, from samples spread over every partition (up to 256 KiB of
 * batches at 0 %, 25 %, 50 % and 75 % of each): sizes grow with the row id, so the first records alone read low.
 */
async function sampleMessageBytes(brokers: string[], topic: string, ends: bigint[]): Promise<number> {
  const consumer = new Consumer({
    clientId,
    groupId: `${clientId}-sample-${process.pid}-${Date.now()}`,
    bootstrapBrokers: brokers,
  })
  try {
    const metadata = await consumer.metadata({ topics: [topic] })
    const info = metadata.topics.get(topic)
    if (!info) throw new Error(`topic ${topic} vanished`)
    let bytes = 0
    let count = 0
    for (const [partition, { leader }] of info.partitions.entries()) {
      const end = ends[partition] ?? 0n
      for (const quarter of [0n, 1n, 2n, 3n]) {
        const from = (end * quarter) / 4n
        if (from >= end) continue
        const response = await consumer.fetch({
          node: leader,
          topics: [
            {
              topicId: info.id,
              partitions: [
                {
                  partition,
                  fetchOffset: from,
                  partitionMaxBytes: 256 << 10,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                },
              ],
            },
          ],
          isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
          maxWaitTime: 100,
          minBytes: 1,
          maxBytes: 1 << 20,
        })
        const data = response.responses[0]?.partitions[0]
        for (const batch of (data?.records ?? []) as unknown as FetchedBatch[])
          for (const record of batch.records) {
            if (batch.firstOffset + BigInt(record.offsetDelta) < from) continue
            bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0)
            count += 1
          }
      }
    }
    if (count === 0) throw new Error(`no records could be read back from ${topic}`)
    return bytes / count
  } finally {
    await consumer.close().catch(() => {})
  }
}

function rate(count: number, rows: number, ms: number): string {
  const perSecond = Math.round(count / (ms / 1000))
  return `${count.toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} rows in topic, ${perSecond.toLocaleString('en-US')} rows/s`
}

function now(): number {
  return performance.timeOrigin + performance.now()
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms))
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0)
    return [...new Set(error.errors.map(messageOf))].join('; ')
  return error instanceof Error ? error.message : String(error)
}

async function main(): Promise<void> {
  const args = new Map<string, string>()
  const argv = process.argv.slice(2)
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] as string
    const value = argv[i + 1]
    if (!flag.startsWith('--') || value === undefined) throw new Error(`unexpected argument ${flag}`)
    args.set(flag.slice(2), value)
  }
  for (const name of args.keys())
    if (!['workload', 'rows', 'rows-per-insert', 'partitions'].includes(name))
      throw new Error(`unknown option --${name}`)
  const name = args.get('workload') ?? 'narrow'
  if (name !== 'narrow' && name !== 'wide') throw new Error(`--workload must be narrow or wide, not ${name}`)
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (!bootstrap) throw new Error('KAFKA_BOOTSTRAP is not set (e.g. 127.0.0.1:9092; `npm run stack` prints it)')
  const result = await measureNativeKafkaEngine({
    bootstrap,
    workload: workloads[name],
    rows: Number(args.get('rows') ?? 1_000_000),
    rowsPerInsert: Number(args.get('rows-per-insert') ?? 10_000),
    partitions: Number(args.get('partitions') ?? 6),
    progress: (line) => process.stderr.write(`${line}\n`),
  })
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      const message = messageOf(error)
      process.stderr.write(`${message.startsWith('native Kafka engine') ? '' : 'native Kafka engine: '}${message}\n`)
      process.exit(1)
    },
  )
}
