import { Consumer, FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka'
import { UsageError } from '../errors.js'
import type { FetchedBatch } from './committed-filter.js'
import type { KafkaClientOptions } from './connection.js'

export interface MessageAddress {
  topic: string
  partition: number
  offset: bigint
}

export interface KafkaMessage extends MessageAddress {
  key: Buffer | null
  value: Buffer | null
  /** Header names and values in wire order. */
  headers: Array<[string, Buffer]>
}

export interface ReadMessageOptions {
  /** How to reach the cluster (kafkaClientOptions): brokers, SASL, TLS. */
  connection: KafkaClientOptions
  /** Fails after this long. Default 30 s. */
  timeoutMs?: number
}

/**
 * Reads the one message at (topic, partition, offset), whether its transaction committed or not (it names a
 * batch either way). A topic, partition or offset that holds no message is a {@link UsageError} saying what
 * exists: the partitions, or the partition's offset range. Offsets of transaction markers hold no message.
 */
export async function readMessage(address: MessageAddress, options: ReadMessageOptions): Promise<KafkaMessage> {
  const { topic, partition, offset } = address
  const { clientId, bootstrapBrokers } = options.connection
  const consumer = new Consumer({
    ...options.connection,
    groupId: `${clientId}-read-${process.pid}-${Date.now()}`,
  })
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  try {
    const metadata = await consumer.metadata({ topics: [topic] }).catch((error: unknown) => {
      if (/UNKNOWN_TOPIC|does not exist|unknown topic/i.test(String((error as Error)?.message ?? error)))
        throw new UsageError(`topic ${topic} does not exist on ${bootstrapBrokers.join(',')}`)
      throw error
    })
    const described = metadata.topics.get(topic)
    if (!described) throw new UsageError(`topic ${topic} does not exist on ${bootstrapBrokers.join(',')}`)
    const leader = described.partitions[partition]?.leader
    if (leader === undefined)
      throw new UsageError(`topic ${topic} has no partition ${partition}; it has 0..${described.partitionsCount - 1}`)
    const list = async (timestamp?: bigint) =>
      (
        await consumer.listOffsets({
          topics: [topic],
          isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
          ...(timestamp === undefined ? {} : { timestamp }),
        })
      ).get(topic)?.[partition] ?? 0n
    const [first, end] = [await list(ListOffsetTimestamps.EARLIEST), await list()]
    const range = first === end ? 'is empty' : `holds offsets ${first}..${end - 1n}`
    if (offset < first || offset >= end)
      throw new UsageError(`${topic}/${partition} has no offset ${offset}: it ${range}`)
    let at = offset
    while (at < end) {
      if (Date.now() > deadline) throw new Error(`reading ${topic}/${partition}@${offset} timed out`)
      const response = await consumer.fetch({
        node: leader,
        topics: [
          {
            topicId: described.id,
            partitions: [
              { partition, fetchOffset: at, partitionMaxBytes: 8 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1 },
            ],
          },
        ],
        isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: 16 << 20,
      })
      const data = response.responses[0]?.partitions[0]
      if (!data) throw new Error(`no fetch response for ${topic}/${partition}`)
      if (data.errorCode !== 0)
        throw new Error(`fetching ${topic}/${partition} failed with Kafka error ${data.errorCode}`)
      const batches = (data.records ?? []) as unknown as FetchedBatch[]
      for (const batch of batches) {
        for (const record of batch.records) {
          if (batch.firstOffset + BigInt(record.offsetDelta) !== offset) continue
          if (batch.attributes & (1 << 5))
            throw new UsageError(`${topic}/${partition}@${offset} is a transaction marker, not a message`)
          return {
            topic,
            partition,
            offset,
            key: record.key,
            value: record.value,
            headers: record.headers.map(([k, v]) => [k?.toString('utf8') ?? '', v ?? Buffer.alloc(0)]),
          }
        }
      }
      const next = batches.at(-1)
      if (!next) break
      const after = next.firstOffset + BigInt(next.lastOffsetDelta) + 1n
      if (after > offset) break // the batch spanned the offset and had no record there (compacted away)
      at = after
    }
    throw new UsageError(
      `${topic}/${partition} has no message at offset ${offset} (compacted, or a marker); it ${range}`,
    )
  } finally {
    await consumer.close()
  }
}
