// Unit test of our translation of the client's errors. The errors are built with the client's own classes, in
// the shapes a secured broker produced (test/kafka/connection.integration.test.ts and
// test/engine/secured-kafka.integration.test.ts prove the same against a real one).
import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  protocolAPIsByName,
  ResponseError,
} from '@platformatic/kafka'
import { describe, expect, it } from 'vitest'
import { KafkaAuthenticationError, KafkaAuthorizationError } from '../../engine/errors.js'
import { classifyFailure } from '../../engine/failure.js'
import { describeKafkaError, isSecurityFailure } from '../../engine/kafka/kafka-errors.js'
import { translateKafkaFailure } from '../../engine/kafka/security-errors.js'

const connection = { sasl: { mechanism: 'SCRAM-SHA-512' as const, username: 'tailhouse' } }

/** What the client throws after its retries: MultipleErrors around "Cannot connect to any broker" around the cause. */
function connectFailure(cause: Error): Error {
  const network = new NetworkError('Connection to 127.0.0.1:9093 failed.', { cause })
  return new MultipleErrors('metadata failed 1 times.', [
    new MultipleErrors('Cannot connect to any broker.', [network]),
  ])
}

function denied(
  api: keyof typeof protocolAPIsByName,
  path: string,
  code: number,
  response: unknown,
  serverMessage = 'Authorization failed.',
): Error {
  return new ResponseError(protocolAPIsByName[api] as number, 7, { [path]: [code, serverMessage] }, response)
}

describe('Kafka security failures', () => {
  it('a wrong password: an authentication error naming user, mechanism, broker and the server reason', () => {
    const sasl = denied(
      'SaslAuthenticate',
      '',
      58,
      {},
      'Authentication failed: invalid credentials with SASL mechanism SCRAM-SHA-512',
    )
    const error = connectFailure(new AuthenticationError('SASL authentication failed.', { cause: sasl }))
    expect(classifyFailure(error).action).toBe('fatal') // the client calls it a retriable NetworkError
    const translated = translateKafkaFailure(error, { connection })
    expect(translated).toBeInstanceOf(KafkaAuthenticationError)
    expect((translated as Error).message).toBe(
      'Kafka at 127.0.0.1:9093 refused to authenticate User:tailhouse with SASL SCRAM-SHA-512: Authentication ' +
        'failed: invalid credentials with SASL mechanism SCRAM-SHA-512; check kafka.sasl (or KAFKA_SASL_MECHANISM, ' +
        'KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD)',
    )
    expect(classifyFailure(translated).action).toBe('fatal')
  })

  it('a certificate for another host: a TLS error saying what to check', () => {
    const tls = Object.assign(
      new Error("Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: "),
      {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      },
    )
    const error = connectFailure(tls)
    expect(isSecurityFailure(error)).toBe(true)
    const translated = translateKafkaFailure(error, { connection }) as KafkaAuthenticationError
    expect(translated.code).toBe('TH_KAFKA_AUTH')
    expect(translated.broker).toBe('127.0.0.1:9093')
    expect(translated.message).toMatch(
      /^TLS to Kafka at 127\.0\.0\.1:9093 failed, the broker's certificate was refused: Hostname\/IP does not match .* \[ERR_TLS_CERT_ALTNAME_INVALID\]; check kafka\.tls\.caFile/,
    )
  })

  it('a denied CreateTopics: CREATE on the topic the response names', () => {
    const error = denied('CreateTopics', '/topics/0', 29, {
      topics: [{ name: 'tailhouse.shop.orders', errorCode: 29 }],
    })
    const translated = translateKafkaFailure(error, {
      connection,
      topics: { operation: 'CREATE', names: ['tailhouse.shop.orders'] },
    }) as KafkaAuthorizationError
    expect(translated).toBeInstanceOf(KafkaAuthorizationError)
    expect(translated).toMatchObject({
      code: 'TH_KAFKA_ACCESS',
      operation: 'CREATE',
      resourceType: 'Topic',
      resource: 'tailhouse.shop.orders',
      principal: 'User:tailhouse',
    })
    expect(translated.message).toBe(
      'Kafka denied User:tailhouse CREATE on Topic tailhouse.shop.orders (TOPIC_AUTHORIZATION_FAILED in ' +
        'CreateTopics): grant User:tailhouse CREATE on Topic tailhouse.shop.orders; README.md, "Security", lists ' +
        'every ACL tailhouse needs',
    )
  })

  it('a denied write among several topics: the one the metadata response names', () => {
    const error = denied('Metadata', '/topics/1', 29, {
      topics: [
        { name: 'tailhouse.checkpoints', errorCode: 0 },
        { name: 'tailhouse.shop.orders', errorCode: 29 },
      ],
    })
    const translated = translateKafkaFailure(error, {
      connection,
      topics: { operation: 'WRITE', names: ['tailhouse.shop.orders', 'tailhouse.checkpoints'] },
      transactionalId: 'tailhouse-default',
    }) as KafkaAuthorizationError
    expect(translated).toMatchObject({ operation: 'WRITE', resource: 'tailhouse.shop.orders' })
  })

  it('a denied fetch, whose response names no topic: the topic the caller read', () => {
    const error = denied('Fetch', '/responses/0/partitions/0', 29, {
      responses: [{ topicId: 'abc', partitions: [{ partitionIndex: 0, errorCode: 29 }] }],
    })
    const translated = translateKafkaFailure(error, {
      connection,
      topics: { operation: 'READ', names: ['tailhouse.checkpoints'] },
    }) as KafkaAuthorizationError
    expect(translated).toMatchObject({ operation: 'READ', resourceType: 'Topic', resource: 'tailhouse.checkpoints' })
  })

  it('a denied transactional id: WRITE on it, named by the FindCoordinator response', () => {
    const error = denied('FindCoordinator', '/coordinators/0', 53, { coordinators: [{ key: 'tailhouse-e1' }] })
    const translated = translateKafkaFailure(error, {
      connection,
      transactionalId: 'tailhouse-e1',
    }) as KafkaAuthorizationError
    expect(translated.message).toMatch(
      /^Kafka denied User:tailhouse WRITE on TransactionalId tailhouse-e1 \(TRANSACTIONAL_ID_AUTHORIZATION_FAILED in FindCoordinator\): grant User:tailhouse WRITE on TransactionalId tailhouse-e1;/,
    )
  })

  it('an idempotent producer denied by the cluster: IDEMPOTENT_WRITE on the cluster', () => {
    const error = denied('InitProducerId', '', 31, {})
    expect(translateKafkaFailure(error, { connection })).toMatchObject({
      operation: 'IDEMPOTENT_WRITE',
      resourceType: 'Cluster',
      resource: 'kafka-cluster',
    })
  })

  it('leaves other errors alone, and they stay retriable', () => {
    const error = connectFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
    expect(translateKafkaFailure(error, { connection })).toBe(error)
    expect(isSecurityFailure(error)).toBe(false)
    expect(classifyFailure(error).action).toBe('retry')
  })
})

describe('a broker whose transaction.max.timeout.ms is below the claim', () => {
  it('says which broker setting to raise, and to what', () => {
    const refused = denied('InitProducerId', '', 50, {}, 'The transaction timeout is larger than the maximum value.')
    expect(describeKafkaError(refused)).toMatch(
      /INVALID_TRANSACTION_TIMEOUT.*: the broker's transaction\.max\.timeout\.ms is below the 90 s transaction timeout .* raise it to at least 90000 \(Kafka's default is 900000\)$/,
    )
    expect(classifyFailure(refused).action).toBe('fatal')
  })
})
