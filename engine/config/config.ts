import {
  arrayOf,
  boolean,
  integer,
  object,
  oneOf,
  optional,
  optionalString,
  ratio,
  type Shape,
  secret,
  string,
} from './fields.js'
import { type KafkaSaslConfig, type KafkaTlsConfig, parseSasl, parseTls } from './kafka-security.js'

/** `db.table`, both parts plain identifiers or backquote-free names. */
const tableName = { pattern: /^[^.`\s/]+\.[^.`\s/]+$/, hint: 'expected db.table (no / in either name)' }
const identifier = {
  pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
  hint: 'letters, digits and _ only, not starting with a digit',
}

export interface SourceConfig {
  /** The source table, `db.table`. */
  table: string
  /** Columns not to capture (e.g. secrets, or a column about to be dropped). */
  exclude: string[]
  /**
   * Columns whose values form the Kafka message key. Default (source/key-choice.ts): the sorting key's plain columns
   * for Replacing/Collapsing/VersionedCollapsingMergeTree (the row's identity); none for other engines (partition 0).
   */
  key?: string[] | undefined
  /**
   * How rows are captured (ARCHITECTURE.md, "Stream mode"). view (default): a materialized view copies each INSERT
   * into a changelog table. stream: no view and no changelog; the engine reads the table itself in commit order
   * (`SELECT … STREAM`, ClickHouse 26.6+, experimental upstream). Unset means view.
   */
  mode?: 'view' | 'stream' | undefined
  /**
   * initial (default): when the engine first meets the source, the rows the table already holds are published with
   * op `read` before its changelog; never: only rows inserted after capture started. Unset means initial.
   */
  snapshot?: 'initial' | 'never' | undefined
}

export interface KafkaConfig {
  /** Bootstrap brokers, host:port; KAFKA_BOOTSTRAP (comma-separated) overrides. */
  brokers: string[]
  clientId: string
  /** Topic per source; {database} and {table} are replaced. */
  topicTemplate: string
  /** Partitions of topics tailhouse creates. */
  partitions: number
  replicationFactor: number
  /** Compacted topic holding each engine's committed cursor, written in the same transaction as the rows. */
  checkpointTopic: string
  /** Where undecodable rows go when engine.onPoisonRow is dead-letter. */
  deadLetterTopic: string
  /** exactly-once: Kafka transactions, the checkpoint topic is the authority. at-least-once: no transactions. */
  delivery: 'exactly-once' | 'at-least-once'
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  /**
   * The largest record batch tailhouse sends, bytes: topics it creates get max.message.bytes = this, batches are cut
   * so that no partition's share exceeds it, and a single row whose message does not fit stops the engine or goes
   * to the dead-letter topic (engine.onPoisonRow). Kafka's default is 1048588; raise the broker's message.max.bytes
   * (and existing topics' max.message.bytes) with it.
   */
  maxMessageBytes: number
  /** SASL authentication (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER); KAFKA_SASL_* override. Unset: none. */
  sasl: KafkaSaslConfig | undefined
  /** TLS to the brokers (CA bundle, mutual TLS, hostname verification); KAFKA_TLS_* override. Unset: plaintext. */
  tls: KafkaTlsConfig | undefined
}

