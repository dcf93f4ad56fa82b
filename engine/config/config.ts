import { arrayOf, boolean, integer, object, oneOf, optionalString, type Shape, string } from './fields.js'

/** `db.table`, both parts plain identifiers or backquote-free names. */
const tableName = { pattern: /^[^.`\s]+\.[^.`\s]+$/, hint: 'expected db.table' }
const identifier = {
  pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
  hint: 'letters, digits and _ only, not starting with a digit',
}

export interface SourceConfig {
  /** The source table, `db.table`. */
  table: string
  /** Columns not to capture (e.g. secrets, or a column about to be dropped). */
  exclude: string[]
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

export interface TailhouseConfig {
  clickhouse: ClickHouseConfig
  capture: CaptureConfig
  protobuf: ProtobufConfig
}

const sourceShape: Shape<SourceConfig> = {
  table: { description: 'the source table, db.table', parse: string(tableName) },
  exclude: { description: 'columns not to capture', default: [], parse: arrayOf(string()) },
}

export const configShape: Shape<TailhouseConfig> = {
  clickhouse: {
    description: 'where ClickHouse is; the CLICKHOUSE_* environment variables override these',
    default: { url: undefined, username: undefined, password: undefined, database: undefined, dataDir: undefined },
    parse: object<ClickHouseConfig>({
      url: { description: 'server URL; unset: embedded ClickHouse', default: undefined, parse: optionalString() },
      username: { description: 'user name', default: undefined, parse: optionalString() },
      password: { description: 'password', default: undefined, parse: optionalString() },
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
}

export const parseConfig = object(configShape)
