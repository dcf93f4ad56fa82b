import { describe, expect, inject, it } from 'vitest'
import { readRegistry } from '../../engine/capture/registry.js'
import { registryDefaults } from '../../engine/config/config.js'
import { requestJson } from '../../engine/registry/http-json.js'
import { startEngine } from '../../engine/start-engine.js'
import { engineFixture, testLogger } from '../helpers/engine.js'

/**
 * `migrate` and `start` with a schema registry (the local stack's Apicurio): migrate registers each version before
 * installing it, so a change the subject's compatibility level refuses leaves capture at the previous version and
 * names the column; start refuses a version the registry does not hold.
 */
describe('migrate and start with a schema registry', () => {
  it('registers v1, refuses an incompatible v2 before installing it, and start refuses an unregistered version', async () => {
    const { schemaRegistryUrl } = inject('stack')
    const f = await engineFixture((db) => [{ table: `${db}.orders`, exclude: [], key: ['id'] }], { format: 'avro' })
    f.config.registry = { ...registryDefaults, url: schemaRegistryUrl }
    const table = `${f.sourceDb}.orders`
    const subject = `${f.topic('orders')}-value`
    await f.client.command({ query: `CREATE TABLE ${table} (id UInt64, qty UInt32) ENGINE = MergeTree ORDER BY id` })
    const first = await f.migrate()
    expect(first.ok).toBe(true)
    const options = { url: schemaRegistryUrl, subjectNameStrategy: 'topic' as const, timeoutMs: 10_000 }
    const set = await requestJson(options, 'PUT', `/config/${encodeURIComponent(subject)}`, {
      compatibility: 'BACKWARD',
    })
    expect(set.status).toBe(200)

    // A type change the BACKWARD level refuses: the source stays at version 1, its view unchanged.
    await f.client.command({ query: `ALTER TABLE ${table} MODIFY COLUMN qty String` })
    const second = await f.migrate()
    expect(second.ok).toBe(false)
    const failed = second.sources.find((s) => s.source === table)
    expect(failed?.action).toBe('failed')
    expect(failed?.error?.message).toMatch(
      /refuses .*orders schema version 2 under compatibility BACKWARD: columns qty/,
    )
    expect((await readRegistry(f.client, f.database)).map((v) => v.version)).toEqual([1])

    // A compatible change (a new column) is registered and installed as version 2.
    await f.client.command({ query: `ALTER TABLE ${table} MODIFY COLUMN qty UInt32` })
    await f.client.command({ query: `ALTER TABLE ${table} ADD COLUMN note String` })
    const third = await f.migrate()
    expect(third.ok).toBe(true)
    expect((await readRegistry(f.client, f.database)).map((v) => v.version)).toEqual([1, 2])

    // The same capture against an empty subject (another topic): start says to run migrate.
    f.config.kafka.topicTemplate = `${f.config.kafka.topicTemplate}.unregistered`
    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    const exit = await engine.done
    expect(exit.reason).toBe('failed')
    expect(exit.error?.message).toMatch(/holds no avro schema of .*orders version 1: run `tailhouse migrate`/)
  })
})
