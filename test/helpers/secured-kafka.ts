import {
  type Acl,
  AclOperations,
  AclPermissionTypes,
  Admin,
  ResourcePatternTypes,
  ResourceTypes,
} from '@platformatic/kafka'
import { afterAll, beforeAll } from 'vitest'
import type { KafkaConfig } from '../../engine/config/config.js'
import { type KafkaSaslConfig, tlsDefaults } from '../../engine/config/kafka-security.js'
import { type KafkaClientOptions, kafkaClientOptions } from '../../engine/kafka/connection.js'
import type { RequiredAcl } from '../../engine/kafka/required-acls.js'
import type { SecureKafka } from '../stack/kafka-security.js'
import { startSecuredKafka } from '../stack/local-stack.js'

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
