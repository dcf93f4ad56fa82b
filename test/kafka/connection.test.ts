import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { type KafkaConfig, kafkaDefaults } from '../../engine/config/config.js'
import { tlsDefaults } from '../../engine/config/kafka-security.js'
import { ConfigError } from '../../engine/errors.js'
import { describePrincipal, kafkaClientOptions } from '../../engine/kafka/connection.js'
import { forgetSecrets, redact } from '../../engine/redact.js'

const dir = mkdtempSync(join(tmpdir(), 'tailhouse-tls-'))
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text)
  return join(dir, name)
}
const ca = file('ca.pem', 'CA PEM')
const cert = file('client.pem', 'CERT PEM')
const key = file('client.key', 'KEY PEM')
const token = file('token', 'token-from-file-1\n')

const kafka = (overrides: Partial<KafkaConfig> = {}): KafkaConfig => ({ ...kafkaDefaults, ...overrides })

function failure(config: KafkaConfig, env: NodeJS.ProcessEnv): ConfigError {
  try {
    kafkaClientOptions(config, env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

afterEach(() => forgetSecrets())

/** The password the client would send: the options hold a provider, never the string. */
function passwordOf(options: ReturnType<typeof kafkaClientOptions>): unknown {
  const password = options.sasl?.password
  return typeof password === 'function' ? password() : password
}

describe('kafkaClientOptions: what every Kafka client connects with', () => {
  it('is brokers and client id only without SASL and TLS', () => {
    expect(kafkaClientOptions(kafka({ brokers: ['k:9092'] }), {})).toEqual({
      clientId: 'tailhouse',
      bootstrapBrokers: ['k:9092'],
    })
  })

  it('gives SASL credentials as providers, so a dump of the options shows no password', async () => {
    const options = kafkaClientOptions(
      kafka({
        sasl: {
          mechanism: 'SCRAM-SHA-256',
          username: 'tailhouse',
          password: 'scram-password-1',
          token: undefined,
          tokenFile: undefined,
        },
      }),
      {},
    )
    expect(options.sasl).toMatchObject({ mechanism: 'SCRAM-SHA-256', username: 'tailhouse' })
    expect(typeof options.sasl?.password).toBe('function')
    expect(await passwordOf(options)).toBe('scram-password-1')
    expect(inspect(options, { depth: 10 })).not.toContain('scram-password-1')
    expect(redact('scram-password-1')).toBe('[redacted]')
  })

  it('reads an OAUTHBEARER token file at every authentication', async () => {
    const options = kafkaClientOptions(
      kafka({
        sasl: {
          mechanism: 'OAUTHBEARER',
          username: undefined,
          password: undefined,
          token: undefined,
          tokenFile: token,
        },
      }),
      {},
    )
    const provide = options.sasl?.token as () => string
    expect(provide()).toBe('token-from-file-1')
    writeFileSync(token, 'token-from-file-2\n')
    expect(provide()).toBe('token-from-file-2')
    expect(redact('Bearer token-from-file-2')).toBe('Bearer [redacted]')
  })

  it('reads the CA bundle and the client certificate, and verifies host names unless told not to', () => {
    const tls = { ...tlsDefaults, caFile: ca, certFile: cert, keyFile: key, keyPassword: 'key-pass-1' }
    const options = kafkaClientOptions(kafka({ tls }), {})
    expect(options.tls).toEqual({
      rejectUnauthorized: true,
      ca: Buffer.from('CA PEM'),
      cert: Buffer.from('CERT PEM'),
      key: Buffer.from('KEY PEM'),
      passphrase: 'key-pass-1',
    })
    const unchecked = kafkaClientOptions(
      kafka({ tls: { ...tls, verifyHostname: false, serverName: 'kafka.internal' } }),
      {},
    )
    expect(unchecked.tls?.checkServerIdentity?.('other', {} as never)).toBeUndefined()
    expect(unchecked.tls).toMatchObject({ servername: 'kafka.internal', rejectUnauthorized: true })
  })

  it('takes KAFKA_SASL_* and KAFKA_TLS_* over the config file', async () => {
    const options = kafkaClientOptions(kafka({ brokers: ['file:9092'] }), {
      KAFKA_BOOTSTRAP: 'env:9093',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'env-user',
      KAFKA_SASL_PASSWORD: 'env-password-1',
      KAFKA_TLS_CA_FILE: ca,
      KAFKA_TLS_VERIFY_HOSTNAME: 'false',
    })
    expect(options.bootstrapBrokers).toEqual(['env:9093'])
    expect(options.sasl).toMatchObject({ mechanism: 'SCRAM-SHA-512', username: 'env-user' })
    expect(await passwordOf(options)).toBe('env-password-1')
    expect(options.tls?.ca).toEqual(Buffer.from('CA PEM'))
    expect(options.tls?.checkServerIdentity).toBeTypeOf('function')
    expect(redact('env-password-1')).toBe('[redacted]')
  })

  it('overrides a single field and keeps the rest of the config file', async () => {
    const sasl = {
      mechanism: 'PLAIN' as const,
      username: 'u',
      password: 'file-pw-1',
      token: undefined,
      tokenFile: undefined,
    }
    const options = kafkaClientOptions(kafka({ sasl }), { KAFKA_SASL_PASSWORD: 'env-pw-1' })
    expect(options.sasl).toMatchObject({ mechanism: 'PLAIN', username: 'u' })
    expect(await passwordOf(options)).toBe('env-pw-1')
    expect(kafkaClientOptions(kafka(), { KAFKA_TLS: 'true' }).tls).toEqual({ rejectUnauthorized: true })
    expect(kafkaClientOptions(kafka({ tls: tlsDefaults }), { KAFKA_TLS: '0' }).tls).toBeUndefined()
  })

  it.each([
    [{}, { KAFKA_SASL_USERNAME: 'u' }, 'KAFKA_SASL_MECHANISM', /is required when KAFKA_SASL_USERNAME is set/],
    [{}, { KAFKA_SASL_MECHANISM: 'GSSAPI' }, 'KAFKA_SASL_MECHANISM', /one of PLAIN, SCRAM-SHA-256/],
    [
      {},
      { KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'u' },
      /^kafka\.sasl with KAFKA_SASL_MECHANISM/,
      /PLAIN needs both/,
    ],
    [{}, { KAFKA_TLS: 'maybe' }, 'KAFKA_TLS', /true or false/],
    [
      {},
      { KAFKA_TLS: 'false', KAFKA_TLS_CA_FILE: ca },
      'KAFKA_TLS',
      /is false but other KAFKA_TLS_\* variables are set/,
    ],
    [
      {},
      { KAFKA_TLS_CERT_FILE: cert },
      /^kafka\.tls with the KAFKA_TLS_\* variables$/,
      /needs both certFile and keyFile/,
    ],
    [{}, { KAFKA_TLS_CA_FILE: join(dir, 'nope.pem') }, 'kafka.tls.caFile', /cannot read .*nope\.pem: ENOENT/],
    [{}, { KAFKA_BOOTSTRAP: 'no-port' }, 'KAFKA_BOOTSTRAP', /is not host:port/],
  ] as const)('names the variable or key that is wrong (%#)', (config, env, key, message) => {
    const error = failure(kafka(config), env)
    if (typeof key === 'string') expect(error.key).toBe(key)
    else expect(error.key).toMatch(key)
    expect(error.message).toMatch(message)
  })

  it('describes the principal the brokers will see', () => {
    expect(describePrincipal({ sasl: { mechanism: 'SCRAM-SHA-512', username: 'tailhouse' } })).toBe('User:tailhouse')
    expect(describePrincipal({ sasl: { mechanism: 'OAUTHBEARER' } })).toMatch(/OAUTHBEARER token/)
    expect(describePrincipal({ tls: { cert: 'x' } })).toMatch(/client certificate/)
    expect(describePrincipal({})).toBe('User:ANONYMOUS')
  })
})
