import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import type { SASLOptions } from '@platformatic/kafka'
import type { KafkaConfig } from '../config/config.js'
import { boolean, oneOf } from '../config/fields.js'
import {
  checkSasl,
  checkTls,
  type KafkaSaslConfig,
  type KafkaTlsConfig,
  saslMechanisms,
  tlsDefaults,
} from '../config/kafka-security.js'
import { ConfigError } from '../errors.js'
import { registerSecret } from '../redact.js'
import { brokersFromEnv } from './brokers.js'

/**
 * The options every @platformatic/kafka client (Producer, Admin, Consumer) takes to reach the cluster: spread them
 * first into the client's constructor, then add the client's own. Every connection tailhouse makes is built from
 * these, so SASL and TLS apply to all of them alike.
 */
export interface KafkaClientOptions {
  clientId: string
  bootstrapBrokers: string[]
  /** Credentials are providers (functions): a dump of these options never shows a password or token. */
  sasl?: SASLOptions
  /** Present means TLS. */
  tls?: TlsOptions
}

/** The environment variables that override `kafka.sasl` and `kafka.tls` (KAFKA_BOOTSTRAP: brokers.ts). */
export const kafkaSecurityEnv = {
  saslMechanism: 'KAFKA_SASL_MECHANISM',
  saslUsername: 'KAFKA_SASL_USERNAME',
  saslPassword: 'KAFKA_SASL_PASSWORD',
  saslTokenFile: 'KAFKA_SASL_TOKEN_FILE',
  tls: 'KAFKA_TLS',
  tlsCaFile: 'KAFKA_TLS_CA_FILE',
  tlsCertFile: 'KAFKA_TLS_CERT_FILE',
  tlsKeyFile: 'KAFKA_TLS_KEY_FILE',
  tlsKeyPassword: 'KAFKA_TLS_KEY_PASSWORD',
  tlsVerifyHostname: 'KAFKA_TLS_VERIFY_HOSTNAME',
  tlsServerName: 'KAFKA_TLS_SERVER_NAME',
} as const

/**
 * The client options for `kafka`, with KAFKA_BOOTSTRAP, KAFKA_SASL_* and KAFKA_TLS_* on top. Reads the TLS files
 * now (a ConfigError names the option and the file when one cannot be read), so call it when connecting, not once
 * for the life of the process: renewed certificates are picked up by the next clients.
 *
 * @example
 *   const admin = new Admin({ ...kafkaClientOptions(config.kafka), retries: 0 })
 */
export function kafkaClientOptions(kafka: KafkaConfig, env: NodeJS.ProcessEnv = process.env): KafkaClientOptions {
  const { sasl, tls } = effectiveSecurity(kafka, env)
  return {
    clientId: kafka.clientId,
    bootstrapBrokers: brokersFromEnv(kafka.brokers, env),
    ...(sasl ? { sasl: saslOptions(sasl) } : {}),
    ...(tls ? { tls: tlsOptions(tls) } : {}),
  }
}

/** Who the brokers will see, for messages about missing ACLs: `User:<name>` when it is known from the config. */
export function describePrincipal(options: Pick<KafkaClientOptions, 'sasl' | 'tls'>): string {
  const sasl = options.sasl
  if (sasl?.mechanism === 'OAUTHBEARER') return "the principal of tailhouse's OAUTHBEARER token"
  if (sasl && typeof sasl.username === 'string') return `User:${sasl.username}`
  if (options.tls?.cert) return "the principal of tailhouse's client certificate"
  return 'User:ANONYMOUS'
}

/** `kafka.sasl` and `kafka.tls` with the environment's overrides applied and checked. */
export function effectiveSecurity(
  kafka: Pick<KafkaConfig, 'sasl' | 'tls'>,
  env: NodeJS.ProcessEnv = process.env,
): { sasl: KafkaSaslConfig | undefined; tls: KafkaTlsConfig | undefined } {
  return { sasl: saslFromEnv(kafka.sasl, env), tls: tlsFromEnv(kafka.tls, env) }
}

