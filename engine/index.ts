/**
 * The public surface of the tailhouse package. Everything an application may import is listed here; the rest
 * of engine/ is internal.
 */

export type { CaptureOutcome } from './capture/capture-sources.js'
export { captureStatus, type SourceStatus } from './capture/status.js'
export { uncapture } from './capture/uncapture.js'
export {
  type ClickHouseOptions,
  clickHouseOptionsFromEnv,
  createClickHouse,
  describeClickHouse,
  serverVersion,
} from './clickhouse/index.js'
export type { TailhouseConfig } from './config/config.js'
export { loadConfig } from './config/load-config.js'
export {
  type SharedEmbedded,
  type SharedEmbeddedOptions,
  serveEmbeddedClickHouse,
} from './embedded/query-endpoint.js'
export type { EngineExit, EngineStatus } from './engine.js'
export {
  CaptureError,
  ClickHouseQueryError,
  ClickHouseUnreachableError,
  ConfigError,
  canRetry,
  DataDirectoryLockedError,
  type ErrorCode,
  errorCodes,
  MigrationError,
  StackError,
  TailhouseError,
  TraceLookupError,
  UnsupportedTypeError,
  UsageError,
} from './errors.js'
export type { Logger, LogLevel } from './log.js'
export { type MigrateOptions, type MigrateResult, migrate } from './migrate.js'
export { type EngineHandle, type StartEngineOptions, startEngine } from './start-engine.js'
export { version } from './version.js'
