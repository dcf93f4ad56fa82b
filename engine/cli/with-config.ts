import { dirname } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import { serverError } from '../clickhouse/server-error.js'
import { translateClickHouseError } from '../clickhouse/translate-error.js'
import type { TailhouseConfig } from '../config/config.js'
import { type LoadedConfig, loadConfig } from '../config/load-config.js'
import { clickHouseOptions } from '../config/resolve-clickhouse.js'
import { connectClickHouse } from '../embedded/running-engine.js'

export interface Session {
  loaded: LoadedConfig
  config: TailhouseConfig
  configDir: string
  client: ClickHouseClient
  target: string
  /** Embedded ClickHouse opened by this command: no engine runs on it now. */
  embeddedHere: boolean
}

/**
 * Loads the config, applies a --cluster override, connects to ClickHouse (embedded: through a running engine when
 * one holds the data directory), runs `body`, and always disconnects. ClickHouse errors come out coded (TH_…).
 */
export async function withConfig<T>(
  flags: { config?: string | undefined; cluster?: string | undefined },
  body: (session: Session) => Promise<T>,
): Promise<T> {
  const loaded = loadConfig(flags.config)
  const config: TailhouseConfig = flags.cluster
    ? { ...loaded.config, capture: { ...loaded.config.capture, cluster: flags.cluster } }
    : loaded.config
  const options = clickHouseOptions(config.clickhouse)
  const { client, target, shared } = await connectClickHouse(options)
  const embeddedHere = options.url === undefined && !shared
  try {
    return await body({ loaded, config, configDir: dirname(loaded.path), client, target, embeddedHere })
  } catch (error) {
    // A server error ClickHouse returned to any verb gets its code, like the engine's; other errors pass unchanged.
    throw serverError(error) ? translateClickHouseError(error, target) : error
  } finally {
    await client.close()
  }
}

export const configFlags = {
  config: { type: 'string', short: 'c' },
} as const

export const configHelp = `  -c, --config <file>  config file (default: tailhouse.config.yaml, .yml or .json here)`
