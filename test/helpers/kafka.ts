import { Admin, Consumer, FetchIsolationLevels, stringDeserializers } from '@platformatic/kafka'
import { onTestFinished } from 'vitest'

/** Creates a topic for this test and deletes it when the test finishes. */
export async function testTopic(bootstrap: string, name: string, partitions = 1): Promise<string> {
  const admin = new Admin({ clientId: 'tailhouse-test', bootstrapBrokers: [bootstrap] })
  try {
    await admin.createTopics({ topics: [name], partitions, replicas: 1 })
  } finally {
    await admin.close()
  }
  onTestFinished(async () => {
    const cleanup = new Admin({ clientId: 'tailhouse-test', bootstrapBrokers: [bootstrap] })
    try {
      await cleanup.deleteTopics({ topics: [name] })
    } finally {
      await cleanup.close()
    }
  })
  return name
}

export interface ReadMessage {
  key: string
  value: string
  partition: number
  offset: bigint
  headers: Map<string, string>
}

/**
 * Reads `topic` from the beginning as a `read_committed` consumer until `count` messages arrived, or fails
 * after `timeoutMs` naming how many it got. Reading stops at `count`: a test that wants to prove nothing more
 * arrives reads once more with a higher count and expects the timeout.
 */
export async function readCommitted(
  bootstrap: string,
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<ReadMessage[]> {
  const consumer = new Consumer({
    clientId: 'tailhouse-test',
    groupId: `tailhouse-test-${topic}-${Date.now()}`,
    bootstrapBrokers: [bootstrap],
    deserializers: {
      ...stringDeserializers,
      headerKey: stringDeserializers.headerKey,
      headerValue: stringDeserializers.headerValue,
    },
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    maxWaitTime: 200,
  })
  const got: ReadMessage[] = []
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false })
  const timer = setTimeout(() => void stream.close(), timeoutMs)
  try {
    for await (const message of stream) {
      got.push({
        key: message.key,
        value: message.value,
        partition: message.partition,
        offset: message.offset,
        headers: message.headers,
      })
      if (got.length >= count) break
    }
  } finally {
    clearTimeout(timer)
    await stream.close()
    await consumer.close()
  }
  if (got.length < count)
    throw new Error(`read ${got.length} of ${count} messages from ${topic} within ${timeoutMs} ms`)
  return got
}
