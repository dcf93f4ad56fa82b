import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { engineDefaults, kafkaDefaults } from '../../engine/config/config.js'
import { loadConfig } from '../../engine/config/load-config.js'
import { requiredAcls } from '../../engine/kafka/required-acls.js'

const capture = { sources: [{ table: 'shop.orders', exclude: [] }] }
const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8')
const security = readme.slice(readme.indexOf('## Security'), readme.indexOf('## Testing'))

const short = (config: Parameters<typeof requiredAcls>[0]) =>
  requiredAcls(config).map((a) => `${a.resourceType} ${a.resource} ${a.patternType} ${a.operation}`)

describe('requiredAcls: the ACLs the engine needs', () => {
  it('exactly-once with the defaults: a prefix for the sources, the checkpoint topic, the transactional id', () => {
    expect(short({ kafka: kafkaDefaults, engine: engineDefaults, capture })).toEqual([
      'Topic tailhouse. PREFIXED WRITE',
      'Topic tailhouse. PREFIXED CREATE',
      'Topic tailhouse.checkpoints LITERAL READ',
      'Topic tailhouse.checkpoints LITERAL WRITE',
      'Topic tailhouse.checkpoints LITERAL CREATE',
      'TransactionalId tailhouse-default- PREFIXED WRITE',
    ])
  })

  it('adds the dead-letter topic only when rows may go there', () => {
    const acls = short({ kafka: kafkaDefaults, engine: { ...engineDefaults, onPoisonRow: 'dead-letter' }, capture })
    expect(acls).toContain('Topic tailhouse.dead-letter LITERAL WRITE')
    expect(acls).toContain('Topic tailhouse.dead-letter LITERAL CREATE')
  })

  it('at-least-once: no transactional id, no checkpoint READ or WRITE', () => {
    const kafka = { ...kafkaDefaults, delivery: 'at-least-once' as const }
    expect(short({ kafka, engine: engineDefaults, capture })).toEqual([
      'Topic tailhouse. PREFIXED WRITE',
      'Topic tailhouse. PREFIXED CREATE',
      'Topic tailhouse.checkpoints LITERAL CREATE',
    ])
  })

  it('literal source topics when the template starts with a placeholder, or has none', () => {
    const two = { sources: [...capture.sources, { table: 'shop.items', exclude: [] }] }
    const placeholder = { ...kafkaDefaults, topicTemplate: '{database}.{table}' }
    expect(short({ kafka: placeholder, engine: engineDefaults, capture: two }).slice(0, 4)).toEqual([
      'Topic shop.orders LITERAL WRITE',
      'Topic shop.orders LITERAL CREATE',
      'Topic shop.items LITERAL WRITE',
      'Topic shop.items LITERAL CREATE',
    ])
    const fixed = { ...kafkaDefaults, topicTemplate: 'all-rows' }
    expect(short({ kafka: fixed, engine: engineDefaults, capture: two }).slice(0, 2)).toEqual([
      'Topic all-rows LITERAL WRITE',
      'Topic all-rows LITERAL CREATE',
    ])
  })
})

describe('README.md, "Security"', () => {
  it('lists exactly the ACLs requiredAcls gives for the defaults, dead-letter included', () => {
    const table = security.slice(security.indexOf('### Kafka ACLs'), security.indexOf('```sh'))
    const rows = table
      .split('\n')
      .filter((l) => /^\| (Topic|TransactionalId)/.test(l))
      .map((l) => l.split('|').map((c) => c.trim()))
      .map(([, type, resource, operation]) => {
        const name = /`([^`]+)`/.exec(resource ?? '')?.[1]?.replace('<engine.id>', engineDefaults.id)
        return `${type} ${name} ${/prefixed/.test(resource ?? '') ? 'PREFIXED' : 'LITERAL'} ${operation}`
      })
    const engine = { ...engineDefaults, onPoisonRow: 'dead-letter' as const }
    expect(rows.sort()).toEqual(short({ kafka: kafkaDefaults, engine, capture }).sort())
  })

  it('shows a config that loads', () => {
    const yaml = /```yaml\n(kafka:[\s\S]*?)```/.exec(security)?.[1] ?? ''
    const dir = mkdtempSync(join(tmpdir(), 'tailhouse-readme-'))
    writeFileSync(join(dir, 'kafka-password'), 'from-a-file\n')
    writeFileSync(
      join(dir, 'tailhouse.config.yaml'),
      `capture:\n  sources:\n    - table: shop.orders\n${yaml.replace('/run/secrets/kafka-password', 'kafka-password')}`,
    )
    const { kafka } = loadConfig(undefined, dir, {}).config
    expect(kafka.sasl).toMatchObject({ mechanism: 'SCRAM-SHA-512', username: 'tailhouse', password: 'from-a-file' })
    expect(kafka.tls).toMatchObject({ caFile: '/etc/tailhouse/kafka-ca.pem', verifyHostname: true })
  })
})
