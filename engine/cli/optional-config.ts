import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { ClickHouseOptions } from '../clickhouse/options.js'
import type { TailhouseConfig } from '../config/config.js'
import { configFileNames, type LoadedConfig, loadConfig } from '../config/load-config.js'
import { clickHouseOptions } from '../config/resolve-clickhouse.js'

/**
 * The config file for commands that can do without one (sql, trace): the one named by --config, else one in the
 * working directory, else none (the environment variables alone then say where ClickHouse is).
 */
export function optionalConfig(explicitPath: string | undefined): LoadedConfig | undefined {
  if (explicitPath) return loadConfig(explicitPath)
  return configFileNames.some((name) => existsSync(resolve(name))) ? loadConfig() : undefined
}

/** ClickHouse options from an optional config, with the CLICKHOUSE_* variables on top. */
export function clickHouseOptionsOf(config: TailhouseConfig | undefined): ClickHouseOptions {
  return clickHouseOptions(
    config?.clickhouse ?? {
      url: undefined,
      username: undefined,
      password: undefined,
      database: undefined,
      dataDir: undefined,
    },
  )
}
