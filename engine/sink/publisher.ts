import { compatibilityPartitioner, Producer } from '@platformatic/kafka'
import { shortIdentity } from '../capture/identity.js'
import type { KafkaConfig } from '../config/config.js'
import { ConfigError } from '../errors.js'
import { checkpointMessage } from '../kafka/checkpoint.js'
import { useClientAddPartitionsToTxn } from '../kafka/client-add-partitions.js'
import type { KafkaClientOptions } from '../kafka/connection.js'
import { clientVersion, useFastRecordBatches } from '../kafka/fast-produce.js'
import type { ProducerIdentity } from '../kafka/fence-check.js'
import { isConcurrentTransactions } from '../kafka/kafka-errors.js'
import { splitByRecordBatchBytes } from '../kafka/record-size.js'
import { translateKafkaFailure } from '../kafka/security-errors.js'
import { useTransactionTimeout } from '../kafka/transaction-timeout.js'
import type { Logger } from '../log.js'
import type { Cursor } from '../source/cursor.js'
import type { OutgoingMessage } from './outgoing-message.js'

export interface PublishedBatch {
  /** Time from the first send to the commit, ms. */
  commitMs: number
}

/**
 * Publishes one batch. Exactly-once: the rows and the batch's end cursor (to the compacted checkpoint topic) go
 * in one Kafka transaction, so a read_committed consumer sees both or neither. At-least-once: the rows only;
 * the caller records the cursor locally after the send succeeds.
 */
export interface Publisher {
  /**
   * Exactly-once: claims the transactional id now (InitProducerId). This fences an older instance and makes the
   * coordinator finish or abort its pending transaction, so the checkpoint topic read after init() reflects every
   * transaction that will ever commit. Call before reading the checkpoint. At-least-once: nothing to do.
   */
  init(): Promise<void>
  publish(messages: OutgoingMessage[], checkpoint: { cursor: Cursor; rowsTotal: bigint }): Promise<PublishedBatch>
  close(): Promise<void>
  /** Exactly-once: the producer id and epoch the transactional id was claimed with, once claimed. */
  identity(): ProducerIdentity | undefined
}

export interface PublisherOptions {
  logger: Logger
  kafka: KafkaConfig
  /** Brokers, client id, SASL and TLS: kafkaClientOptions(kafka) (engine/kafka/connection.ts). */
  connection: KafkaClientOptions
  engineId: string
  /** The capture database, recorded in checkpoints. */
  changelog: string
  /** The identity of its changelogs (capture/identity.ts): part of the checkpoint key and the transactional id. */
  changelogId: string
  /**
   * Exactly-once: claim the transactional id as this earlier producer of ours, whose request Kafka refused as
   * fenced (kafka/fence-check.ts). The claim succeeds only if no other producer claimed the id since. Without it,
   * the claim is a new instance's, which always succeeds and fences any other.
   */
  claimAs?: ProducerIdentity
}

/** Java's partitioner: murmur2 & 0x7fffffff, so Java, librdkafka and Python clients agree on a key's partition. */
const javaCompatiblePartitioner = compatibilityPartitioner

/** Attempts the client makes before a failure reaches the engine, which then backs off and starts over. */
const producerRetries = 10

/**
 * The client waits 1 s before every retry by default. The next transaction's first request often meets
 * CONCURRENT_TRANSACTIONS while the coordinator writes the previous commit's markers, for a few milliseconds:
 * waiting a full second there stalled every row behind it (p99 latency > 1 s at 10k rows/s). Retry that after
 * 10 ms, as the Java producer does; anything else backs off from 100 ms, doubling, up to 1 s.
 */
export function producerRetryDelay(
  _client: unknown,
  _operation: string,
  attempt: number,
  _retries: number,
  error: Error,
) {
  if (isConcurrentTransactions(error)) return 10
  return Math.min(1000, 100 * 2 ** (attempt - 1))
}

/**
 * `tailhouse-<engine id>-<first 8 hex of the changelog identity>`: stable for one engine over one set of changelogs
 * (a restarted or second instance fences the previous one), and different for another project on the same Kafka
 * even with the same engine id.
 */
export function transactionalId(engineId: string, changelogId: string): string {
  return `${transactionalIdPrefix(engineId)}${shortIdentity(changelogId)}`
}

/** What every transactional id of an engine id starts with (a PREFIXED ACL grants them all). */
export function transactionalIdPrefix(engineId: string): string {
  return `tailhouse-${engineId}-`
}

let warnedSlowPath = false

