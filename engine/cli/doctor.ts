import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { sourceDeduplication } from '../capture/deduplication.js'
import { unsafeSettings } from '../capture/server-checks.js'
import { clickHouseEnv, clickHouseOptionsFromEnv, serverVersion } from '../clickhouse/index.js'
import { configFileNames, loadConfig } from '../config/load-config.js'
import { clickHouseOptions } from '../config/resolve-clickhouse.js'
import { connectClickHouse } from '../embedded/running-engine.js'
import { UsageError } from '../errors.js'
import type { Command } from './command.js'

/** Connects to the configured ClickHouse and says what it found. */
export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check that ClickHouse is reachable and print its version',
  help: `Usage: tailhouse doctor

Connects to ClickHouse and prints which one it is and its version. With a tailhouse.config.yaml here, also checks
what capture depends on: the server settings of INSERTs, and whether each source deduplicates retried INSERTs
(exit 3 when something is unsafe).
Without ${clickHouseEnv.url}, uses embedded ClickHouse (chDB) in ${clickHouseEnv.dataDir} (default ./.tailhouse/clickhouse),
through the engine when one runs on that directory.

Environment:
  ${clickHouseEnv.url}        server URL, e.g. http://127.0.0.1:8123 (unset: embedded)
  ${clickHouseEnv.username}       user name
  ${clickHouseEnv.password}   password
  ${clickHouseEnv.database}   default database
  ${clickHouseEnv.caCert}     CA bundle for https (with ${clickHouseEnv.cert} and ${clickHouseEnv.key} for mutual TLS)
  ${clickHouseEnv.dataDir}  data directory of embedded ClickHouse`,
  async run(args) {
    if (args.length > 0) throw new UsageError(`doctor takes no arguments, got: ${args.join(' ')}`)
    const found = configFileNames.map((name) => resolve(name)).find(existsSync)
    const config = found ? loadConfig(found).config : undefined
    const options = config ? clickHouseOptions(config.clickhouse) : clickHouseOptionsFromEnv()
    const { client, target } = await connectClickHouse(options)
    try {
      const version = await serverVersion(client, target)
      process.stdout.write(`${target}: ClickHouse ${version}\n`)
      if (!config) return 0
      let problems = 0
      for (const warning of await unsafeSettings(client)) {
        problems += 1
        process.stdout.write(`unsafe: ${warning}\n`)
      }
      const sources = config.capture.sources.map((s) => s.table)
      for (const d of await sourceDeduplication(client, sources, config.capture.dedupWindow)) {
        if (!d.deduplicates) problems += 1
        process.stdout.write(
          d.deduplicates
            ? `${d.source}: deduplicates retried INSERTs (${d.detail})\n`
            : `${d.source}: does not deduplicate retried INSERTs (${d.detail}): ${d.fix ?? ''}\n`,
        )
      }
      return problems === 0 ? 0 : 3
    } finally {
      await client.close()
    }
  },
}
