import { PassThrough } from 'node:stream'
import {
  type Acl,
  AclOperations,
  AclPermissionTypes,
  Admin,
  ResourcePatternTypes,
  ResourceTypes,
} from '@platformatic/kafka'
import { afterAll, beforeAll } from 'vitest'
import type { KafkaConfig, TailhouseConfig } from '../../engine/config/config.js'
import { type KafkaSaslConfig, tlsDefaults } from '../../engine/config/kafka-security.js'
import { type KafkaClientOptions, kafkaClientOptions } from '../../engine/kafka/connection.js'
import { readToEnd } from '../../engine/kafka/read-to-end.js'
import { type RequiredAcl, requiredAcls } from '../../engine/kafka/required-acls.js'
import { createLogger, type Logger } from '../../engine/log.js'
import { type EngineHandle, startEngine } from '../../engine/start-engine.js'
import type { SecureKafka } from '../stack/kafka-security.js'
import { startSecuredKafka } from '../stack/local-stack.js'
import { engineFixture } from './engine.js'
import { uniqueName } from './names.js'

/**
 * Starts a secured broker of this test file's own before its tests and stops it after them (about 10 s). Only the
 * files that need SASL, TLS or ACLs pay for it; the other integration tests share the plaintext stack.
 */
export function useSecuredKafka(): () => SecureKafka {
  let server: Awaited<ReturnType<typeof startSecuredKafka>> | undefined
  beforeAll(async () => {
    server = await startSecuredKafka()
  })
  afterAll(async () => {
    await server?.stop()
  })
  return () => {
    if (!server) throw new Error('the secured Kafka is not up (useSecuredKafka registers beforeAll)')
    return server.secure
  }
}

/** `kafka` settings that log in to the secured broker's SASL_SSL listener as `user` with `mechanism`. */
export function saslConfig(
  secure: SecureKafka,
  mechanism: KafkaSaslConfig['mechanism'],
  user: { username: string; password: string } = secure.scramUser,
): Pick<KafkaConfig, 'brokers' | 'sasl' | 'tls'> {
  return {
    brokers: [secure.bootstrap],
    sasl: { mechanism, ...user, token: undefined, tokenFile: undefined },
    tls: { ...tlsDefaults, caFile: secure.certificates.ca },
  }
}

/** The super user's client options: for the tests' own set-up and for reading back what the engine wrote. */
export function adminConnection(secure: SecureKafka): KafkaClientOptions {
  return kafkaClientOptions(
    {
      ...kafkaDefaultsForTests,
      ...saslConfig(secure, 'SCRAM-SHA-512', secure.admin),
      clientId: 'tailhouse-test-admin',
    },
    {},
  )
}

const kafkaDefaultsForTests: KafkaConfig = {
  maxMessageBytes: 1_048_588,
  brokers: [],
  clientId: 'tailhouse-test',
  topicTemplate: 'tailhouse.{database}.{table}',
  partitions: 1,
  replicationFactor: 1,
  checkpointTopic: 'tailhouse.checkpoints',
  deadLetterTopic: 'tailhouse.dead-letter',
  delivery: 'exactly-once',
  compression: 'none',
  sasl: undefined,
  tls: undefined,
}

function toKafkaAcl(principal: string, acl: RequiredAcl): Acl {
  return {
    resourceType: acl.resourceType === 'Topic' ? ResourceTypes.TOPIC : ResourceTypes.TRANSACTIONAL_ID,
    resourceName: acl.resource,
    resourcePatternType: acl.patternType === 'PREFIXED' ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
    principal,
    host: '*',
    operation: AclOperations[acl.operation],
    permissionType: AclPermissionTypes.ALLOW,
  }
}

/**
 * Grants `acls` to `principal` (e.g. User:tailhouse), as the super user, and waits until the broker's authorizer
 * has them (ACLs travel through the metadata log).
 */
export async function grant(secure: SecureKafka, principal: string, acls: RequiredAcl[]): Promise<void> {
  if (acls.length === 0) return
  const admin = new Admin(adminConnection(secure))
  try {
    await admin.createAcls({ creations: acls.map((acl) => toKafkaAcl(principal, acl)) })
    await waitForAcls(admin, principal, acls.length)
  } finally {
    await admin.close()
  }
}

