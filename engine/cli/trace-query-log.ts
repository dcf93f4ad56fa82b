import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { defaultEmbeddedDataDir } from '../clickhouse/options.js'
import type { TailhouseConfig } from '../config/config.js'
import { connectClickHouse } from '../embedded/running-engine.js'
import { queryLogRows } from '../trace/query-log.js'
import { clickHouseOptionsOf } from './optional-config.js'

/** What system.query_log says about the INSERTs, or why it cannot say; never fails the command. */
export async function describeQueryLog(config: TailhouseConfig | undefined, queryIds: string[]): Promise<string> {
  const options = clickHouseOptionsOf(config)
  if (options.url === undefined) {
    const dataDir = resolve(options.dataDir ?? defaultEmbeddedDataDir)
    if (!existsSync(dataDir)) {
      return `system.query_log: not looked up: no embedded ClickHouse data directory at ${dataDir} (set CLICKHOUSE_URL, or TAILHOUSE_CLICKHOUSE_DATA_DIR, or pass --config)`
    }
  }
  let session: Awaited<ReturnType<typeof connectClickHouse>>
  try {
    session = await connectClickHouse(options)
  } catch (error) {
    return `system.query_log: not looked up: ${(error as Error).message}`
  }
  try {
    const answer = await queryLogRows(session.client, session.target, queryIds, config?.capture.cluster)
    if (answer.kind === 'no-query-log') return `system.query_log: none here: ${answer.reason}`
    if (answer.kind === 'none-yet')
      return `system.query_log on ${session.target}: no finished INSERT with these ids (yet: the server flushes its log every few seconds)`
    return `system.query_log on ${session.target}:\n${answer.table.trimEnd()}`
  } catch (error) {
    return `system.query_log: not looked up: ${(error as Error).message}`
  } finally {
    await session.client.close()
  }
}
