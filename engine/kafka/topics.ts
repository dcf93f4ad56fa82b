import { Admin } from '@platformatic/kafka'
import type { KafkaClientOptions } from './connection.js'
import { isTopicAlreadyExists } from './kafka-errors.js'
import { withAccessContext } from './security-errors.js'

export interface TopicSpec {
  name: string
  partitions: number
  replicationFactor: number
  /** Topic configs, e.g. cleanup.policy=compact. */
  configs?: Record<string, string>
}

/**
 * Creates the topics that do not exist yet; existing ones are left exactly as they are. Returns the names created and
 * every topic's partition count as the broker has it (an existing topic keeps its own count). Topics the principal
 * may not describe look absent, so creating them is what fails: a missing ACL is reported naming the topic.
 *
 * The engine's first contact with Kafka: its client does not retry (`retries: 0`), so wrong credentials or a
 * refused certificate surface at once, not after the client's own retries (it counts them as network errors);
 * the engine's retry loop covers what is worth retrying.
 */
export async function ensureTopics(
  connection: KafkaClientOptions,
  topics: TopicSpec[],
): Promise<{ created: string[]; partitions: Map<string, number> }> {
  const admin = new Admin({ ...connection, retries: 0 })
  const created: string[] = []
  const names = topics.map((t) => t.name)
  try {
    const existing = new Set(
      await withAccessContext({ connection, topics: { operation: 'DESCRIBE', names } }, () => admin.listTopics()),
    )
    for (const topic of topics) {
      if (existing.has(topic.name)) continue
      try {
        await withAccessContext({ connection, topics: { operation: 'CREATE', names: [topic.name] } }, () =>
          admin.createTopics({
            topics: [topic.name],
            partitions: topic.partitions,
            replicas: topic.replicationFactor,
            configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
          }),
        )
        created.push(topic.name)
      } catch (error) {
        if (!isTopicAlreadyExists(error)) throw error // created concurrently by another instance: fine
      }
    }
    const metadata = await withAccessContext({ connection, topics: { operation: 'DESCRIBE', names } }, () =>
      admin.metadata({ topics: names }),
    )
    const partitions = new Map([...metadata.topics].map(([name, topic]) => [name, topic.partitionsCount]))
    return { created, partitions }
  } finally {
    await admin.close()
  }
}

/** The topic of a source, from kafka.topicTemplate. */
export function topicFor(template: string, source: string): string {
  const dot = source.indexOf('.')
  return template.replaceAll('{database}', source.slice(0, dot)).replaceAll('{table}', source.slice(dot + 1))
}
