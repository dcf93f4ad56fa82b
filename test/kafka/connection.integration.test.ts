// Every way tailhouse authenticates to Kafka, against the secured local broker (test/stack/kafka-security.ts):
// each mechanism connects as its own principal, and what must be refused is refused at once.
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectionsConnectsChannel } from '@platformatic/kafka'
import { describe, expect, it } from 'vitest'
import { type KafkaConfig, kafkaDefaults } from '../../engine/config/config.js'
import { tlsDefaults } from '../../engine/config/kafka-security.js'
import { KafkaAuthenticationError } from '../../engine/errors.js'
import { kafkaClientOptions } from '../../engine/kafka/connection.js'
import { ensureTopics } from '../../engine/kafka/topics.js'
import { uniqueName } from '../helpers/names.js'
import { grant, saslConfig, useSecuredKafka } from '../helpers/secured-kafka.js'
import type { SecureKafka } from '../stack/kafka-security.js'

const secured = useSecuredKafka()

/** Creates `topic` with the connection of `kafka`, as the engine does at start; returns the topics created. */
function createTopic(kafka: Partial<KafkaConfig>, topic: string): Promise<string[]> {
  const options = kafkaClientOptions({ ...kafkaDefaults, ...kafka }, {})
  return ensureTopics(options, [{ name: topic, partitions: 1, replicationFactor: 1 }]).then((r) => r.created)
}

/**
 * Proves who the broker saw: `principal` gets CREATE and WRITE on one topic of its own, which then can be created
 * with the connection of `kafka`, and nothing else can.
 */
async function connectsAs(secure: SecureKafka, principal: string, kafka: Partial<KafkaConfig>): Promise<void> {
  const topic = uniqueName('conn')
  const acl = (operation: 'CREATE' | 'WRITE') =>
    ({ resourceType: 'Topic', patternType: 'LITERAL', resource: topic, operation, reason: 'test' }) as const
  await grant(secure, principal, [acl('CREATE'), acl('WRITE')])
  expect(await createTopic(kafka, topic)).toEqual([topic])
  // Any other topic is denied: the broker saw exactly the principal granted above.
  await expect(createTopic(kafka, uniqueName('other'))).rejects.toMatchObject({
    code: 'TH_KAFKA_ACCESS',
    operation: 'CREATE',
    resourceType: 'Topic',
  })
}

/** An unsigned JWT, what Kafka's default (unsecured, test-only) OAUTHBEARER validator accepts. */
function unsecuredJwt(subject: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  return `${part({ alg: 'none' })}.${part({ sub: subject, iat: now, exp: now + 3600 })}.`
}

/** Counts the client's connection attempts to `bootstrap` while `run` runs. */
async function connectionAttempts(bootstrap: string, run: () => Promise<unknown>): Promise<number> {
  let attempts = 0
  const port = Number(bootstrap.split(':')[1])
  const handlers = {
    start: (context: { port?: number }) => {
      if (context.port === port) attempts += 1
    },
  }
  connectionsConnectsChannel.subscribe(handlers as never)
  try {
    await run().catch(() => {})
  } finally {
    connectionsConnectsChannel.unsubscribe(handlers as never)
  }
  return attempts
}

describe('Kafka connections: SASL and TLS', () => {
  it.each(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const)(
    '%s over TLS connects as its user',
    async (mechanism) => {
      const secure = secured()
      const user = mechanism === 'PLAIN' ? secure.plainUser : secure.scramUser
      await connectsAs(secure, `User:${user.username}`, saslConfig(secure, mechanism, user))
    },
  )

  it('OAUTHBEARER connects as the token subject, with the token inline or from a file', async () => {
    const secure = secured()
    const tls = { ...tlsDefaults, caFile: secure.certificates.ca }
    const base = { mechanism: 'OAUTHBEARER' as const, username: undefined, password: undefined }
    await connectsAs(secure, 'User:tailhouse-oauth', {
      brokers: [secure.bootstrap],
      tls,
      sasl: { ...base, token: unsecuredJwt('tailhouse-oauth'), tokenFile: undefined },
    })
    const tokenFile = join(tmpdir(), `${uniqueName('token')}.jwt`)
    writeFileSync(tokenFile, `${unsecuredJwt('tailhouse-oauth-file')}\n`)
    await connectsAs(secure, 'User:tailhouse-oauth-file', {
      brokers: [secure.bootstrap],
      tls,
      sasl: { ...base, token: undefined, tokenFile },
    })
  })

  it('mutual TLS connects as the client certificate', async () => {
    const secure = secured()
    const { client, ca } = secure.certificates
    await connectsAs(secure, `User:${secure.mtlsUser}`, {
      brokers: [secure.mtlsBootstrap],
      tls: { ...tlsDefaults, caFile: ca, certFile: client.cert, keyFile: client.key },
    })
  })

  it('a wrong password is an authentication error at once: one attempt, no retries', async () => {
    const secure = secured()
    const kafka = saslConfig(secure, 'SCRAM-SHA-512', { username: secure.scramUser.username, password: 'not-it-42' })
    const started = Date.now()
    let failure: unknown
    const attempts = await connectionAttempts(secure.bootstrap, async () => {
      failure = await createTopic(kafka, uniqueName('never')).catch((error) => error)
    })
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(attempts).toBe(1)
    expect(failure).toBeInstanceOf(KafkaAuthenticationError)
    expect((failure as Error).message).toMatch(
      new RegExp(
        `^Kafka at ${secure.bootstrap} refused to authenticate User:tailhouse with SASL SCRAM-SHA-512: .*invalid credentials.*; check kafka\\.sasl`,
      ),
    )
    expect((failure as Error).message).not.toContain('not-it-42')
  })

  it('refuses a certificate for another host while hostname verification is on', async () => {
    const secure = secured()
    const tls = { ...tlsDefaults, caFile: secure.certificates.ca }
    const kafka = { ...saslConfig(secure, 'SCRAM-SHA-512', secure.admin), brokers: [secure.wrongHostBootstrap], tls }
    const started = Date.now()
    const failure = await createTopic(kafka, uniqueName('never')).catch((error) => error)
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(failure).toBeInstanceOf(KafkaAuthenticationError)
    expect(failure.message).toMatch(
      /^TLS to Kafka at 127\.0\.0\.1:\d+ failed, the broker's certificate was refused: Hostname\/IP does not match certificate's altnames.*\[ERR_TLS_CERT_ALTNAME_INVALID\]/,
    )
    // The certificate is otherwise valid (same CA): it connects when it is expected to name wrong.example…
    const named = { ...kafka, tls: { ...tls, serverName: 'wrong.example' } }
    expect(await createTopic(named, uniqueName('named'))).toHaveLength(1)
    // …or, for diagnosis only, with the name check off.
    const unchecked = { ...kafka, tls: { ...tls, verifyHostname: false } }
    expect(await createTopic(unchecked, uniqueName('unchecked'))).toHaveLength(1)
  })

  it('refuses a broker whose certificate no trusted CA signed', async () => {
    const secure = secured()
    const kafka = { ...saslConfig(secure, 'SCRAM-SHA-512', secure.admin), tls: tlsDefaults } // Node.js's CAs only
    const failure = await createTopic(kafka, uniqueName('never')).catch((error) => error)
    expect(failure).toBeInstanceOf(KafkaAuthenticationError)
    expect(failure.message).toMatch(
      /certificate was refused: .*\[(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\]/,
    )
  })
})
