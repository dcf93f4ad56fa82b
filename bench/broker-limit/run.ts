/**
 * The broker's limit: how fast Kafka's own Java producer (ProducerPerformance from the Kafka jars the project
 * uses) writes to this broker on this machine with tailhouse's producer settings. bench/run.ts calls
 * {@link measureBrokerLimit} with the record count and size of tailhouse's run; by hand:
 *
 *   KAFKA_BOOTSTRAP=127.0.0.1:9092 npx tsx bench/broker-limit/run.ts --records 1000000 --record-size 120 [--compression lz4]
 */
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { ensureTopics } from '../../engine/kafka/topics.js'
import { ensureKafkaInstalled } from '../../test/stack/kafka-install.js'
import { deleteTopics } from '../lib/delete-topics.js'
import { type ProducerPerformanceSummary, runProducerPerformance } from './producer-performance.js'

export interface BrokerLimitOptions {
  bootstrap: string
  /** Same count as tailhouse's run. */
  records: number
  /** Bytes per record: tailhouse's average encoded record (key + value + headers). Sent as the value. */
  recordSize: number
  compression: 'none' | 'lz4'
  /** Partitions of the fresh topic (6, as tailhouse's). */
  partitions: number
  /** Transactional variant: commit after this many ms (ProducerPerformance's --transaction-duration-ms). */
  transactionDurationMs: number
  /** One short line at a time: a start line per variant, then ProducerPerformance's stats lines. */
  progress: (line: string) => void
}

/** One variant's figures: ProducerPerformance's summary (see producer-performance.ts) and what was run. */
export interface ProducerPerformanceResult extends Omit<ProducerPerformanceSummary, 'recordsSent'> {
  variant: 'idempotent' | 'transactional'
  records: number
  recordSize: number
  compression: string
  /** Wall time of the java run incl. JVM start, for information; recordsPerSecond excludes the JVM start. */
  seconds: number
  /** The exact command line, for the README/reproduction. */
  command: string
}

const variants = ['idempotent', 'transactional'] as const
const clientId = 'tailhouse-bench-broker-limit'

/**
 * Runs ProducerPerformance twice, idempotent then transactional, each into its own fresh topic (`partitions`
 * partitions, replication 1). Both use acks=all, enable.idempotence=true, no throttling and the given compression.
 * The topics are deleted afterwards so repeated runs do not fill the broker's disk.
 */
export async function measureBrokerLimit(options: BrokerLimitOptions): Promise<ProducerPerformanceResult[]> {
  const kafkaLibs = await ensureKafkaInstalled()
  const brokers = [options.bootstrap]
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  const topics: string[] = []
  const results: ProducerPerformanceResult[] = []
  try {
    for (const variant of variants) {
      const topic = `bench-broker-limit-${runId}-${variant}`
      await ensureTopics({ bootstrapBrokers: brokers, clientId }, [
        { name: topic, partitions: options.partitions, replicationFactor: 1 },
      ])
      topics.push(topic)
      const label = `${variant} ${options.compression}`
      options.progress(
        `${label}: ProducerPerformance, ${options.records} records of ${options.recordSize} B into ${topic}`,
      )
      const outcome = await runProducerPerformance({
        kafkaLibs,
        bootstrap: options.bootstrap,
        topic,
        records: options.records,
        recordSize: options.recordSize,
        compression: options.compression,
        ...(variant === 'transactional'
          ? { transaction: { id: `${clientId}-${runId}`, durationMs: options.transactionDurationMs } }
          : {}),
        onStatsLine: (line) => options.progress(`${label}: ${line}`),
      })
      const { recordsSent, ...figures } = outcome.summary
      results.push({
        variant,
        records: recordsSent, // equal to options.records, or runProducerPerformance failed
        recordSize: options.recordSize,
        compression: options.compression,
        ...figures,
        seconds: outcome.seconds,
        command: outcome.command,
      })
    }
  } finally {
    await deleteTopics(brokers, topics)
  }
  return results
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '1000000' },
      'record-size': { type: 'string', default: '120' },
      compression: { type: 'string', default: 'lz4' },
      partitions: { type: 'string', default: '6' },
      'transaction-duration-ms': { type: 'string', default: '100' },
    },
  })
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (!bootstrap) throw new Error('KAFKA_BOOTSTRAP is not set (host:port of a running broker, e.g. from npm run stack)')
  const compression = values.compression
  if (compression !== 'none' && compression !== 'lz4') throw new Error('--compression must be none or lz4')
  const results = await measureBrokerLimit({
    bootstrap,
    records: positiveInteger('--records', values.records),
    recordSize: positiveInteger('--record-size', values['record-size']),
    compression,
    partitions: positiveInteger('--partitions', values.partitions),
    transactionDurationMs: positiveInteger('--transaction-duration-ms', values['transaction-duration-ms']),
    progress: (line) => console.error(line),
  })
  console.log(JSON.stringify(results, null, 2))
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${flag} must be a positive integer; got "${text}"`)
  return value
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