/** Removes `acls` of `principal` again. */
export async function revoke(secure: SecureKafka, principal: string, acls: RequiredAcl[]): Promise<void> {
  if (acls.length === 0) return
  const admin = new Admin(adminConnection(secure))
  try {
    await admin.deleteAcls({ filters: acls.map((acl) => toKafkaAcl(principal, acl)) })
    await waitForAcls(admin, principal, 0, acls)
  } finally {
    await admin.close()
  }
}

/** Polls DescribeAcls until `principal` has at least `count` ACLs (or, with `gone`, none of those). */
async function waitForAcls(admin: Admin, principal: string, count: number, gone?: RequiredAcl[]): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const resources = await admin.describeAcls({
      filter: {
        resourceType: ResourceTypes.ANY,
        resourceName: null,
        resourcePatternType: ResourcePatternTypes.ANY,
        principal,
        host: null,
        operation: AclOperations.ANY,
        permissionType: AclPermissionTypes.ANY,
      },
    })
    const held = resources.flatMap((r) =>
      r.acls.map((a) => `${r.resourceType}/${r.resourceName}/${r.resourcePatternType}/${a.operation}`),
    )
    const done = gone
      ? gone.every((acl) => {
          const k = toKafkaAcl(principal, acl)
          return !held.includes(`${k.resourceType}/${k.resourceName}/${k.resourcePatternType}/${k.operation}`)
        })
      : held.length >= count
    if (done) return
    if (Date.now() > deadline) throw new Error(`ACLs of ${principal} did not settle: ${held.join(', ')}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * A source table with `rows` rows, migrated, and an engine config that logs in as User:tailhouse (SCRAM-SHA-512
 * over TLS). Topic names keep the source topics' prefix apart from the checkpoint and dead-letter topics, so that
 * each ACL of requiredAcls covers one thing only. Grants nothing: `acls` is what the engine needs.
 */
export async function securedFixture(
  secure: SecureKafka,
  options: {
    rows?: number
    kafka?: Partial<TailhouseConfig['kafka']>
    engine?: Partial<TailhouseConfig['engine']>
  } = {},
) {
  const run = uniqueName('sec')
  const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [] }], options.engine ?? {}, {
    ...saslConfig(secure, 'SCRAM-SHA-512'),
    topicTemplate: `${run}.src.{database}.{table}`,
    checkpointTopic: `${run}-checkpoints`,
    deadLetterTopic: `${run}-dead-letter`,
    partitions: 2,
    ...options.kafka,
  })
  await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64, v String) ENGINE = MergeTree ORDER BY id` })
  await f.migrate()
  const insert = async (from: number, count: number) => {
    const values = Array.from({ length: count }, (_, i) => `(${from + i}, 'v${from + i}')`).join(', ')
    await f.client.command({ query: `INSERT INTO ${f.sourceDb}.t VALUES ${values}` })
  }
  await insert(0, options.rows ?? 3)
  return { ...f, secure, insert, sourceTopic: `${run}.src.${f.sourceDb}.t`, acls: requiredAcls(f.config) }
}

export type SecuredFixture = Awaited<ReturnType<typeof securedFixture>>

/** A JSON logger at debug level whose every line the test can read. */
export function capturedLogger(): { logger: Logger; text: () => string } {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (chunk) => {
    text += chunk.toString()
  })
  return { logger: createLogger({ level: 'debug', format: 'json', destination: stream }), text: () => text }
}

/** Starts the engine of a secured fixture with its config and ClickHouse client. */
export function startAs(f: SecuredFixture, logger: Logger = capturedLogger().logger): Promise<EngineHandle> {
  return startEngine({ config: f.config, client: f.client, logger })
}

/** The engine's exit, or a failure after `ms`. */
export async function exitWithin(engine: EngineHandle, ms: number) {
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`the engine still runs after ${ms} ms: ${engine.status().state}`)), ms),
  )
  return Promise.race([engine.done, timeout])
}

/** Every committed message of a topic, read as the super user, read_committed. */
export function committed(f: SecuredFixture, topic: string) {
  return readToEnd({ connection: adminConnection(f.secure), topic, isolation: 'committed' })
}
