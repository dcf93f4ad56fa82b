import { describe, expect, it } from 'vitest'
import {
  CaptureError,
  ClickHouseQueryError,
  ClickHouseUnreachableError,
  ConfigError,
  canRetry,
  DataDirectoryLockedError,
  errorCodes,
  KafkaAuthenticationError,
  KafkaAuthorizationError,
  KafkaError,
  MigrationError,
  OffsetsError,
  RegistryError,
  StackError,
  type TailhouseError,
  TraceLookupError,
  UnsupportedTypeError,
  UsageError,
} from '../engine/errors.js'

describe('errors', () => {
  const cases: Array<[TailhouseError, string, boolean]> = [
    [new ConfigError('kafka.brokers', 'is required'), 'TH_CONFIG', false],
    [new UsageError('bad flag'), 'TH_USAGE', false],
    [
      new ClickHouseUnreachableError('ClickHouse server http://h:8123', 'ECONNREFUSED'),
      'TH_CLICKHOUSE_UNREACHABLE',
      true,
    ],
    [new ClickHouseQueryError('boom', '60', 'UNKNOWN_TABLE'), 'TH_CLICKHOUSE_QUERY', false],
    [new DataDirectoryLockedError('/data', 42, 'held by process 42'), 'TH_CLICKHOUSE_LOCKED', false],
    [new StackError('kafka', 'did not start'), 'TH_STACK', false],
    [
      new UnsupportedTypeError('shop.orders', 'agg', 'AggregateFunction(sum, UInt64)', 'no mapping'),
      'TH_UNSUPPORTED_TYPE',
      false,
    ],
    [new CaptureError('shop.orders', 'is a Distributed table'), 'TH_CAPTURE', false],
    [new MigrationError('0001_sources.sql', 'checksum changed'), 'TH_MIGRATION', false],
    [new KafkaError('TOPIC_AUTHORIZATION_FAILED on tailhouse.shop.orders'), 'TH_KAFKA', false],
    [new OffsetsError('/var/tailhouse/offsets.sqlite', 'is locked by another process'), 'TH_OFFSETS', false],
    [new MigrationError('0001_changelog.sql', 'checksum changed'), 'TH_MIGRATION', false],
    [new TraceLookupError('no traceparent'), 'TH_TRACE', false],
    [new KafkaAuthenticationError('Kafka refused to authenticate', '127.0.0.1:9093'), 'TH_KAFKA_AUTH', false],
    [
      new KafkaAuthorizationError(
        { operation: 'WRITE', resourceType: 'Topic', resource: 't', principal: 'User:tailhouse' },
        'Kafka denied',
      ),
      'TH_KAFKA_ACCESS',
      false,
    ],
    [new RegistryError('orders-value', 'unreachable', { canRetry: true }), 'TH_REGISTRY', true],
  ]

  it.each(cases)('%s has its code and retry policy', (error, code, retriable) => {
    expect(error.code).toBe(code)
    expect(errorCodes).toContain(error.code)
    expect(error.canRetry).toBe(retriable)
    expect(canRetry(error)).toBe(retriable)
    expect(error.name).toBe(error.constructor.name)
  })

  it('covers every declared code with a class', () => {
    expect(new Set(cases.map(([, code]) => code))).toEqual(new Set(errorCodes))
  })

  it('shows code and canRetry as enumerable fields, for structured logs', () => {
    const error = new ClickHouseUnreachableError('ClickHouse server http://h:8123', 'ECONNREFUSED')
    expect(Object.keys(error)).toEqual(expect.arrayContaining(['code', 'canRetry']))
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ code: 'TH_CLICKHOUSE_UNREACHABLE', canRetry: true })
  })

  it('names the config key in the message and keeps the cause', () => {
    const cause = new Error('ENOENT')
    const error = new ConfigError('clickhouse.tls.caCertPath', 'cannot read /x', { cause })
    expect(error.message).toBe('clickhouse.tls.caCertPath: cannot read /x')
    expect(error.key).toBe('clickhouse.tls.caCertPath')
    expect(error.cause).toBe(cause)
  })

  it('names table, column and type of an unsupported type', () => {
    const error = new UnsupportedTypeError('shop.orders', 'agg', 'AggregateFunction(sum, UInt64)', 'no mapping')
    expect(error.message).toBe('shop.orders.agg: type AggregateFunction(sum, UInt64) cannot be captured: no mapping')
    expect(error).toMatchObject({ table: 'shop.orders', column: 'agg', typeName: 'AggregateFunction(sum, UInt64)' })
  })

  it('never retries foreign errors blindly', () => {
    expect(canRetry(new Error('ECONNREFUSED'))).toBe(false)
    expect(canRetry('nope')).toBe(false)
  })
})
