import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client'
import { lockHolder } from '../embedded/lock-holder.js'
import { dataDirectoryLocked } from '../embedded/locked-error.js'
import { ClickHouseUnreachableError, ConfigError } from '../errors.js'
import {
  type ClickHouseOptions,
  clickHouseEnv,
  defaultEmbeddedDataDir,
  readTlsFile,
  validateClickHouseOptions,
} from './options.js'
import { withQueryScopedSettings } from './scoped-settings.js'

/**
 * The one place that decides which ClickHouse tailhouse talks to. Returns `@clickhouse/client`'s client in both
 * cases: over HTTP(S) for a server, or plugged into embedded ClickHouse (chDB 3.4, ClickHouse 26.7) through
 * chDB's `Connection`. No other code knows which one it has.
 *
 * chDB binds one data directory per process: a second embedded client on another directory in the same process
 * fails, and so does a second process on the same directory. The latter is checked first and reported naming the
 * process that holds it (embedded/locked-error.ts). Processes that need their own engine (crash tests) take turns
 * on the directory; a running engine shares it with the CLI (embedded/query-endpoint.ts).
 *
 * @example
 *   const ch = await createClickHouse({ url: process.env.CLICKHOUSE_URL })
 *   const rows = await (await ch.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json()
 *   await ch.close()
 */
export async function createClickHouse(options: ClickHouseOptions = {}): Promise<ClickHouseClient> {
  validateClickHouseOptions(options)
  const common = {
    database: options.database,
    // The client's own logger would print every failed request with its stack; tailhouse reports failures
    // itself, once, through translateClickHouseError.
    log: { level: ClickHouseLogLevel.OFF },
    clickhouse_settings: {
      // DDL returns only when it has run everywhere it was sent (ON CLUSTER included).
      wait_end_of_query: 1,
    },
  } as const
  if (options.url !== undefined) {
    return createClient({
      ...common,
      url: options.url,
      username: options.username,
      password: options.password,
      request_timeout: options.requestTimeoutMs ?? 300_000,
      // Progress headers keep a long DDL's connection busy, so idle timeouts of proxies do not cut it.
      clickhouse_settings: {
        ...common.clickhouse_settings,
        send_progress_in_http_headers: 1,
        http_headers_progress_interval_ms: '10000',
      },
      tls: options.tls && tlsOptions(options.tls),
    })
  }
  const dataDir = resolve(options.dataDir ?? defaultEmbeddedDataDir)
  try {
    mkdirSync(dataDir, { recursive: true })
  } catch (error) {
    throw new ConfigError(clickHouseEnv.dataDir, `cannot create the embedded ClickHouse data directory ${dataDir}`, {
      cause: error,
    })
  }
  // Checked before chDB opens the directory: chDB would print its own "Cannot lock file" to stderr and fail with
  // a message that names neither the process nor a way out.
  const holder = lockHolder(dataDir)
  if (holder) throw dataDirectoryLocked(dataDir, holder)
  const target = `embedded ClickHouse (chDB) at ${dataDir}`
  // Loaded lazily: the native engine is large and a server user never needs it.
  let chdb: typeof import('chdb/connection')
  try {
    chdb = await import('chdb/connection')
  } catch (error) {
    throw new ClickHouseUnreachableError(
      target,
      `the embedded engine cannot load (${(error as Error).message.split('\n')[0]}); reinstall tailhouse with npm, ` +
        `or set ${clickHouseEnv.url} to use a ClickHouse server`,
      { cause: error, canRetry: false },
    )
  }
  let connection: ClientConnection
  try {
    // chDB types its Connection against @clickhouse/client-common while the client bundles its own copy of the
    // same interface; the shapes match at run time (chDB's contract), only the declarations are two packages.
    // Per-query settings must not stay on chDB's session (scoped-settings.ts).
    connection = withQueryScopedSettings(chdb.createChdbConnection({ path: dataDir })) as unknown as ClientConnection
  } catch (error) {
    const late = lockHolder(dataDir) // another process opened it between the check and here
    if (late) throw dataDirectoryLocked(dataDir, late)
    throw new ClickHouseUnreachableError(target, (error as Error).message, { cause: error, canRetry: false })
  }
  return createClient({ ...common, connection })
}

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>

function tlsOptions(tls: NonNullable<ClickHouseOptions['tls']>) {
  const ca_cert = readTlsFile('clickhouse.tls.caCertPath', tls.caCertPath)
  if (tls.certPath && tls.keyPath) {
    return {
      ca_cert,
      cert: readTlsFile('clickhouse.tls.certPath', tls.certPath),
      key: readTlsFile('clickhouse.tls.keyPath', tls.keyPath),
    }
  }
  return { ca_cert }
}
