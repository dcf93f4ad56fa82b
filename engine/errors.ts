/**
 * Every error tailhouse raises on purpose is a {@link TailhouseError}: it carries a stable `code`, says whether
 * retrying can help (`canRetry`), and keeps the underlying `cause`. The fields are enumerable so that structured
 * logs show them. Retry loops ask the error, never parse its message.
 */
export const errorCodes = [
  'TH_CONFIG', // a configuration value is missing or invalid
  'TH_USAGE', // the command line is wrong
  'TH_CLICKHOUSE_UNREACHABLE', // the ClickHouse server (or the embedded engine) cannot be reached or opened
  'TH_CLICKHOUSE_QUERY', // ClickHouse answered with an error
  'TH_CLICKHOUSE_LOCKED', // embedded ClickHouse's data directory is held by another process
  'TH_STACK', // a local stack service failed to install, start or become healthy
  'TH_UNSUPPORTED_TYPE', // a source column's ClickHouse type has no mapping
  'TH_CAPTURE', // a source cannot be captured (wrong engine, unsafe server settings, missing objects)
  'TH_MIGRATION', // an engine migration failed or an applied migration file was changed
  'TH_KAFKA', // Kafka refused a request in a way the engine cannot retry past (permissions, sizes, configuration)
  'TH_OFFSETS', // the SQLite offsets file cannot be opened, read or written, or belongs to other changelogs
  'TH_KAFKA_AUTH', // Kafka refused the credentials, or TLS to it failed (untrusted or wrong-host certificate)
  'TH_KAFKA_ACCESS', // Kafka denied an operation: an ACL is missing
  'TH_TRACE', // a trace cannot be found: no traceparent, the trace store cannot be reached or lacks it
  'TH_REGISTRY', // the schema registry is unreachable, refused a request, or refused a schema as incompatible
] as const

export type ErrorCode = (typeof errorCodes)[number]

export interface TailhouseErrorOptions {
  cause?: unknown
  canRetry?: boolean
}

export class TailhouseError extends Error {
  readonly code: ErrorCode
  readonly canRetry: boolean

  constructor(code: ErrorCode, message: string, options: TailhouseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.canRetry = options.canRetry ?? false
    // Own enumerable fields, so JSON logs and util.inspect show them.
    Object.defineProperty(this, 'code', { enumerable: true })
    Object.defineProperty(this, 'canRetry', { enumerable: true })
  }
}

export class ConfigError extends TailhouseError {
  /** The config key (dotted path) or environment variable that is wrong. */
  readonly key: string

  constructor(key: string, message: string, options: TailhouseErrorOptions = {}) {
    super('TH_CONFIG', `${key}: ${message}`, options)
    this.key = key
  }
}

export class UsageError extends TailhouseError {
  constructor(message: string) {
    super('TH_USAGE', message)
  }
}

export class ClickHouseUnreachableError extends TailhouseError {
  /** `target` describes the ClickHouse tried (see describeClickHouse); `reason` what failed, e.g. ECONNREFUSED. */
  constructor(target: string, reason: string, options: TailhouseErrorOptions = {}) {
    super('TH_CLICKHOUSE_UNREACHABLE', `cannot reach ${target}: ${reason}`, { canRetry: true, ...options })
  }
}

export class ClickHouseQueryError extends TailhouseError {
  /** ClickHouse's numeric error code and its name, e.g. 60 / UNKNOWN_TABLE, when the server gave them. */
  readonly serverCode: string | undefined
  readonly serverType: string | undefined

  constructor(message: string, serverCode?: string, serverType?: string, options: TailhouseErrorOptions = {}) {
    super('TH_CLICKHOUSE_QUERY', message, options)
    this.serverCode = serverCode
    this.serverType = serverType
  }
}

export class DataDirectoryLockedError extends TailhouseError {
  /** The embedded ClickHouse data directory, absolute. */
  readonly dataDir: string
  /** The process holding it, when known. */
  readonly holderPid: number | undefined

