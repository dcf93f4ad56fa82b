import { describe, expect, inject, it } from 'vitest'
import { readRegistry } from '../../engine/capture/registry.js'
import { registryDefaults } from '../../engine/config/config.js'
import { createMessageEncoder, type EnvelopeFields } from '../../engine/encoding/row-encoder.js'
import { schemaRegistrationFor } from '../../engine/registry/source-registration.js'
import { toCapturedColumn } from '../../engine/schema/parse-clickhouse-type.js'
import { startEngine } from '../../engine/start-engine.js'
import { rows } from '../helpers/clickhouse.js'
import { engineFixture, testLogger, waitFor } from '../helpers/engine.js'
import { testTopic } from '../helpers/kafka.js'
import { publishCommitted } from './publish.js'
import { runPython } from './python.js'

/**
 * A Quix Streams application (PyPI quixstreams, test/consumers/quix_paid_orders.py) consumes the Avro topic the
 * engine published (schema registered by migrate) read_committed with processing_guarantee exactly-once, gets each row as typed values from the registry's
 * AvroDeserializer in one step, keeps paid orders and counts them per customer: the counts and the amount sum
 * must equal what the source table says. An aborted transaction of extra paid orders must not count.
 */
describe('Quix Streams consumer', () => {
  it('filters and counts the rows of an Avro topic the engine published, read_committed, matching the source table', async () => {
    const { schemaRegistryUrl } = inject('stack')
    const f = await engineFixture((db) => [{ table: `${db}.orders`, exclude: [], key: ['id'] }], { format: 'avro' })
    f.config.registry = { ...registryDefaults, url: schemaRegistryUrl }
    const table = `${f.sourceDb}.orders`
    const topic = f.topic('orders')
    const kafkaBootstrap = f.kafkaBootstrap
    await f.client.command({
      query: `CREATE TABLE ${table} (id UInt64, customer String, status LowCardinality(String), amount Decimal(10, 2),
              created DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY id`,
    })
    await f.migrate()
    await f.client.command({
      query: `INSERT INTO ${table} SELECT number, concat('c', toString(number % 7)),
              ['new', 'paid', 'cancelled'][number % 3 + 1], number * 1.25,
              toDateTime64('2026-07-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(number * 1001)
              FROM numbers(300)`,
    })
    const [version] = await readRegistry(f.client, f.database)
    if (!version) throw new Error('nothing registered')

    // An aborted transaction of extra paid orders, in the registered schema: a read_committed reader never counts them.
    const schemaId = await schemaRegistrationFor(f.config)?.schemaId(version)
    if (schemaId === undefined) throw new Error('migrate registered no schema')
    const encoder = createMessageEncoder('avro', {
      protoText: '',
      columns: version.columns.map((c) => toCapturedColumn(version.source, c.name, c.type)),
      fieldNumbers: version.fieldNumbers,
      options: { timestamps: f.config.protobuf.timestamps, enums: f.config.protobuf.enums },
      source: table,
      version: version.version,
      registry: { schemaId },
    })
    const phantom = Array.from({ length: 20 }, (_, i) => {
      const row = { id: 1000n + BigInt(i), customer: Buffer.from('c0'), status: Buffer.from('paid'), amount: '1.00' }
      const fields: EnvelopeFields = {
        source: table,
        op: 'insert',
        schemaVersion: version.version,
        partitionId: 'all',
        blockNumber: 1n,
        blockOffset: BigInt(i),
        queryId: 'q',
        ingestTimeMicros: 1783339200000000n,
      }
      return { key: String(row.id), value: encoder.encode(fields, { ...row, created: 0n }) }
    })
    await testTopic(kafkaBootstrap, topic, 3)
    await publishCommitted(kafkaBootstrap, topic, [], phantom)

    const engine = await startEngine({ config: f.config, client: f.client, logger: testLogger() })
    await waitFor('300 rows published', () => engine.status().rowsPublished === 300n)
    await engine.stop()

    const [result] = (await runPython('quix_paid_orders.py', [
      '--bootstrap',
      kafkaBootstrap,
      '--registry',
      schemaRegistryUrl,
      '--topic',
      topic,
    ])) as Array<{ paid_per_customer: Record<string, number>; paid_amount: string; sample: Record<string, unknown> }>

    const truth = await rows<{ customer: string; paid: string }>(
      f.client,
      `SELECT customer, count() AS paid FROM ${table} WHERE status = 'paid' GROUP BY customer`,
    )
    const [{ total } = { total: '' }] = await rows<{ total: string }>(
      f.client,
      `SELECT toString(sum(amount)) AS total FROM ${table} WHERE status = 'paid'`,
    )
    expect(result?.paid_per_customer).toEqual(Object.fromEntries(truth.map((r) => [r.customer, Number(r.paid)])))
    expect(Number(result?.paid_amount)).toBe(Number(total))
    // Typed in one step: the amount is a Decimal, the time a datetime, the text bytes, the UInt64 an exact Decimal.
    expect(result?.sample).toMatchObject({
      id: { decimal: expect.stringMatching(/^\d+$/) },
      customer: { bytes: expect.any(String) },
      status: { bytes: Buffer.from('paid').toString('base64') },
      amount: { decimal: expect.stringMatching(/^\d+\.\d{2}$/) },
      created: { datetime: expect.stringMatching(/^2026-07-01T\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/) },
    })
  })
})
