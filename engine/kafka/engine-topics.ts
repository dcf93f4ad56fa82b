import type { KafkaConfig } from '../config/config.js'
import type { Logger } from '../log.js'
import { kafkaClientOptions } from './connection.js'
import { ensureTopics, type TopicSpec, topicFor } from './topics.js'

/**
 * The topics the engine writes to, and the partition count of each source's topic (ClickHouse computes every key's
 * partition from it). Topics are created when missing: at start, and for a source captured while the engine runs.
 */
export class EngineTopics {
  readonly #kafka: KafkaConfig
  readonly #log: Logger
  readonly #partitions = new Map<string, number>()

  constructor(kafka: KafkaConfig, log: Logger) {
    this.#kafka = kafka
    this.#log = log
  }

  /** A source's topic as the engine creates it. */
  sourceTopic(source: string): TopicSpec {
    return {
      name: topicFor(this.#kafka.topicTemplate, source),
      partitions: this.#kafka.partitions,
      replicationFactor: this.#kafka.replicationFactor,
      countPartitions: true,
      configs: { 'max.message.bytes': String(this.#kafka.maxMessageBytes) },
    }
  }

  /**
   * Every topic the engine writes to: the sources' topics, the compacted checkpoint topic and, when rows may be
   * dead-lettered, the dead-letter topic (with the same max.message.bytes: a dead letter carries its row).
   */
  engineTopics(sources: string[], deadLetters: boolean): TopicSpec[] {
    const kafka = this.#kafka
    return [
      ...sources.map((s) => this.sourceTopic(s)),
      {
        name: kafka.checkpointTopic,
        partitions: 1,
        replicationFactor: kafka.replicationFactor,
        configs: { 'cleanup.policy': 'compact' },
      },
      ...(deadLetters
        ? [
            {
              name: kafka.deadLetterTopic,
              partitions: 1,
              replicationFactor: kafka.replicationFactor,
              configs: { 'max.message.bytes': String(kafka.maxMessageBytes) },
            },
          ]
        : []),
    ]
  }

  /** The partition count of a source's topic, creating the topic if it has not been seen yet. */
  async partitionsOf(source: string): Promise<number> {
    const topic = this.sourceTopic(source)
    if (!this.#partitions.has(topic.name)) await this.ensure([topic])
    return this.#partitions.get(topic.name) ?? topic.partitions
  }

  async ensure(topics: TopicSpec[]): Promise<void> {
    const { created, partitions } = await ensureTopics(kafkaClientOptions(this.#kafka), topics)
    if (created.length > 0) this.#log.log('info', `created topics ${created.join(', ')}`)
    for (const [name, count] of partitions) this.#partitions.set(name, count)
  }
}
