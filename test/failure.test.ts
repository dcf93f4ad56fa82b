import { MultipleErrors, NetworkError, ProtocolError, TimeoutError } from '@platformatic/kafka'
import { describe, expect, it } from 'vitest'
import {
  CaptureError,
  ClickHouseQueryError,
  ClickHouseUnreachableError,
  ConfigError,
  KafkaError,
} from '../engine/errors.js'
import { backoffMs, classifyFailure, type Failure } from '../engine/failure.js'

const errno = (code: string) => Object.assign(new Error(code), { code })

/** Every kind of failure the engine meets, and what it must do about it. */
const table: Array<[string, unknown, Failure]> = [
  [
    'ClickHouse unreachable',
    new ClickHouseUnreachableError('ClickHouse', 'ECONNREFUSED'),
    { action: 'retry', reason: 'clickhouse' },
  ],
  [
    'ClickHouse refused a query',
    new ClickHouseQueryError('boom', '60', 'UNKNOWN_TABLE'),
    { action: 'fatal', reason: 'clickhouse' },
  ],
  [
    'ClickHouse query error that may pass',
    new ClickHouseQueryError('timeout', '159', 'TIMEOUT_EXCEEDED', { canRetry: true }),
    { action: 'retry', reason: 'clickhouse' },
  ],
  [
    'a schema migrate has yet to register',
    new CaptureError('a.b', 'run migrate', { canRetry: true }),
    { action: 'retry', reason: 'schema' },
  ],
  [
    'a cursor regression',
    new CaptureError('a.b', 'block numbers went backwards'),
    { action: 'fatal', reason: 'schema' },
  ],
  ['a bad config value', new ConfigError('kafka.brokers', 'bad'), { action: 'fatal', reason: 'engine' }],
  ['Kafka refused for good', new KafkaError('TOPIC_AUTHORIZATION_FAILED'), { action: 'fatal', reason: 'kafka' }],
  ['a broker connection dropped', new NetworkError('socket closed'), { action: 'retry', reason: 'kafka' }],
  ['a Kafka request timed out', new TimeoutError('timed out'), { action: 'retry', reason: 'kafka' }],
  ['a refused socket', errno('ECONNREFUSED'), { action: 'retry', reason: 'kafka' }],
  ['a reset socket', errno('ECONNRESET'), { action: 'retry', reason: 'kafka' }],
  [
    'several brokers unreachable',
    new MultipleErrors('all failed', [new NetworkError('a'), new NetworkError('b')]),
    { action: 'retry', reason: 'kafka' },
  ],
  [
    'several failures, one not retriable',
    new MultipleErrors('all failed', [new NetworkError('a'), new Error('corrupt')]),
    { action: 'fatal', reason: 'kafka' },
  ],
  ['fenced by another instance', new ProtocolError('PRODUCER_FENCED'), { action: 'fenced', reason: 'kafka' }],
  [
    'an old epoch after a new instance',
    new ProtocolError('INVALID_PRODUCER_EPOCH'),
    { action: 'fenced', reason: 'kafka' },
  ],
  ['a retriable broker answer', new ProtocolError('NOT_LEADER_OR_FOLLOWER'), { action: 'retry', reason: 'kafka' }],
  ['anything else', new Error('a bug'), { action: 'fatal', reason: 'kafka' }],
  ['a thrown string', 'nope', { action: 'fatal', reason: 'kafka' }],
]

describe('classifyFailure', () => {
  it.each(table)('%s', (_, error, expected) => {
    expect(classifyFailure(error)).toEqual(expected)
  })
})

describe('backoffMs', () => {
  it('doubles from 0.5 s with ±20% jitter, capped at 30 s', () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const base = Math.min(30_000, 500 * 2 ** attempt)
      const wait = backoffMs(attempt)
      expect(wait).toBeGreaterThanOrEqual(base * 0.8)
      expect(wait).toBeLessThanOrEqual(base * 1.2)
    }
  })
})