function saslFromEnv(configured: KafkaSaslConfig | undefined, env: NodeJS.ProcessEnv): KafkaSaslConfig | undefined {
  const e = kafkaSecurityEnv
  const mechanismText = nonEmpty(env[e.saslMechanism])
  const username = nonEmpty(env[e.saslUsername])
  const password = nonEmpty(env[e.saslPassword])
  const tokenFile = nonEmpty(env[e.saslTokenFile])
  const mechanism =
    mechanismText === undefined ? configured?.mechanism : oneOf(...saslMechanisms)(mechanismText, e.saslMechanism)
  if (mechanism === undefined) {
    const stray = [username && e.saslUsername, password && e.saslPassword, tokenFile && e.saslTokenFile].find(Boolean)
    if (stray) throw new ConfigError(e.saslMechanism, `is required when ${stray} is set (or set kafka.sasl.mechanism)`)
    return undefined
  }
  const overridden = mechanismText !== undefined || username || password || tokenFile
  const merged: KafkaSaslConfig = {
    mechanism,
    username: username ?? configured?.username,
    password: password ?? configured?.password,
    token: tokenFile ? undefined : configured?.token,
    tokenFile: tokenFile ?? configured?.tokenFile,
  }
  registerSecret(merged.password)
  registerSecret(merged.token)
  checkSasl(
    merged,
    overridden ? `kafka.sasl with ${e.saslMechanism} and the other KAFKA_SASL_* variables` : 'kafka.sasl',
  )
  return merged
}

function tlsFromEnv(configured: KafkaTlsConfig | undefined, env: NodeJS.ProcessEnv): KafkaTlsConfig | undefined {
  const e = kafkaSecurityEnv
  const flag = (name: string) => {
    const text = nonEmpty(env[name])?.toLowerCase()
    if (text === undefined) return undefined
    if (['1', 'true', 'yes', 'on'].includes(text)) return true
    if (['0', 'false', 'no', 'off'].includes(text)) return false
    return boolean()(text, name) // throws, naming the variable
  }
  const enabled = flag(e.tls)
  const overrides: Partial<KafkaTlsConfig> = {
    caFile: nonEmpty(env[e.tlsCaFile]),
    certFile: nonEmpty(env[e.tlsCertFile]),
    keyFile: nonEmpty(env[e.tlsKeyFile]),
    keyPassword: nonEmpty(env[e.tlsKeyPassword]),
    verifyHostname: flag(e.tlsVerifyHostname),
    serverName: nonEmpty(env[e.tlsServerName]),
  }
  const overridden = Object.values(overrides).some((v) => v !== undefined)
  if (enabled === false) {
    if (overridden) throw new ConfigError(e.tls, 'is false but other KAFKA_TLS_* variables are set')
    return undefined
  }
  if (!configured && !overridden && enabled !== true) return undefined
  const merged: KafkaTlsConfig = { ...tlsDefaults, ...configured }
  for (const [name, value] of Object.entries(overrides)) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[name] = value
  }
  registerSecret(merged.keyPassword)
  checkTls(merged, overridden ? 'kafka.tls with the KAFKA_TLS_* variables' : 'kafka.tls')
  return merged
}

function saslOptions(sasl: KafkaSaslConfig): SASLOptions {
  const { password, token, tokenFile } = sasl
  if (sasl.mechanism === 'OAUTHBEARER') {
    // A token file is read at every authentication: OAuth tokens expire and are refreshed on disk.
    const provide = tokenFile ? () => readSecretFile('kafka.sasl.tokenFile', tokenFile) : () => token as string
    return { mechanism: sasl.mechanism, token: provide }
  }
  return { mechanism: sasl.mechanism, username: sasl.username, password: () => password as string }
}

function tlsOptions(tls: KafkaTlsConfig): TlsOptions {
  const options: TlsOptions = { rejectUnauthorized: true }
  if (tls.caFile) options.ca = readTlsFile('kafka.tls.caFile', tls.caFile)
  if (tls.certFile && tls.keyFile) {
    options.cert = readTlsFile('kafka.tls.certFile', tls.certFile)
    options.key = readTlsFile('kafka.tls.keyFile', tls.keyFile)
    if (tls.keyPassword) options.passphrase = tls.keyPassword
  }
  if (tls.serverName) options.servername = tls.serverName
  // The chain is still verified; only the name check is skipped.
  if (!tls.verifyHostname) options.checkServerIdentity = () => undefined
  return options
}

function readTlsFile(key: string, path: string): Buffer {
  try {
    return readFileSync(resolve(path))
  } catch (error) {
    throw new ConfigError(key, `cannot read ${resolve(path)}: ${(error as NodeJS.ErrnoException).code ?? error}`)
  }
}

function readSecretFile(key: string, path: string): string {
  const value = readTlsFile(key, path).toString('utf8').trim()
  registerSecret(value)
  return value
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