export function createPublisher(options: PublisherOptions): Publisher {
  const { kafka } = options
  if (kafka.compression === 'zstd' && !nodeHasZstd()) {
    throw new ConfigError('kafka.compression', 'zstd needs Node.js 22.15 or newer (zlib zstd); use lz4 on this Node.js')
  }
  const exactlyOnce = kafka.delivery === 'exactly-once'
  // Headers go as a Map of Buffers to Buffers, which the client's default serializers pass through. (A record of
  // string names makes send() hang in @platformatic/kafka 1.35: its default serializer expects Buffer names.)
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
    ...options.connection,
    idempotent: true,
    acks: -1,
    retries: producerRetries,
    retryDelay: producerRetryDelay,
    compression: kafka.compression,
    partitioner: javaCompatiblePartitioner,
    // A stable id per engine: a restarted or second instance fences the previous one (KIP-98 zombie fencing).
    // producerId/epoch -1 ask InitProducerId for "a new epoch for this transactional id". The client's default
    // (0, 0) claims to be producer 0 resuming, which the broker refuses with PRODUCER_FENCED (KIP-360) whenever
    // the id already has state, i.e. on every restart. `claimAs` resumes our own refused producer (KIP-588).
    ...(exactlyOnce
      ? {
          transactionalId: transactionalId(options.engineId, options.changelogId),
          producerId: options.claimAs?.producerId ?? -1n,
          producerEpoch: options.claimAs?.producerEpoch ?? -1,
        }
      : {}),
  })
  // The coordinator aborts a transaction open longer than this on its own (transaction-timeout.ts).
  if (exactlyOnce) useTransactionTimeout(producer)
  let identity: ProducerIdentity | undefined
  /** Kept when claimed: the client forgets its id and epoch on a fencing error, which is when the engine needs them. */
  const remember = () => {
    if (producer.producerId !== undefined && producer.producerEpoch !== undefined)
      identity = { producerId: producer.producerId, producerEpoch: producer.producerEpoch }
  }
  // Same bytes on the wire, a fifth of the client's CPU per record (engine/kafka/record-batch.ts).
  if (!useFastRecordBatches(producer) && !warnedSlowPath) {
    warnedSlowPath = true
    options.logger.log(
      'info',
      `@platformatic/kafka ${clientVersion()} is not a version tailhouse's fast produce path was tested with; using the client's own record batches`,
    )
  }
  // Transactions authorized by WRITE on the transactional id, not CLUSTER_ACTION (client-add-partitions.ts).
  useClientAddPartitionsToTxn(producer)
  const publisher: Publisher = {
    async init() {
      if (!exactlyOnce) return
      // beginTransaction runs InitProducerId; cancel() only forgets the (empty) transaction locally.
      const transaction = await producer.beginTransaction()
      remember()
      await transaction.cancel()
    },
    async publish(messages, checkpoint) {
      const started = performance.now()
      // Each run's record batch per partition stays within max.message.bytes; one run unless the batch is large.
      const runs = splitByRecordBatchBytes(messages, kafka.maxMessageBytes)
      if (!exactlyOnce) {
        // OutgoingMessage has the client's message shape: sent as it is, no copy per message.
        for (const run of runs) await producer.send({ messages: run })
        return { commitMs: performance.now() - started }
      }
      const transaction = await producer.beginTransaction()
      remember()
      try {
        const marker = checkpointMessage(kafka.checkpointTopic, {
          engineId: options.engineId,
          changelog: options.changelog,
          changelogId: options.changelogId,
          cursor: checkpoint.cursor,
          rowsTotal: checkpoint.rowsTotal.toString(),
          committedAt: new Date().toISOString(),
        })
        for (const run of runs.slice(0, -1)) await transaction.send({ messages: run })
        await transaction.send({ messages: [...(runs.at(-1) ?? []), marker] })
        options.logger.log('debug', 'batch sent, committing', { messages: messages.length })
        await transaction.commit()
      } catch (error) {
        if (!transaction.completed) await transaction.abort().catch(() => {})
        throw error
      }
      return { commitMs: performance.now() - started }
    },
    async close() {
      await producer.close()
    },
    identity: () => identity,
  }
  // A denied ACL or a refused login becomes an error naming what to grant or fix (security-errors.ts).
  const denied = (topics: string[]) => (error: unknown) => {
    throw translateKafkaFailure(error, {
      connection: options.connection,
      topics: { operation: 'WRITE', names: exactlyOnce ? [...topics, kafka.checkpointTopic] : topics },
      ...(exactlyOnce ? { transactionalId: transactionalId(options.engineId, options.changelogId) } : {}),
    })
  }
  return {
    init: () => publisher.init().catch(denied([])),
    publish: (messages, checkpoint) =>
      publisher.publish(messages, checkpoint).catch(denied([...new Set(messages.map((m) => m.topic))])),
    close: () => publisher.close(),
    identity: () => publisher.identity(),
  }
}

function nodeHasZstd(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  return major > 22 || (major === 22 && minor >= 15)
}
