import { Admin } from '@platformatic/kafka'
import { isTopicAlreadyExists } from './kafka-errors.js'

export interface TopicSpec {
  name: string
  partitions: number
  replicationFactor: number
  /** Topic configs, e.g. cleanup.policy=compact. */
  configs?: Record<string, string>
}

/** Creates the topics that do not exist yet; existing ones are left exactly as they are. */
export async function ensureTopics(
  bootstrapBrokers: string[],
  clientId: string,
  topics: TopicSpec[],
): Promise<string[]> {
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
  } finally {
    await admin.close()
  }
  return created
}

/** The topic of a source, from kafka.topicTemplate. */
export function topicFor(template: string, source: string): string {
  const dot = source.indexOf('.')
  return template.replaceAll('{database}', source.slice(0, dot)).replaceAll('{table}', source.slice(dot + 1))
}