export interface EngineConfig {
  /** Names this engine: its transactional id is tailhouse-<id>; two instances with one id fence each other. */
  id: string
  /**
   * protobuf, json: as before. avro, json-schema: registry formats, need `registry.url`. debezium-json: Debezium
   * change events. protobuf with `registry.url` set is framed in Confluent's wire format too.
   */
  format: 'protobuf' | 'json' | 'avro' | 'json-schema' | 'debezium-json'
  /** A batch (one transaction) holds at most this many rows… */
  batchMaxRows: number
  /** …and at most about this many payload bytes. */
  batchMaxBytes: number
  /** Wait this long between polls when the changelog has nothing new. */
  pollIntervalMs: number
  /** SQLite file with cursors and batch history. */
  offsetsPath: string
  /** A row that cannot be decoded or encoded: stop the engine, or publish it to kafka.deadLetterTopic. */
  onPoisonRow: 'stop' | 'dead-letter'
  /**
   * Message headers. lean: only `traceparent`, when the batch is traced (everything else is in the value's
   * envelope). full: also tailhouse.source, .op, .schema_version, .cursor, .query_id, .ingest_time_us, for consumers
   * that route or deduplicate without decoding values.
   */
  headers: 'lean' | 'full'
  /** Initial snapshots publish at most this many rows per second (0: as fast as they go). Unset means 0. */
  snapshotRowsPerSecond?: number | undefined
}

export interface ClickHouseConfig {
  url: string | undefined
  username: string | undefined
  password: string | undefined
  database: string | undefined
  dataDir: string | undefined
}

export interface CaptureConfig {
  /** The database holding the changelog, the source registry and the migration ledger. */
  database: string
  /** Cluster for ON CLUSTER DDL and replicated tables; unset on a single server. */
  cluster: string | undefined
  /** Changelog rows older than this are dropped (whole parts, by ingest hour). */
  retentionDays: number
  /** INSERT retries within this many recent blocks are deduplicated in the changelog. */
  dedupWindow: number
  /** Refuse to migrate when the server settings capture depends on are unsafe. */
  checkSettings: boolean
  sources: SourceConfig[]
}

export interface ProtobufConfig {
  /** Directory for generated .proto files. */
  schemasDir: string
  timestamps: 'timestamp' | 'int64'
  enums: 'enum' | 'string'
}

export interface TelemetryConfig {
  /** Export a span per batch over OTLP/HTTP. OTLP_ENDPOINT in the environment turns it on. */
  tracing: boolean
  /** OTLP/HTTP base URL (spans go to <endpoint>/v1/traces); OTLP_ENDPOINT overrides. */
  otlpEndpoint: string
  /** A Zipkin collector URL (e.g. http://127.0.0.1:9411/api/v2/spans): spans are exported there as well. */
  zipkinEndpoint: string | undefined
  /** Share of batches traced, 0 to 1. */
  samplingRatio: number
  serviceName: string
  /** Serve /healthz, /readyz and /metrics. */
  http: boolean
  httpHost: string
  /** 0 picks a free port (logged at start). */
  httpPort: number
}

export interface RegistryConfig {
  /** Confluent-compatible schema registry base URL; unset: no registry. SCHEMA_REGISTRY_URL overrides. */
  url: string | undefined
  /** How subjects are named: topic (`<topic>-value`), record (the record's full name), topic-record (both). */
  subjectNameStrategy: 'topic' | 'record' | 'topic-record'
  /** Basic auth; SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD override. */
  username: string | undefined
  password: string | undefined
  /** CA bundle for an https URL, and a client certificate and key for mutual TLS (SCHEMA_REGISTRY_TLS_*). */
  tlsCa: string | undefined
  tlsCert: string | undefined
  tlsKey: string | undefined
  /** Per-request timeout. */
  timeoutMs: number
}

export interface DebeziumConfig {
  /** Wrap each event as `{ schema, payload }` with its Kafka Connect schema (JsonConverter schemas.enable=true). */
  includeSchema: boolean
  /** The logical server name: `source.name` of the events and the prefix of their schema names. */
  serverName: string
}

export interface TailhouseConfig {
  clickhouse: ClickHouseConfig
  capture: CaptureConfig
  protobuf: ProtobufConfig
  kafka: KafkaConfig
  engine: EngineConfig
  /** Always set by parseConfig; optional for configs built in code before the registry existed. */
  registry?: RegistryConfig
  /** engine.format debezium-json only; always set by parseConfig. */
  debezium?: DebeziumConfig
  telemetry: TelemetryConfig
}

