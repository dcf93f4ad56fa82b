import type { RegistryConfig } from '../config/config.js'

/**
 * The subject of a topic's value schema under each of Confluent's naming strategies (the serializers'
 * `value.subject.name.strategy`):
 * - `topic` (TopicNameStrategy, the default): `<topic>-value`; one schema lineage per topic.
 * - `record` (RecordNameStrategy): the record's full name (`tailhouse.<db>.<table>.Envelope`), whatever the topic.
 * - `topic-record` (TopicRecordNameStrategy): `<topic>-<record full name>`.
 */
export function subjectName(
  strategy: RegistryConfig['subjectNameStrategy'],
  topic: string,
  recordName: string,
): string {
  if (strategy === 'record') return recordName
  if (strategy === 'topic-record') return `${topic}-${recordName}`
  return `${topic}-value`
}
