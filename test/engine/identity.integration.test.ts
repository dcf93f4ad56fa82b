import { describe, expect, it } from 'vitest'
import { readChangelogIdentity } from '../../engine/capture/identity.js'
import { startEngine } from '../../engine/start-engine.js'
import { engineFixture, readTopic, testLogger, waitFor } from '../helpers/engine.js'

/**
 * A checkpoint belongs to one set of changelogs: two projects on one Kafka, with the same engine id and checkpoint
 * topic (the defaults), never take each other's position; an offsets file of other changelogs stops the engine.
 */
describe('engine: checkpoints bound to their changelogs', () => {
  async function project(name: string) {
    const f = await engineFixture((db) => [{ table: `${db}.t`, exclude: [] }])
    await f.client.command({ query: `CREATE TABLE ${f.sourceDb}.t (id UInt64) ENGINE = MergeTree ORDER BY id` })
    await f.migrate()
    return Object.assign(f, { name })
  }

  it('a second project with the same engine id and checkpoint topic publishes all of its own rows', async () => {
    const a = await project('a')
    const b = await project('b')
    // The same engine id and checkpoint topic for both, as two projects left at their defaults would have.
    b.config.engine.id = a.config.engine.id
    b.config.kafka.checkpointTopic = a.config.kafka.checkpointTopic
    expect(await readChangelogIdentity(a.client, a.database)).not.toBe(
      await readChangelogIdentity(b.client, b.database),
    )

    await a.client.command({ query: `INSERT INTO ${a.sourceDb}.t SELECT number FROM numbers(30)` })
    const engineA = await startEngine({ config: a.config, client: a.client, logger: testLogger() })
    await waitFor('a published 30', () => engineA.status().rowsPublished === 30n)
    // B's rows are in blocks 1–3 of its own changelog, below A's cursor: they must not be skipped.
    for (let i = 0; i < 3; i++)
      await b.client.command({ query: `INSERT INTO ${b.sourceDb}.t SELECT number FROM numbers(${i * 10}, 10)` })
    const engineB = await startEngine({ config: b.config, client: b.client, logger: testLogger() })
    await waitFor('b published 30', () => engineB.status().rowsPublished === 30n)
    // Both run side by side: neither fences the other.
    await a.client.command({ query: `INSERT INTO ${a.sourceDb}.t SELECT number + 30 FROM numbers(5)` })
    await waitFor('a published 35', () => engineA.status().rowsPublished === 35n)
    expect(engineA.status().state).toBe('running')
    expect(engineB.status().state).toBe('running')
    await Promise.all([engineA.stop(), engineB.stop()])
    expect(await readTopic(a.kafkaBootstrap, a.topic('t'))).toHaveLength(35)
    expect(await readTopic(b.kafkaBootstrap, b.topic('t'))).toHaveLength(30)

    // Restarted, each resumes from its own checkpoint.
    await b.client.command({ query: `INSERT INTO ${b.sourceDb}.t VALUES (99)` })
    const again = await startEngine({ config: b.config, client: b.client, logger: testLogger() })
    await waitFor('b published 31', () => again.status().rowsPublished === 31n)
    await again.stop()
    expect(await readTopic(b.kafkaBootstrap, b.topic('t'))).toHaveLength(31)
  })

  it("stops, naming both, when its offsets file holds the position in another project's changelogs", async () => {
    const a = await project('a')
    const b = await project('b')
    b.config.engine.id = a.config.engine.id
    b.config.engine.offsetsPath = a.config.engine.offsetsPath
    await a.client.command({ query: `INSERT INTO ${a.sourceDb}.t VALUES (1)` })
    const engineA = await startEngine({ config: a.config, client: a.client, logger: testLogger() })
    await waitFor('a published', () => engineA.status().rowsPublished === 1n)
    await engineA.stop()

    const engineB = await startEngine({ config: b.config, client: b.client, logger: testLogger() })
    const exit = await engineB.done
    expect(exit.reason).toBe('failed')
    const idA = await readChangelogIdentity(a.client, a.database)
    const idB = await readChangelogIdentity(b.client, b.database)
    expect(exit.error?.message).toContain(`offsets file ${a.config.engine.offsetsPath}`)
    expect(exit.error?.message).toContain(
      `capture database ${a.database} on the application's ClickHouse client (identity ${idA}`,
    )
    expect(exit.error?.message).toContain(
      `capture database ${b.database} on the application's ClickHouse client (identity ${idB})`,
    )
    expect(exit.error?.message).toMatch(/own engine\.offsetsPath or another engine\.id/)
    expect(await readTopic(b.kafkaBootstrap, b.topic('t'))).toHaveLength(0)
  })
})
