import { resolve } from 'node:path'
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client'
import { createClickHouse } from '../clickhouse/client-factory.js'
import { type ClickHouseOptions, defaultEmbeddedDataDir, describeClickHouse } from '../clickhouse/options.js'
import { createEndpointConnection } from './endpoint-connection.js'
import { readEndpointFile } from './endpoint-file.js'
import { lockHolder } from './lock-holder.js'

export interface CliClickHouse {
  client: ClickHouseClient
  /** For messages, e.g. "embedded ClickHouse (chDB) at /x, through the engine running as process 12". */
  target: string
  /** Embedded ClickHouse reached through the process that holds it (a running engine), not opened here. */
  shared?: boolean
}

/**
 * The ClickHouse a CLI command works on. A server when `url` is set. Embedded, it is the data directory's: when a
 * process holds the directory and shares it (a running engine, see query-endpoint.ts), statements go to that
 * process; otherwise the directory is opened here, and a process holding it without sharing is named in the error
 * (client-factory.ts).
 */
export async function connectClickHouse(options: ClickHouseOptions): Promise<CliClickHouse> {
  if (options.url === undefined) {
    const dataDir = resolve(options.dataDir ?? defaultEmbeddedDataDir)
    const shared = await sharedBy(dataDir)
    if (shared) return shared
  }
  return { client: await createClickHouse(options), target: describeClickHouse(options) }
}

async function sharedBy(dataDir: string): Promise<CliClickHouse | undefined> {
  const endpoint = readEndpointFile(dataDir)
  // A file left by a process that died, or whose pid now belongs to another process, describes nothing: only the
  // process holding the directory's lock serves it.
  if (!endpoint || lockHolder(dataDir)?.pid !== endpoint.pid) return undefined
  const client = createClient({
    connection: createEndpointConnection(endpoint),
    log: { level: ClickHouseLogLevel.OFF },
  })
  const ping = await client.ping()
  if (!ping.success) {
    await client.close()
    return undefined // stopping right now: opening the directory here either works or names the holder
  }
  return {
    client,
    target: `embedded ClickHouse (chDB) at ${dataDir}, through ${endpoint.serving} (process ${endpoint.pid})`,
    shared: true,
  }
}
