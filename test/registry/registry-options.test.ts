import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfig, registryDefaults } from '../../engine/config/config.js'
import { registryClientFor } from '../../engine/registry/register-source.js'
import { registryOptions } from '../../engine/registry/registry-options.js'
import { subjectName } from '../../engine/registry/subject-name.js'

const base = { capture: { sources: [{ table: 'shop.orders' }] } }

describe('registry options', () => {
  it('defaults to no registry and TopicNameStrategy', () => {
    const config = parseConfig(base, '')
    expect(config.registry).toEqual(registryDefaults)
    expect(registryOptions(config.registry, {})).toBeUndefined()
  })

  it('rejects unknown keys and bad values naming the key', () => {
    expect(() => parseConfig({ ...base, registry: { uri: 'x' } }, '')).toThrow(/registry\.uri: unknown option/)
    expect(() => parseConfig({ ...base, registry: { url: 'ftp://x' } }, '')).toThrow(
      /registry\.url: "ftp:\/\/x" is not valid/,
    )
    expect(() => parseConfig({ ...base, registry: { subjectNameStrategy: 'name' } }, '')).toThrow(
      /registry\.subjectNameStrategy: must be one of topic, record, topic-record/,
    )
    expect(() => parseConfig({ ...base, engine: { format: 'xml' } }, '')).toThrow(/engine\.format: must be one of/)
  })

  it('lets SCHEMA_REGISTRY_* override the file, and reads TLS files once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'th-registry-'))
    writeFileSync(join(dir, 'ca.pem'), 'CA')
    const config = parseConfig({ ...base, registry: { url: 'http://file:8081/', username: 'u', password: 'p' } }, '')
    expect(registryOptions(config.registry, {})).toMatchObject({
      url: 'http://file:8081',
      auth: { username: 'u', password: 'p' },
      subjectNameStrategy: 'topic',
    })
    const env = {
      SCHEMA_REGISTRY_URL: 'https://env:8443/apis/ccompat/v7',
      SCHEMA_REGISTRY_USERNAME: 'eu',
      SCHEMA_REGISTRY_PASSWORD: 'ep',
      SCHEMA_REGISTRY_TLS_CA: join(dir, 'ca.pem'),
    }
    expect(registryOptions(config.registry, env)).toMatchObject({
      url: 'https://env:8443/apis/ccompat/v7',
      auth: { username: 'eu', password: 'ep' },
      tls: { ca: 'CA' },
    })
    expect(() =>
      registryOptions(config.registry, { ...env, SCHEMA_REGISTRY_TLS_CA: join(dir, 'missing.pem') }),
    ).toThrow(/registry\.tlsCa: cannot read .*missing\.pem: ENOENT/)
    expect(() => registryOptions(config.registry, { SCHEMA_REGISTRY_URL: 'nope' })).toThrow(
      /SCHEMA_REGISTRY_URL: "nope" is not a URL/,
    )
    const halfAuth = parseConfig({ ...base, registry: { url: 'http://h:1', username: 'u' } }, '')
    expect(() => registryOptions(halfAuth.registry, {})).toThrow(/registry\.username: and registry\.password/)
  })

  it('requires a registry for the avro and json-schema formats only', () => {
    const avro = parseConfig({ ...base, engine: { format: 'avro' } }, '')
    expect(() => registryClientFor(avro, {})).toThrow(/registry\.url: is required with engine\.format avro/)
    expect(registryClientFor(parseConfig(base, ''), {})).toBeUndefined()
    expect(registryClientFor(avro, { SCHEMA_REGISTRY_URL: 'http://r:8081' })?.options.url).toBe('http://r:8081')
  })

  it('names subjects by each strategy', () => {
    expect(subjectName('topic', 'tailhouse.shop.orders', 'tailhouse.shop.orders.Envelope')).toBe(
      'tailhouse.shop.orders-value',
    )
    expect(subjectName('record', 't', 'tailhouse.shop.orders.Envelope')).toBe('tailhouse.shop.orders.Envelope')
    expect(subjectName('topic-record', 't', 'tailhouse.shop.orders.Envelope')).toBe('t-tailhouse.shop.orders.Envelope')
  })
})
