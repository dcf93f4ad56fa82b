// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings under test are ${…} references, not templates
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { interpolate } from '../../engine/config/interpolate.js'
import { ConfigError } from '../../engine/errors.js'

const secretsDir = mkdtempSync(join(tmpdir(), 'tailhouse-secrets-'))
writeFileSync(join(secretsDir, 'kafka-password'), 's3cret-from-file\n')
writeFileSync(join(secretsDir, 'two-lines'), 'line one\nline two\n\n')

const sources = { env: { KAFKA_PW: 's3cret-from-env', EMPTY: '' }, baseDir: secretsDir }

function failure(value: unknown): ConfigError {
  try {
    interpolate(value, sources)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('${env:…} and ${file:…} in config values', () => {
  it('replaces references in every string, at any depth, and leaves other values alone', () => {
    const raw = {
      kafka: {
        brokers: ['${env:KAFKA_PW}:9092'],
        sasl: { password: '${env:KAFKA_PW}', token: '${file:kafka-password}' },
        partitions: 6,
        tls: true,
      },
      note: `a \${env:KAFKA_PW} b \${file:${join(secretsDir, 'kafka-password')}} c`,
      empty: '${env:EMPTY}',
    }
    expect(interpolate(raw, sources)).toEqual({
      kafka: {
        brokers: ['s3cret-from-env:9092'],
        sasl: { password: 's3cret-from-env', token: 's3cret-from-file' },
        partitions: 6,
        tls: true,
      },
      note: 'a s3cret-from-env b s3cret-from-file c',
      empty: '',
    })
  })

  it('drops one trailing newline of a file, keeps the rest', () => {
    expect(interpolate('${file:two-lines}', sources)).toBe('line one\nline two\n')
  })

  it('keeps $${…} as a literal ${…} and text without references as it is', () => {
    expect(interpolate('cost: $${env:KAFKA_PW} and {database}', sources)).toBe('cost: ${env:KAFKA_PW} and {database}')
  })

  it('names the key and the variable when a variable is not set, never a value', () => {
    const error = failure({ kafka: { sasl: { password: '${env:NOPE_NOT_SET}' } } })
    expect(error.key).toBe('kafka.sasl.password')
    expect(error.message).toBe(
      'kafka.sasl.password: ${env:NOPE_NOT_SET}: the environment variable NOPE_NOT_SET is not set',
    )
  })

  it('names the key and the file when a file cannot be read', () => {
    const error = failure({ clickhouse: { password: '${file:missing/secret}' } })
    expect(error.key).toBe('clickhouse.password')
    expect(error.message).toContain(
      `\${file:missing/secret}: cannot read ${join(secretsDir, 'missing/secret')}: ENOENT`,
    )
  })

  it('names the list position of a bad reference', () => {
    expect(failure({ kafka: { brokers: ['a:1', '${env:ALSO_NOT_SET}'] } }).key).toBe('kafka.brokers[1]')
  })

  it.each([
    ['${vault:kafka}', /\$\{vault:…\} is not a known reference; use \$\{env:NAME\} or \$\{file:\/path\}/],
    ['${env:not a name}', /"not a name" is not an environment variable name/],
    ['${file:}', /no path given/],
  ])('refuses %s', (value, message) => {
    expect(failure({ x: value }).message).toMatch(message)
  })
})
