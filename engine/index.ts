/**
 * The public surface of the tailhouse package. Everything an application may import is listed here; the rest
 * of engine/ is internal.
 */
export {
  type ClickHouseOptions,
  clickHouseOptionsFromEnv,
  createClickHouse,
  describeClickHouse,
  serverVersion,
} from './clickhouse/index.js'
export {
  ClickHouseQueryError,
  ClickHouseUnreachableError,
  ConfigError,
  canRetry,
  type ErrorCode,
  errorCodes,
  StackError,
  TailhouseError,
  UsageError,
} from './errors.js'
export { version } from './version.js'
