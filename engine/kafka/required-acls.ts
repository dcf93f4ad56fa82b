import type { CaptureConfig, EngineConfig, KafkaConfig } from '../config/config.js'
import { transactionalIdPrefix } from '../sink/publisher.js'
import { topicFor } from './topics.js'

/** One Kafka ACL (ALLOW, any host) the engine's principal needs. */
export interface RequiredAcl {
  resourceType: 'Topic' | 'TransactionalId'
  patternType: 'LITERAL' | 'PREFIXED'
  resource: string
  operation: 'READ' | 'WRITE' | 'CREATE'
  /** Why the engine needs it. */
  reason: string
}

/**
 * Exactly the ACLs `tailhouse start` needs for `config`, no more (README.md, "Security", lists the same):
 *
 * - WRITE on the source topics, and CREATE while tailhouse creates them: a prefixed ACL on the constant start of
 *   kafka.topicTemplate, or literal ones per configured source when the template starts with a placeholder;
 * - on kafka.checkpointTopic: READ (the committed checkpoint, read at start), WRITE (in every transaction), CREATE;
 * - with engine.onPoisonRow: dead-letter, WRITE and CREATE on kafka.deadLetterTopic;
 * - exactly-once: WRITE on the transactional id tailhouse-<engine.id>.
 *
 * WRITE and READ imply DESCRIBE. No group ACL: the checkpoint reader fetches by offset and joins no group. No
 * IDEMPOTENT_WRITE on the cluster: since Kafka 3.0 WRITE on any topic allows an idempotent producer (KIP-679).
 * CREATE can be left out when every topic exists beforehand.
 */
export function requiredAcls(config: {
  kafka: KafkaConfig
  engine: EngineConfig
  capture: Pick<CaptureConfig, 'sources'>
}): RequiredAcl[] {
  const { kafka, engine } = config
  const exactlyOnce = kafka.delivery === 'exactly-once'
  const acls: RequiredAcl[] = []
  const topic = (
    resource: string,
    patternType: RequiredAcl['patternType'],
    operation: RequiredAcl['operation'],
    reason: string,
  ) => acls.push({ resourceType: 'Topic', patternType, resource, operation, reason })

  const placeholder = kafka.topicTemplate.indexOf('{')
  const prefix = placeholder < 0 ? '' : kafka.topicTemplate.slice(0, placeholder)
  const sources = prefix
    ? [{ resource: prefix, patternType: 'PREFIXED' as const }]
    : [...new Set(config.capture.sources.map((s) => topicFor(kafka.topicTemplate, s.table)))].map((resource) => ({
        resource,
        patternType: 'LITERAL' as const,
      }))
  for (const s of sources) {
    topic(s.resource, s.patternType, 'WRITE', 'publish the rows')
    topic(s.resource, s.patternType, 'CREATE', 'create missing source topics')
  }
  if (exactlyOnce) {
    topic(kafka.checkpointTopic, 'LITERAL', 'READ', 'read the committed checkpoint at start')
    topic(kafka.checkpointTopic, 'LITERAL', 'WRITE', "write each batch's checkpoint in its transaction")
  }
  topic(kafka.checkpointTopic, 'LITERAL', 'CREATE', 'create the checkpoint topic')
  if (engine.onPoisonRow === 'dead-letter') {
    topic(kafka.deadLetterTopic, 'LITERAL', 'WRITE', 'publish undecodable rows')
    topic(kafka.deadLetterTopic, 'LITERAL', 'CREATE', 'create the dead-letter topic')
  }
  if (exactlyOnce) {
    acls.push({
      resourceType: 'TransactionalId',
      // tailhouse-<engine.id>-<changelog identity>: the identity comes from migrate, so the ACL is on the prefix.
      patternType: 'PREFIXED',
      resource: transactionalIdPrefix(engine.id),
      operation: 'WRITE',
      reason: 'claim the transactional id (fencing) and run transactions',
    })
  }
  return acls
}