  constructor(dataDir: string, holderPid: number | undefined, message: string, options: TailhouseErrorOptions = {}) {
    super('TH_CLICKHOUSE_LOCKED', message, options)
    this.dataDir = dataDir
    this.holderPid = holderPid
  }
}

export class StackError extends TailhouseError {
  /** The local stack service at fault: kafka, jaeger, … */
  readonly service: string

  constructor(service: string, message: string, options: TailhouseErrorOptions = {}) {
    super('TH_STACK', `${service}: ${message}`, options)
    this.service = service
  }
}

export class UnsupportedTypeError extends TailhouseError {
  readonly table: string
  readonly column: string
  readonly typeName: string

  constructor(table: string, column: string, typeName: string, reason: string) {
    super('TH_UNSUPPORTED_TYPE', `${table}.${column}: type ${typeName} cannot be captured: ${reason}`)
    this.table = table
    this.column = column
    this.typeName = typeName
  }
}

export class CaptureError extends TailhouseError {
  /** The source table, `db.table`, or '' for server-wide problems. */
  readonly source: string

  constructor(source: string, message: string, options: TailhouseErrorOptions = {}) {
    super('TH_CAPTURE', source ? `${source}: ${message}` : message, options)
    this.source = source
  }
}

export class MigrationError extends TailhouseError {
  /** The migration file, e.g. 0001_changelog.sql. */
  readonly migration: string

  constructor(migration: string, message: string, options: TailhouseErrorOptions = {}) {
    super('TH_MIGRATION', `${migration}: ${message}`, options)
    this.migration = migration
  }
}

export class KafkaError extends TailhouseError {
  constructor(message: string, options: TailhouseErrorOptions = {}) {
    super('TH_KAFKA', message, options)
  }
}

export class OffsetsError extends TailhouseError {
  /** The SQLite offsets file. */
  readonly path: string

  constructor(path: string, message: string, options: TailhouseErrorOptions = {}) {
    super('TH_OFFSETS', `offsets file ${path}: ${message}`, options)
    this.path = path
  }
}

export class KafkaAuthenticationError extends TailhouseError {
  /** The broker, host:port, when known. */
  readonly broker: string | undefined

  constructor(message: string, broker?: string, options: TailhouseErrorOptions = {}) {
    super('TH_KAFKA_AUTH', message, options)
    this.broker = broker
  }
}

export class KafkaAuthorizationError extends TailhouseError {
  /** The ACL that is missing: operation (WRITE, READ, CREATE, …) on a resource type and name. */
  readonly operation: string
  readonly resourceType: string
  readonly resource: string
  readonly principal: string

  constructor(
    acl: { operation: string; resourceType: string; resource: string; principal: string },
    message: string,
    options: TailhouseErrorOptions = {},
  ) {
    super('TH_KAFKA_ACCESS', message, options)
    this.operation = acl.operation
    this.resourceType = acl.resourceType
    this.resource = acl.resource
    this.principal = acl.principal
  }
}

export class TraceLookupError extends TailhouseError {
  constructor(message: string, options: TailhouseErrorOptions = {}) {
    super('TH_TRACE', message, options)
  }
}

export class RegistryError extends TailhouseError {
  /** The registry subject concerned, or '' for requests about no subject. */
  readonly subject: string
  /** The registry's HTTP status and Confluent error code, when it answered. */
  readonly status: number | undefined
  readonly registryCode: number | undefined
  /** The registry's own message, when it gave one. */
  readonly detail: string | undefined

  constructor(
    subject: string,
    message: string,
    options: TailhouseErrorOptions & { status?: number; registryCode?: number; detail?: string } = {},
  ) {
    super(
      'TH_REGISTRY',
      subject ? `schema registry, subject ${subject}: ${message}` : `schema registry: ${message}`,
      options,
    )
    this.subject = subject
    this.status = options.status
    this.registryCode = options.registryCode
    this.detail = options.detail
  }
}

/** True when `error` is ours and says a retry can help. Foreign errors are not retried blindly. */
export function canRetry(error: unknown): boolean {
  return error instanceof TailhouseError && error.canRetry
}
