import { clickHouseEnv, clickHouseOptionsFromEnv, serverVersion } from '../clickhouse/index.js'
import { connectClickHouse } from '../embedded/running-engine.js'
import { UsageError } from '../errors.js'
import type { Command } from './command.js'

/** Connects to the configured ClickHouse and says what it found. */
export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check that ClickHouse is reachable and print its version',
  help: `Usage: tailhouse doctor

Connects to ClickHouse and prints which one it is and its version.
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
    const { client, target } = await connectClickHouse(clickHouseOptionsFromEnv())
    try {
      const version = await serverVersion(client, target)
      process.stdout.write(`${target}: ClickHouse ${version}\n`)
      return 0
    } finally {
      await client.close()
    }
  },
}
