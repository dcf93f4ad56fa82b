import { readFileSync } from 'node:fs'
import type { RegistryConfig } from '../config/config.js'
import { registryDefaults } from '../config/config.js'
import { ConfigError } from '../errors.js'

/** Where the schema registry is and how to talk to it: the config file's `registry` with the environment on top. */
export interface RegistryOptions {
  /** Base URL, e.g. `http://127.0.0.1:8081` or Apicurio's `http://host:8080/apis/ccompat/v7`. */
  url: string
  subjectNameStrategy: RegistryConfig['subjectNameStrategy']
  auth?: { username: string; password: string } | undefined
  /** PEM contents (not paths), read once here. */
  tls?: { ca: string; cert?: string | undefined; key?: string | undefined } | undefined
  timeoutMs: number
}

/** The environment variables that override `registry.*`, documented in the README. */
export const registryEnv = {
  url: 'SCHEMA_REGISTRY_URL',
  username: 'SCHEMA_REGISTRY_USERNAME',
  password: 'SCHEMA_REGISTRY_PASSWORD',
  tlsCa: 'SCHEMA_REGISTRY_TLS_CA',
  tlsCert: 'SCHEMA_REGISTRY_TLS_CERT',
  tlsKey: 'SCHEMA_REGISTRY_TLS_KEY',
} as const

/**
 * The registry options, or undefined when no URL is configured (no registry). Throws a {@link ConfigError} naming
 * the option or variable for a bad URL, a user without password, or a TLS file that cannot be read.
 */
export function registryOptions(
  config: RegistryConfig = registryDefaults,
  env: NodeJS.ProcessEnv = process.env,
): RegistryOptions | undefined {
  const get = (name: keyof typeof registryEnv, fallback: string | undefined) => env[registryEnv[name]] || fallback
  const url = get('url', config.url)
  if (!url) return undefined
  const urlKey = env[registryEnv.url] ? registryEnv.url : 'registry.url'
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError(urlKey, `"${url}" is not a URL; expected http(s)://host:port[/path]`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(urlKey, `"${url}" must start with http:// or https://`)
  }
  const username = get('username', config.username)
  const password = get('password', config.password)
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError('registry.username', 'and registry.password (or the SCHEMA_REGISTRY_ variables) go together')
  }
  const caPath = get('tlsCa', config.tlsCa)
  const certPath = get('tlsCert', config.tlsCert)
  const keyPath = get('tlsKey', config.tlsKey)
  if ((certPath === undefined) !== (keyPath === undefined)) {
    throw new ConfigError('registry.tlsCert', 'and registry.tlsKey go together (mutual TLS needs both)')
  }
  const read = (key: string, path: string | undefined) => {
    if (path === undefined) return undefined
    try {
      return readFileSync(path, 'utf8')
    } catch (error) {
      throw new ConfigError(key, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`)
    }
  }
  const ca = read('registry.tlsCa', caPath)
  const cert = read('registry.tlsCert', certPath)
  const key = read('registry.tlsKey', keyPath)
  return {
    url: url.replace(/\/+$/, ''),
    subjectNameStrategy: config.subjectNameStrategy,
    auth: username !== undefined && password !== undefined ? { username, password } : undefined,
    tls: ca !== undefined || cert !== undefined ? { ca: ca ?? '', cert, key } : undefined,
    timeoutMs: config.timeoutMs,
  }
}
