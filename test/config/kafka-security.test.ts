import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../engine/config/load-config.js'
import { ConfigError } from '../../engine/errors.js'
import { forgetSecrets, redact } from '../../engine/redact.js'

const capture = 'capture:\n  sources:\n    - table: shop.orders\n'

function load(kafka: string, env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tailhouse-config-'))
  writeFileSync(join(dir, 'tailhouse.config.yaml'), `${capture}kafka:\n${kafka}`)
  writeFileSync(join(dir, 'password.txt'), 'password-from-a-file\n')
  return loadConfig(undefined, dir, env).config.kafka
}

function failure(kafka: string): ConfigError {
  try {
    load(kafka)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

afterEach(() => forgetSecrets())

describe('kafka.sasl and kafka.tls in the config file', () => {
  it('are off by default', () => {
    const kafka = load('  brokers: [127.0.0.1:9092]\n')
    expect(kafka.sasl).toBeUndefined()
    expect(kafka.tls).toBeUndefined()
  })

  it('read SCRAM credentials, the password from the environment or a file', () => {
    const sasl = '  sasl:\n    mechanism: SCRAM-SHA-512\n    username: tailhouse\n'
    expect(load(`${sasl}    password: \${env:TH_KAFKA_PW}\n`, { TH_KAFKA_PW: 'password-from-env' }).sasl).toEqual({
      mechanism: 'SCRAM-SHA-512',
      username: 'tailhouse',
      password: 'password-from-env',
      token: undefined,
      tokenFile: undefined,
    })
    expect(load(`${sasl}    password: \${file:password.txt}\n`).sasl?.password).toBe('password-from-a-file')
  })

  it('registers passwords for redaction as soon as they are read', () => {
    load('  sasl: { mechanism: PLAIN, username: u, password: "plain-password-9" }\n')
    expect(redact('login with plain-password-9 failed')).toBe('login with [redacted] failed')
  })

  it('fill TLS defaults: hostname verification on', () => {
    expect(load('  tls: { caFile: /etc/ca.pem }\n').tls).toEqual({
      caFile: '/etc/ca.pem',
      certFile: undefined,
      keyFile: undefined,
      keyPassword: undefined,
      verifyHostname: true,
      serverName: undefined,
    })
    expect(load('  tls: true\n').tls?.verifyHostname).toBe(true)
    expect(load('  tls: false\n').tls).toBeUndefined()
  })

  it('take an OAUTHBEARER token file', () => {
    expect(load('  sasl: { mechanism: OAUTHBEARER, tokenFile: /run/token }\n').sasl).toMatchObject({
      mechanism: 'OAUTHBEARER',
      tokenFile: '/run/token',
    })
  })

  it.each([
    [
      '  sasl: { mechanism: SCRAM-SHA-1, username: u, password: p }\n',
      'kafka.sasl.mechanism',
      /one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER/,
    ],
    ['  sasl: { username: u, password: p }\n', 'kafka.sasl.mechanism', /is required/],
    ['  sasl: { mechanism: PLAIN, username: u }\n', 'kafka.sasl', /PLAIN needs both username and password/],
    [
      '  sasl: { mechanism: SCRAM-SHA-256, username: u, password: pw12, token: t123 }\n',
      'kafka.sasl',
      /takes username and password, not a token/,
    ],
    ['  sasl: { mechanism: OAUTHBEARER }\n', 'kafka.sasl', /exactly one of token and tokenFile/],
    [
      '  sasl: { mechanism: OAUTHBEARER, token: t123, username: u }\n',
      'kafka.sasl',
      /a token, not username and password/,
    ],
    [
      '  sasl: { mechanism: PLAIN, user: u, password: p }\n',
      'kafka.sasl.user',
      /unknown option; known options here: mechanism, username/,
    ],
    ['  tls: { certFile: /c.pem }\n', 'kafka.tls', /mutual TLS needs both certFile and keyFile/],
    ['  tls: { verifyHostname: no }\n', 'kafka.tls.verifyHostname', /true or false/],
    ['  tls: { ca: /ca.pem }\n', 'kafka.tls.ca', /unknown option/],
    ['  tls: yes\n', 'kafka.tls', /must be an object/],
  ])('rejects a bad value and names the key (%#)', (kafka, key, message) => {
    const error = failure(kafka)
    expect(error.key).toBe(key)
    expect(error.message).toMatch(message)
  })

  it('never shows a secret value in an error', () => {
    const error = failure('  sasl: { mechanism: PLAIN, username: u, password: 918273645 }\n')
    expect(error.key).toBe('kafka.sasl.password')
    expect(error.message).toMatch(/non-empty string; quote it in YAML \(the value is a secret and is not shown\)/)
    expect(error.message).not.toContain('918273645')
  })
})