const sourceShape: Shape<SourceConfig> = {
  table: { description: 'the source table, db.table', parse: string(tableName) },
  exclude: { description: 'columns not to capture', default: [], parse: arrayOf(string()) },
  key: { description: 'message key columns', default: undefined, parse: arrayOf(string(), { minLength: 1 }) },
  mode: {
    description: 'view (a capture view and changelog; unset means view) or stream (read the table itself, 26.6+)',
    default: undefined,
    parse: oneOf('view', 'stream'),
  },
  snapshot: {
    description: 'publish the rows the table holds when capture starts (initial) or not (never)',
    default: 'initial',
    parse: oneOf('initial', 'never'),
  },
}

const hostPort = { pattern: /^[^\s:]+:\d+$/, hint: 'expected host:port' }
const topicName = { pattern: /^[A-Za-z0-9._{}-]+$/, hint: 'letters, digits, . _ - and {database} {table}' }

export const telemetryDefaults: TelemetryConfig = {
  tracing: false,
  otlpEndpoint: 'http://127.0.0.1:4318',
  zipkinEndpoint: undefined,
  samplingRatio: 1,
  serviceName: 'tailhouse',
  http: true,
  httpHost: '127.0.0.1',
  httpPort: 9464,
}

export const kafkaDefaults: KafkaConfig = {
  brokers: ['127.0.0.1:9092'],
  clientId: 'tailhouse',
  topicTemplate: 'tailhouse.{database}.{table}',
  partitions: 6,
  replicationFactor: 1,
  checkpointTopic: 'tailhouse.checkpoints',
  deadLetterTopic: 'tailhouse.dead-letter',
  delivery: 'exactly-once',
  compression: 'lz4',
  maxMessageBytes: 1_048_588,
  sasl: undefined,
  tls: undefined,
}

export const engineDefaults: EngineConfig = {
  id: 'default',
  format: 'protobuf',
  batchMaxRows: 10_000,
  batchMaxBytes: 4 * 1024 * 1024,
  pollIntervalMs: 100,
  offsetsPath: '.tailhouse/offsets.sqlite',
  onPoisonRow: 'stop',
  headers: 'lean',
  snapshotRowsPerSecond: 0,
}

export const registryDefaults: RegistryConfig = {
  url: undefined,
  subjectNameStrategy: 'topic',
  username: undefined,
  password: undefined,
  tlsCa: undefined,
  tlsCert: undefined,
  tlsKey: undefined,
  timeoutMs: 10_000,
}

export const debeziumDefaults: DebeziumConfig = { includeSchema: false, serverName: 'tailhouse' }

