import { type ClickHouseOptions, clickHouseOptionsFromEnv } from '../clickhouse/options.js'
import { registerSecret } from '../redact.js'
import type { ClickHouseConfig } from './config.js'

/** The config file's ClickHouse settings with the CLICKHOUSE_* environment variables on top. */
export function clickHouseOptions(config: ClickHouseConfig, env: NodeJS.ProcessEnv = process.env): ClickHouseOptions {
  const fromEnv = clickHouseOptionsFromEnv(env)
  const pick = <T>(a: T | undefined, b: T | undefined) => (a !== undefined ? a : b)
  registerSecret(fromEnv.password)
  return {
    url: pick(fromEnv.url, config.url),
    username: pick(fromEnv.username, config.username),
    password: pick(fromEnv.password, config.password),
    database: pick(fromEnv.database, config.database),
    dataDir: pick(fromEnv.dataDir, config.dataDir),
    tls: fromEnv.tls,
  }
}
