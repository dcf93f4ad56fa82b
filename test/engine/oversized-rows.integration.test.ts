import { describe, expect, it } from 'vitest'
import { startEngine } from '../../engine/start-engine.js'
import { engineFixture, readTopic, waitFor } from '../helpers/engine.js'
import { capturingLogger, sample } from '../helpers/observe.js'

/**
 * Rows too large for Kafka (ARCHITECTURE.md, "Poison and oversized rows"): a 5 MB row among small ones, with the
 * default kafka.maxMessageBytes (1048588, Kafka's default) on topics the engine creates. With onPoisonRow: stop the
 * engine stops before it, naming source, cursor, size and limit; with dead-letter it goes to the dead-letter topic
 * (reason and cursor, no value: it cannot fit there either) and every other row is published, with a warning and
 * tailhouse_dead_letter_rows_total. Rows that fit but whose batch would not are sent in several record batches.
 */
async function fixture(onPoisonRow: 'stop' | 'dead-letter') {
  const f = await engineFixture((db) => [{ table: `${db}.docs`, exclude: [], key: ['id'] }], {
    onPoisonRow,
    batchMaxRows: 100,
  })
  const table = `${f.sourceDb}.docs`
  await f.client.command({ query: `CREATE TABLE ${table} (id UInt64, body String) ENGINE = MergeTree ORDER BY id` })
  await f.migrate()
  await f.client.command({ query: `INSERT INTO ${table} SELECT number, 'small' FROM numbers(1, 10)` })
  // randomString: incompressible, so no compression could make it fit.
  await f.client.command({ query: `INSERT INTO ${table} SELECT 11, randomString(5000000)` })
  await f.client.command({ query: `INSERT INTO ${table} SELECT number, 'small' FROM numbers(12, 10)` })
  return { f, table }
}

describe('engine: rows over kafka.maxMessageBytes', () => {
  it('stops before a 5 MB row, naming source, cursor, size and limit, with the rows before it published', async () => {
    const { f, table } = await fixture('stop')
    const engine = await startEngine({ config: f.config, client: f.client, logger: capturingLogger() })
    const exit = await engine.done
    expect(exit.reason).toBe('failed')
    expect(exit.error?.message).toMatch(
      new RegExp(
        `changelog row ${table}/all:\\d+:0 of ${table} makes a 5000\\d{3}-byte message, over kafka.maxMessageBytes \\(1048588\\).*Raise kafka.maxMessageBytes`,
      ),
    )
    const published = await readTopic(f.kafkaBootstrap, f.topic('docs'))
    expect(published.map((m) => Number(m.key)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 1),
    )
  })

  it('dead-letters a 5 MB row with its reason and cursor, says so, counts it, and publishes every other row', async () => {
    const { f, table } = await fixture('dead-letter')
    const logger = capturingLogger()
    const engine = await startEngine({ config: f.config, client: f.client, logger })
    await waitFor('21 rows past', () => engine.status().rowsPublished === 21n)
    const metrics = await (await fetch(`${engine.status().httpUrl}/metrics`)).text()
    expect(engine.status().rowsDeadLettered).toBe(1n)
    await engine.stop()

    expect(sample(metrics, 'tailhouse_dead_letter_rows_total', { source: table })).toBe(1)
    expect(sample(metrics, 'tailhouse_published_rows_total', { source: table })).toBe(20)
    const warning = logger.lines.find((l) => l.level === 'warn' && l.message.startsWith('dead-lettered'))
    expect(warning?.message).toMatch(
      new RegExp(`dead-lettered changelog row ${table}/all:\\d+:0 of ${table}: the message is 5000\\d{3} bytes`),
    )

    const published = await readTopic(f.kafkaBootstrap, f.topic('docs'))
    const ids = published.map((m) => Number(m.key)).sort((a, b) => a - b)
    expect(ids).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i + 1),
      ...Array.from({ length: 10 }, (_, i) => i + 12),
    ])
    const dead = await readTopic(f.kafkaBootstrap, f.config.kafka.deadLetterTopic)
    expect(dead).toHaveLength(1)
    expect(dead[0]?.key).toBe(table)
    expect(dead[0]?.value.length).toBe(0)
    expect(dead[0]?.headers['tailhouse.cursor']).toMatch(new RegExp(`^${table}/all:\\d+:0$`))
    expect(dead[0]?.headers['tailhouse.error']).toMatch(
      /the message is 5000\d{3} bytes, over kafka.maxMessageBytes \(1048588\); the row is left out \(read it at tailhouse.cursor\)/,
    )
  })

  it('sends a batch larger than max.message.bytes per partition in several record batches', async () => {
    // No key: every message goes to partition 0; 12 rows of 300 KB are 3.6 MB in one 4 MB batch.
    const f = await engineFixture((db) => [{ table: `${db}.blobs`, exclude: [] }])
    const table = `${f.sourceDb}.blobs`
    await f.client.command({ query: `CREATE TABLE ${table} (id UInt64, body String) ENGINE = MergeTree ORDER BY id` })
    await f.migrate()
    await f.client.command({ query: `INSERT INTO ${table} SELECT number, randomString(300000) FROM numbers(12)` })
    const engine = await startEngine({ config: f.config, client: f.client, logger: capturingLogger() })
    await waitFor('12 rows published', () => engine.status().rowsPublished === 12n)
    expect(engine.status().batches).toBe(1)
    await engine.stop()
    const published = await readTopic(f.kafkaBootstrap, f.topic('blobs'))
    expect(published).toHaveLength(12)
    expect(new Set(published.map((m) => m.partition))).toEqual(new Set([0]))
    expect(published.every((m) => m.value.length > 300_000)).toBe(true)
  })
})