export const configShape: Shape<TailhouseConfig> = {
  clickhouse: {
    description: 'where ClickHouse is; the CLICKHOUSE_* environment variables override these',
    default: { url: undefined, username: undefined, password: undefined, database: undefined, dataDir: undefined },
    parse: object<ClickHouseConfig>({
      url: { description: 'server URL; unset: embedded ClickHouse', default: undefined, parse: optionalString() },
      username: { description: 'user name', default: undefined, parse: optionalString() },
      password: { description: 'password', default: undefined, parse: optional(secret()) },
      database: { description: 'default database', default: undefined, parse: optionalString() },
      dataDir: { description: 'embedded ClickHouse data directory', default: undefined, parse: optionalString() },
    }),
  },
  capture: {
    description: 'what to capture and where the changelog lives',
    parse: object<CaptureConfig>({
      database: { description: 'database of the changelog', default: 'tailhouse', parse: string(identifier) },
      cluster: {
        description: 'cluster name for ON CLUSTER DDL',
        default: undefined,
        parse: optionalString(identifier),
      },
      retentionDays: { description: 'changelog retention in days', default: 7, parse: integer(1, 3650) },
      dedupWindow: { description: 'changelog dedup window in blocks', default: 10_000, parse: integer(1, 1_000_000) },
      checkSettings: { description: 'refuse unsafe server settings', default: true, parse: boolean() },
      sources: { description: 'the tables to capture', parse: arrayOf(object(sourceShape), { minLength: 1 }) },
    }),
  },
  protobuf: {
    description: 'how .proto files are generated',
    default: { schemasDir: 'schemas', timestamps: 'timestamp', enums: 'enum' },
    parse: object<ProtobufConfig>({
      schemasDir: { description: 'directory for .proto files', default: 'schemas', parse: string() },
      timestamps: {
        description: 'dates as google.protobuf.Timestamp or int64',
        default: 'timestamp',
        parse: oneOf('timestamp', 'int64'),
      },
      enums: { description: 'Enum8/16 as proto enums or strings', default: 'enum', parse: oneOf('enum', 'string') },
    }),
  },
  kafka: {
    description: 'where rows are published',
    default: kafkaDefaults,
    parse: object<KafkaConfig>({
      brokers: {
        description: 'bootstrap brokers',
        default: kafkaDefaults.brokers,
        parse: arrayOf(string(hostPort), { minLength: 1 }),
      },
      clientId: { description: 'Kafka client id', default: kafkaDefaults.clientId, parse: string() },
      topicTemplate: {
        description: 'topic per source',
        default: kafkaDefaults.topicTemplate,
        parse: string(topicName),
      },
      partitions: {
        description: 'partitions of created topics',
        default: kafkaDefaults.partitions,
        parse: integer(1, 10_000),
      },
      replicationFactor: {
        description: 'replication of created topics',
        default: kafkaDefaults.replicationFactor,
        parse: integer(1, 32),
      },
      checkpointTopic: {
        description: 'compacted checkpoint topic',
        default: kafkaDefaults.checkpointTopic,
        parse: string(topicName),
      },
      deadLetterTopic: {
        description: 'topic for poison rows',
        default: kafkaDefaults.deadLetterTopic,
        parse: string(topicName),
      },
      delivery: {
        description: 'delivery guarantee',
        default: kafkaDefaults.delivery,
        parse: oneOf('exactly-once', 'at-least-once'),
      },
      compression: {
        description: 'record batch compression',
        default: kafkaDefaults.compression,
        parse: oneOf('none', 'gzip', 'snappy', 'lz4', 'zstd'),
      },
      maxMessageBytes: {
        description: 'largest record batch sent, and max.message.bytes of created topics',
        default: kafkaDefaults.maxMessageBytes,
        parse: integer(1024, 1024 * 1024 * 1024),
      },
      sasl: { description: 'SASL authentication', default: undefined, parse: parseSasl },
      tls: { description: 'TLS to the brokers', default: undefined, parse: parseTls },
    }),
  },
  engine: {
    description: 'how the engine service runs',
    default: engineDefaults,
    parse: object<EngineConfig>({
      id: {
        description: 'engine id',
        default: engineDefaults.id,
        parse: string({ pattern: /^[A-Za-z0-9._-]+$/, hint: 'letters, digits, . _ -' }),
      },
      format: {
        description: 'message format',
        default: engineDefaults.format,
        parse: oneOf('protobuf', 'json', 'avro', 'json-schema', 'debezium-json'),
      },
      batchMaxRows: {
        description: 'rows per transaction',
        default: engineDefaults.batchMaxRows,
        parse: integer(1, 1_000_000),
      },
      batchMaxBytes: {
        description: 'payload bytes per transaction',
        default: engineDefaults.batchMaxBytes,
        parse: integer(1024, 512 * 1024 * 1024),
      },
      pollIntervalMs: {
        description: 'idle poll interval',
        default: engineDefaults.pollIntervalMs,
        parse: integer(1, 60_000),
      },
      offsetsPath: { description: 'SQLite offsets file', default: engineDefaults.offsetsPath, parse: string() },
      onPoisonRow: {
        description: 'undecodable rows',
        default: engineDefaults.onPoisonRow,
        parse: oneOf('stop', 'dead-letter'),
      },
      headers: {
        description: 'message headers: lean (traceparent only) or full (also source, op, cursor, …)',
        default: engineDefaults.headers,
        parse: oneOf('lean', 'full'),
      },
      snapshotRowsPerSecond: {
        description: 'throttle of initial snapshots, rows per second (0: none)',
        default: engineDefaults.snapshotRowsPerSecond,
        parse: integer(0, 100_000_000),
      },
    }),
  },
  registry: {
    description: 'the schema registry (Confluent API); SCHEMA_REGISTRY_* environment variables override',
    default: registryDefaults,
    parse: object<RegistryConfig>({
      url: {
        description: 'registry base URL; unset: no registry',
        default: undefined,
        parse: optionalString({ pattern: /^https?:\/\/\S+$/, hint: 'expected http(s)://host:port[/path]' }),
      },
      subjectNameStrategy: {
        description: 'subject naming: topic (<topic>-value), record (record name), topic-record (<topic>-<record>)',
        default: registryDefaults.subjectNameStrategy,
        parse: oneOf('topic', 'record', 'topic-record'),
      },
      username: { description: 'basic auth user', default: undefined, parse: optionalString() },
      password: { description: 'basic auth password', default: undefined, parse: optionalString() },
      tlsCa: { description: 'CA bundle file for https', default: undefined, parse: optionalString() },
      tlsCert: { description: 'client certificate file (mutual TLS)', default: undefined, parse: optionalString() },
      tlsKey: { description: 'client key file (mutual TLS)', default: undefined, parse: optionalString() },
      timeoutMs: {
        description: 'per-request timeout in ms',
        default: registryDefaults.timeoutMs,
        parse: integer(100, 300_000),
      },
    }),
  },
  debezium: {
    description: 'the debezium-json format',
    default: debeziumDefaults,
    parse: object<DebeziumConfig>({
      includeSchema: {
        description: 'wrap events as { schema, payload } (Kafka Connect JsonConverter with schemas.enable=true)',
        default: debeziumDefaults.includeSchema,
        parse: boolean(),
      },
      serverName: {
        description: 'source.name of the events and prefix of their schema names',
        default: debeziumDefaults.serverName,
        parse: string({ pattern: /^[A-Za-z_][A-Za-z0-9_.-]*$/, hint: 'letters, digits, _ . -' }),
      },
    }),
  },
  telemetry: {
    description: 'traces, metrics and health endpoints',
    default: telemetryDefaults,
    parse: object<TelemetryConfig>({
      tracing: { description: 'export spans over OTLP', default: telemetryDefaults.tracing, parse: boolean() },
      otlpEndpoint: {
        description: 'OTLP/HTTP base URL',
        default: telemetryDefaults.otlpEndpoint,
        parse: string({ pattern: /^https?:\/\/\S+$/, hint: 'expected http(s)://host:port' }),
      },
      zipkinEndpoint: {
        description: 'Zipkin collector URL, a second exporter',
        default: telemetryDefaults.zipkinEndpoint,
        parse: optionalString({ pattern: /^https?:\/\/\S+$/, hint: 'expected http(s)://host:port/api/v2/spans' }),
      },
      samplingRatio: {
        description: 'share of batches traced',
        default: telemetryDefaults.samplingRatio,
        parse: ratio(),
      },
      serviceName: { description: 'service.name of spans', default: telemetryDefaults.serviceName, parse: string() },
      http: { description: 'serve /healthz, /readyz, /metrics', default: telemetryDefaults.http, parse: boolean() },
      httpHost: { description: 'address of the HTTP endpoints', default: telemetryDefaults.httpHost, parse: string() },
      httpPort: {
        description: 'port of the HTTP endpoints (0: any free port)',
        default: telemetryDefaults.httpPort,
        parse: integer(0, 65_535),
      },
    }),
  },
}

export const parseConfig = object(configShape)
