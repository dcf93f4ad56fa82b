import { ConfigError } from '../errors.js'
import { boolean, object, oneOf, optional, optionalString, type Shape, secret } from './fields.js'

export const saslMechanisms = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const
export type SaslMechanism = (typeof saslMechanisms)[number]

/** `kafka.sasl`: how tailhouse authenticates to the brokers. Unset: no SASL (plaintext, or TLS alone). */
export interface KafkaSaslConfig {
  mechanism: SaslMechanism
  /** PLAIN and SCRAM-SHA-*: the user, and its password (better from `${env:…}` or `${file:…}`). */
  username: string | undefined
  password: string | undefined
  /** OAUTHBEARER: a bearer token… */
  token: string | undefined
  /** …or a file holding one, read again at every authentication, so a token refreshed on disk is picked up. */
  tokenFile: string | undefined
}

/** `kafka.tls`: TLS to the brokers. Unset: plaintext. */
export interface KafkaTlsConfig {
  /** PEM bundle of the CAs to trust; unset: Node.js's built-in CAs. */
  caFile: string | undefined
  /** Client certificate and its key (PEM), for mutual TLS; both or neither. */
  certFile: string | undefined
  keyFile: string | undefined
  /** Passphrase of an encrypted key. */
  keyPassword: string | undefined
  /** Check that the broker's certificate names the host connected to. Turn off only to diagnose. */
  verifyHostname: boolean
  /** The name to expect in the broker's certificate (and to send as SNI) instead of the connected host. */
  serverName: string | undefined
}

export const tlsDefaults: KafkaTlsConfig = {
  caFile: undefined,
  certFile: undefined,
  keyFile: undefined,
  keyPassword: undefined,
  verifyHostname: true,
  serverName: undefined,
}

const saslShape: Shape<KafkaSaslConfig> = {
  mechanism: { description: 'SASL mechanism', parse: oneOf(...saslMechanisms) },
  username: { description: 'user (PLAIN, SCRAM)', default: undefined, parse: optionalString() },
  password: { description: 'password (PLAIN, SCRAM)', default: undefined, parse: optional(secret()) },
  token: { description: 'bearer token (OAUTHBEARER)', default: undefined, parse: optional(secret()) },
  tokenFile: {
    description: 'file holding the bearer token (OAUTHBEARER)',
    default: undefined,
    parse: optionalString(),
  },
}

const tlsShape: Shape<KafkaTlsConfig> = {
  caFile: { description: 'CA bundle (PEM)', default: undefined, parse: optionalString() },
  certFile: { description: 'client certificate (PEM), mutual TLS', default: undefined, parse: optionalString() },
  keyFile: { description: 'client key (PEM), mutual TLS', default: undefined, parse: optionalString() },
  keyPassword: { description: 'passphrase of the client key', default: undefined, parse: optional(secret()) },
  verifyHostname: { description: 'verify the broker certificate names its host', default: true, parse: boolean() },
  serverName: { description: 'host name expected in the certificate', default: undefined, parse: optionalString() },
}

/** `kafka.sasl`, checked as a whole: each mechanism has the credentials it needs and no others. */
export function parseSasl(value: unknown, key: string): KafkaSaslConfig | undefined {
  const sasl = optional(object(saslShape))(value, key)
  if (sasl) checkSasl(sasl, key)
  return sasl
}

/** `kafka.tls`: a section, or `true` for TLS with the defaults, or `false` (or absent) for none. */
export function parseTls(value: unknown, key: string): KafkaTlsConfig | undefined {
  if (value === false) return undefined
  const tls = optional(object(tlsShape))(value === true ? {} : value, key)
  if (tls) checkTls(tls, key)
  return tls
}

/**
 * Throws a ConfigError naming `key` when the mechanism lacks a credential or has one of another mechanism. The
 * environment overrides (engine/kafka/connection.ts) check their merge with the same function.
 */
export function checkSasl(sasl: KafkaSaslConfig, key: string): void {
  if (sasl.mechanism === 'OAUTHBEARER') {
    if ((sasl.token === undefined) === (sasl.tokenFile === undefined))
      throw new ConfigError(key, 'OAUTHBEARER needs exactly one of token and tokenFile')
    if (sasl.username !== undefined || sasl.password !== undefined)
      throw new ConfigError(key, 'OAUTHBEARER takes a token, not username and password')
    return
  }
  if (sasl.username === undefined || sasl.password === undefined)
    throw new ConfigError(key, `${sasl.mechanism} needs both username and password`)
  if (sasl.token !== undefined || sasl.tokenFile !== undefined)
    throw new ConfigError(key, `${sasl.mechanism} takes username and password, not a token`)
}

export function checkTls(tls: KafkaTlsConfig, key: string): void {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined))
    throw new ConfigError(key, 'mutual TLS needs both certFile and keyFile')
  if (tls.keyPassword !== undefined && tls.keyFile === undefined)
    throw new ConfigError(key, 'keyPassword is set but there is no keyFile')
}
