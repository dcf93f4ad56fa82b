import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ConfigError } from '../errors.js'

/**
 * Where tailhouse finds ClickHouse. With `url` set it talks HTTP(S) to a server; without it, it runs ClickHouse
 * embedded in this process (chDB) on `dataDir`. Either way callers get the same `ClickHouseClient`.
 */
export interface ClickHouseOptions {
  /** Server URL, e.g. `http://127.0.0.1:8123` or `https://ch.example.com:8443`. Unset: embedded ClickHouse. */
  url?: string | undefined
  username?: string | undefined
  password?: string | undefined
  /** Default database for unqualified names. */
  database?: string | undefined
  /** TLS material for an `https://` URL: a CA bundle, and optionally a client certificate and key (mutual TLS). */
  tls?: { caCertPath: string; certPath?: string | undefined; keyPath?: string | undefined } | undefined
  /** Data directory of the embedded engine. Default `./.tailhouse/clickhouse`. Ignored with `url`. */
  dataDir?: string | undefined
  /** Per-request timeout for a server, in ms. Default 300000 (long DDL on a cluster can be slow). */
  requestTimeoutMs?: number | undefined
}

export const defaultEmbeddedDataDir = '.tailhouse/clickhouse'

/** The environment variables read by {@link clickHouseOptionsFromEnv}, documented in the README. */
export const clickHouseEnv = {
  url: 'CLICKHOUSE_URL',
  username: 'CLICKHOUSE_USER',
  password: 'CLICKHOUSE_PASSWORD',
  database: 'CLICKHOUSE_DATABASE',
  caCert: 'CLICKHOUSE_TLS_CA',
  cert: 'CLICKHOUSE_TLS_CERT',
  key: 'CLICKHOUSE_TLS_KEY',
  dataDir: 'TAILHOUSE_CLICKHOUSE_DATA_DIR',
} as const

export function clickHouseOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ClickHouseOptions {
  const e = clickHouseEnv
  const caCertPath = nonEmpty(env[e.caCert])
  const certPath = nonEmpty(env[e.cert])
  const keyPath = nonEmpty(env[e.key])
  if ((certPath || keyPath) && !caCertPath) {
    throw new ConfigError(e.caCert, `is required when ${e.cert} or ${e.key} is set (mutual TLS needs the CA too)`)
  }
  return {
    url: nonEmpty(env[e.url]),
    username: nonEmpty(env[e.username]),
    password: env[e.password],
    database: nonEmpty(env[e.database]),
    tls: caCertPath ? { caCertPath, certPath, keyPath } : undefined,
    dataDir: nonEmpty(env[e.dataDir]),
  }
}

/** Checks the options without connecting; throws a {@link ConfigError} naming the bad option. */
export function validateClickHouseOptions(options: ClickHouseOptions): void {
  if (options.url !== undefined) {
    let parsed: URL
    try {
      parsed = new URL(options.url)
    } catch {
      throw new ConfigError('clickhouse.url', `"${options.url}" is not a URL; expected e.g. http://127.0.0.1:8123`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ConfigError('clickhouse.url', `must use http:// or https://, got ${parsed.protocol}//`)
    }
    if (options.tls && parsed.protocol !== 'https:') {
      throw new ConfigError('clickhouse.tls', 'TLS files are set but the URL is not https://')
    }
  }
  const tls = options.tls
  if (tls && Boolean(tls.certPath) !== Boolean(tls.keyPath)) {
    throw new ConfigError('clickhouse.tls', 'mutual TLS needs both a client certificate and its key')
  }
  if (options.requestTimeoutMs !== undefined && !(options.requestTimeoutMs > 0)) {
    throw new ConfigError(
      'clickhouse.requestTimeoutMs',
      `must be a positive number of ms, got ${options.requestTimeoutMs}`,
    )
  }
}

/** Reads a TLS file, naming the option when it cannot. */
export function readTlsFile(key: string, path: string): Buffer {
  try {
    return readFileSync(resolve(path))
  } catch (error) {
    throw new ConfigError(key, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
      cause: error,
    })
  }
}

/** A one-line description for logs; never contains the password. */
export function describeClickHouse(options: ClickHouseOptions): string {
  if (options.url === undefined)
    return `embedded ClickHouse (chDB) at ${resolve(options.dataDir ?? defaultEmbeddedDataDir)}`
  const url = new URL(options.url)
  url.username = ''
  url.password = ''
  return `ClickHouse server ${url.toString().replace(/\/$/, '')}${options.username ? ` as ${options.username}` : ''}`
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
