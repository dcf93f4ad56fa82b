import { Admin } from '@platformatic/kafka'
import { isTopicAlreadyExists } from './kafka-errors.js'

export interface TopicSpec {
  name: string
  partitions: number
  replicationFactor: number
  /** Topic configs, e.g. cleanup.policy=compact. */
  configs?: Record<string, string>
}

/**
 * Creates the topics that do not exist yet; existing ones are left exactly as they are. Returns the names created and
 * every topic's partition count as the broker has it (an existing topic keeps its own count).
 */
export async function ensureTopics(
  bootstrapBrokers: string[],
  clientId: string,
  topics: TopicSpec[],
): Promise<{ created: string[]; partitions: Map<string, number> }> {
  const admin = new Admin({ clientId, bootstrapBrokers })
  const created: string[] = []
  try {
    const existing = new Set(await admin.listTopics())
    for (const topic of topics) {
      if (existing.has(topic.name)) continue
      try {
        await admin.createTopics({
          topics: [topic.name],
          partitions: topic.partitions,
          replicas: topic.replicationFactor,
          configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
        })
        created.push(topic.name)
      } catch (error) {
        if (!isTopicAlreadyExists(error)) throw error // created concurrently by another instance: fine
      }
    }
    const metadata = await admin.metadata({ topics: topics.map((t) => t.name) })
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
