import { Consumer, FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka'
import { CommittedByMarkers, type CommittedRecord, type FetchedBatch, nextOffset } from './committed-filter.js'
import type { KafkaClientOptions } from './connection.js'
import { withAccessContext } from './security-errors.js'

export interface ReadToEndOptions {
  connection: KafkaClientOptions
  topic: string
  isolation: 'committed' | 'uncommitted'
  /** Fails after this long. Default 60 s. */
  timeoutMs?: number
}

export interface TopicRecord extends CommittedRecord {
  partition: number
}

/**
 * Reads every partition of a topic from its first offset to the end it has now — the last stable offset for
 * read_committed, the high watermark otherwise — and returns the records in partition, offset order.
 *
 * Built on the client's low-level fetch, with read_committed filtering of our own (committed-filter.ts): the
 * client's stream may deliver records of aborted transactions. The end is reached by fetch position, never by
 * seeing a record at end - 1, which in a transactional topic is a commit marker no reader receives.
 */
export async function readToEnd(options: ReadToEndOptions): Promise<TopicRecord[]> {
  const { connection, topic } = options
  // READ on the topic is all it needs: it fetches by offset and never joins its (unused) group.
  return withAccessContext({ connection, topics: { operation: 'READ', names: [topic] } }, () => read(options))
}

async function read(options: ReadToEndOptions): Promise<TopicRecord[]> {
  const committed = options.isolation === 'committed'
  const { clientId } = options.connection
  const consumer = new Consumer({
    ...options.connection,
    groupId: `${clientId}-reader-${process.pid}-${Date.now()}`,
  })
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  try {
    const list = async (isolationLevel: number, timestamp?: bigint) =>
      (
        await consumer.listOffsets({
          topics: [options.topic],
          isolationLevel,
          ...(timestamp === undefined ? {} : { timestamp }),
        })
      ).get(options.topic) ?? []
    // The last stable offset first: every transaction below it is decided, its marker at or below the high
    // watermark read next.
    const stable = await list(FetchIsolationLevels.READ_COMMITTED)
    const highWatermarks = await list(FetchIsolationLevels.READ_UNCOMMITTED)
    const starts = await list(FetchIsolationLevels.READ_UNCOMMITTED, ListOffsetTimestamps.EARLIEST)
    const metadata = await consumer.metadata({ topics: [options.topic] })
    const topic = metadata.topics.get(options.topic)
    if (!topic) throw new Error(`topic ${options.topic} does not exist`)
    const out: TopicRecord[] = []
    for (const [partition, highWatermark] of highWatermarks.entries()) {
      const end = committed ? (stable[partition] ?? 0n) : highWatermark
      let offset = starts[partition] ?? 0n
      const filter = new CommittedByMarkers(offset)
      while (offset < highWatermark) {
        if (Date.now() > deadline)
          throw new Error(`reading ${options.topic}/${partition} to ${highWatermark} timed out at ${offset}`)
        const response = await consumer.fetch({
          node: topic.partitions[partition]?.leader ?? 0,
          topics: [
            {
              topicId: topic.id,
              partitions: [
                {
                  partition,
                  fetchOffset: offset,
                  partitionMaxBytes: 8 << 20,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                },
              ],
            },
          ],
          // Uncommitted on purpose: the client's own read_committed filtering is wrong (committed-filter.ts).
          isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
          maxWaitTime: 100,
          minBytes: 1,
          maxBytes: 16 << 20,
        })
        const data = response.responses[0]?.partitions[0]
        if (!data) throw new Error(`no fetch response for ${options.topic}/${partition}`)
        if (data.errorCode !== 0)
          throw new Error(`fetching ${options.topic}/${partition} failed with Kafka error ${data.errorCode}`)
        const batches = (data.records ?? []) as unknown as FetchedBatch[]
        if (committed) filter.push(batches)
        else
          filter.push(
            batches
              .filter((b) => !(b.attributes & (1 << 5)))
              .map((b) => ({ ...b, attributes: b.attributes & ~(1 << 4) })),
          )
        offset = nextOffset(batches, offset)
      }
      for (const record of filter.finish(end)) out.push({ ...record, partition })
    }
    return out
  } finally {
    await consumer.close()
  }
}
